/*
 * The pure checks on an HTTP request's headers, apart from lws so they can be fuzzed and
 * tested on plain strings: Host / Origin against the allow-lists, Accept for MCP's Streamable
 * HTTP, Content-Type for JSON bodies and the bearer token in Authorization. Any thread.
 */
#ifndef DROVER_NET_REQCHECK_H
#define DROVER_NET_REQCHECK_H

#include <stdbool.h>

#include "core/cfg.h"

/*
 * Host and Origin against the allow-lists (DNS-rebinding and cross-site protection).
 * `origin` / `host` are the header values or NULL when absent; *_toolong marks a header that
 * came but did not fit the server's buffer (always refused).
 */
bool reqcheck_origin(const struct cfg *c, const char *origin, bool origin_toolong, const char *host,
                     bool host_toolong);

/* Accept names both application/json (or any type) and text/event-stream. NULL: false. */
bool reqcheck_accept(const char *accept);

/* Content-Type is application/json, optionally with parameters. NULL: false. */
bool reqcheck_ctype_json(const char *ctype);

/* The token in an "Authorization: Bearer <token>" value, or NULL (borrowed from `auth`). */
const char *reqcheck_bearer(const char *auth);

/* A Content-Length value: its length, or -2 unless it is only digits (a sign, "-5", a list or
 * an overflow is -2: the request is refused and the connection closed, never read as no body). */
long long reqcheck_content_length(const char *v);

#endif
