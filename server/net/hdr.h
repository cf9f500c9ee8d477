/*
 * Reading a request's headers off an lws connection into bounded buffers, and the header
 * checks that need the connection (the pure ones over plain strings are net/reqcheck.h).
 * Service thread only: a wsi's headers can be read only in the callback that has it.
 */
#ifndef DROVER_NET_HDR_H
#define DROVER_NET_HDR_H

#include <libwebsockets.h>
#include <stdbool.h>

#include "core/cfg.h"

/* Copy header `t` into out[outsz]. The length, -1 when absent (out is ""), -2 when present
 * but longer than the buffer. */
int hdr_copy(struct lws *wsi, enum lws_token_indexes t, char *out, int outsz);

/* The same for a header lws has no token for; `name` is lower case with its colon. */
int hdr_custom(struct lws *wsi, const char *name, char *out, int outsz);
/*
 * The webhook headers of a forge delivery (signatures, event names, delivery ids) as
 * "name: value\n" lines with lower-case names, or NULL when none came. Owned.
 */
char *hdr_hooks(struct lws *wsi);

/* A custom header of at most `max` - 1 bytes, owned, or NULL (absent or too long). */
char *hdr_custom_dup(struct lws *wsi, const char *name, int max);

/* The bearer token from Authorization (owned), or NULL. */
char *hdr_bearer(struct lws *wsi);

/* Host and Origin against the allow-lists (DNS-rebinding and cross-site protection). */
bool hdr_origin_ok(const struct cfg *cfg, struct lws *wsi);

/* Accept names both application/json and text/event-stream (MCP Streamable HTTP). */
bool hdr_accept_ok(struct lws *wsi);

/* Content-Type is application/json. */
bool hdr_ctype_json(struct lws *wsi);

/* The method ("GET", "POST", ...) with the path copied into uri[urisz], or NULL when the
 * method is not one droverd serves or the path does not fit. */
const char *hdr_method(struct lws *wsi, char *uri, int urisz);

/* Content-Length, -1 when absent, -2 when it is not a plain decimal number (reqcheck). */
long long hdr_content_length(struct lws *wsi);

/* The query string, owned: lws splits it into fragments, joined back here with '&' (at most
 * 32 fragments and 1 KiB; what does not fit is left out). */
char *hdr_query(struct lws *wsi);

#endif
