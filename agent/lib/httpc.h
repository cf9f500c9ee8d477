/*
 * JSON over HTTP for the agent side: the transport under the agent's MCP client and
 * droverctl's REST calls, on the shared client (core/http.h: no redirects, bounded bodies). It
 * adds a base URL, the bearer token, the JSON body and reply, and the Mcp-Session-Id header.
 * One `struct httpc` per thread (its handle is not shared); keep-alive is reused across
 * requests.
 */
#ifndef DROVER_AGENT_HTTPC_H
#define DROVER_AGENT_HTTPC_H

#include <jansson.h>
#include <stddef.h>

#include "core/err.h"
#include "core/http.h"

struct httpc {
    struct http http; /* the reusable handle */
    char *base_url;   /* owned, no trailing slash: "http://127.0.0.1:8080" */
    char *token;      /* owned bearer token, or NULL; never logged */
    long timeout_s;   /* default per-request timeout */
    /* When set and non-zero (e.g. by a signal handler), a transfer in flight is abandoned
     * (ERR_UNAVAILABLE) within about a second: lets a long poll end promptly on SIGTERM. */
    volatile const int *abort_flag;
};

struct httpc_resp {
    long status;
    char *body; /* owned, NUL-terminated */
    size_t len;
    json_t *json;       /* owned; NULL when the body is not JSON */
    char *content_type; /* owned, or NULL */
    char *session_id;   /* owned Mcp-Session-Id response header, or NULL */
};

/* Prepare a client for `base_url` with an optional bearer token. */
int httpc_init(struct httpc *c, const char *base_url, const char *token, struct err *err);
void httpc_clear(struct httpc *c);

/*
 * Send `method` to `path` (appended to the base URL; a full http(s) URL is used as is) with
 * an optional JSON body and extra "Name: value" headers (NULL-terminated array, may be NULL).
 * `timeout_s` 0 means the client's default. Returns 0 when an HTTP response arrived (any
 * status: the caller looks at resp->status), or -1 with ERR_UNAVAILABLE when none did.
 */
int httpc_request(struct httpc *c, const char *method, const char *path, const json_t *body,
                  const char *const *headers, long timeout_s, struct httpc_resp *resp,
                  struct err *err);

void httpc_resp_clear(struct httpc_resp *r);

/* The error message of a JSON error body ({"error": {"message"}} or {"error": "..."}), or NULL. */
const char *httpc_error_message(const struct httpc_resp *r);

#endif
