/*
 * An MCP client for drover-agent and droverctl, over Streamable HTTP (http://…/mcp) or
 * droverd's WebSocket endpoint (ws://…/ws, subprotocol "mcp", one JSON-RPC message per text
 * frame), in whichever era the server speaks: mcpc_initialize probes with server/discover
 * (2026-07-28, stateless: every request then carries _meta and, over HTTP, MCP-Protocol-Version,
 * Mcp-Method and Mcp-Name) and falls back to initialize (2025-11-25: version negotiation,
 * Mcp-Session-Id over HTTP) when the server does not answer it; then tools/call returning the
 * tool's structured result.
 * Blocking; one `struct mcpc` per thread (it owns a libcurl handle).
 *
 * Errors: transport failures are ERR_UNAVAILABLE; HTTP 401 ERR_UNAUTHORIZED, 403
 * ERR_FORBIDDEN; a JSON-RPC error maps by code (-32602 ERR_INVALID, -32601 ERR_NOT_FOUND, else
 * ERR_INTERNAL); a tool result with isError maps the server's error code name
 * ("stale_epoch", "conflict", ...) back to the err_code, with the server's message.
 * A session the server no longer knows (404) is re-initialized once, transparently.
 */
#ifndef DROVER_AGENT_MCPC_H
#define DROVER_AGENT_MCPC_H

#include <jansson.h>
#include <stdbool.h>

#include "core/err.h"
#include "httpc.h"
#include "wsc.h"

#define MCPC_PROTOCOL_VERSION "2025-11-25" /* the legacy version asked for in initialize */
#define MCPC_MODERN_VERSION "2026-07-28"   /* the modern version probed first */

struct mcpc {
    struct httpc http;
    char *url;              /* owned: the MCP endpoint, e.g. http://127.0.0.1:8080/mcp */
    char *session_id;       /* owned, or NULL (stateless server) */
    char *protocol_version; /* owned: what the server agreed to */
    char *client_name;      /* owned */
    long long next_id;
    json_t *server_info; /* owned: the InitializeResult's serverInfo */
    struct wsc *ws;      /* owned: the WebSocket transport, or NULL for HTTP */
    bool modern;         /* the server answered server/discover: 2026-07-28, no session */
    bool legacy_only;    /* set before mcpc_initialize to skip the probe */
};

/*
 * `url` is the server's base URL or its MCP endpoint: http(s)://host[:port][/mcp] (".../mcp"
 * is appended when the path is empty) or ws://host[:port][/ws] (likewise "/ws"); `token` the
 * bearer token (may be NULL; never logged). A dropped WebSocket is reconnected (and
 * re-initialized) on the next call.
 */
int mcpc_init(struct mcpc *m, const char *url, const char *token, struct err *err);
void mcpc_clear(struct mcpc *m);

/*
 * Find the server's era: server/discover (2026-07-28) first, unless legacy_only; when that is
 * not understood (any answer but an auth refusal or an outage), initialize +
 * notifications/initialized. 0 or -1.
 */
int mcpc_initialize(struct mcpc *m, const char *client_name, const char *client_version,
                    struct err *err);

/*
 * tools/call `name` with `args` (borrowed; NULL = {}). *result = the structuredContent (owned),
 * or the parsed content[0].text when the server sent no structuredContent. `timeout_s` bounds
 * the HTTP exchange (long polls pass their wait plus a margin); 0 = the client default.
 */
int mcpc_call(struct mcpc *m, const char *name, const json_t *args, long timeout_s, json_t **result,
              struct err *err);

/* The err_code for a server error name ("not_found", "stale_epoch", ...); ERR_INTERNAL if unknown.
 */
enum err_code mcpc_err_code(const char *name);

/*
 * The JSON-RPC response with `id` in a text/event-stream body (the events' data lines), or
 * NULL. Owned. Pure; the fuzzer reaches it through this header.
 */
json_t *mcpc_sse_find(const char *body, long long id);

#endif
