/*
 * MCP method dispatch over JSON-RPC: initialize (version negotiation), ping, tools/list,
 * tools/call, logging/setLevel and the notifications. Transport-independent: /mcp, /rpc,
 * /tools/call and /ws all end here (through mcp_serve.h). Runs on a worker thread with that
 * worker's service context; never touches lws.
 */
#ifndef DROVER_MCP_MCP_H
#define DROVER_MCP_MCP_H

#include <jansson.h>
#include <stdbool.h>

#include "core/principal.h"
#include "svc/svc.h"
#include "svc/svc_sessions.h"

#define MCP_VERSION_LATEST "2025-11-25" /* the newest legacy (initialize-based) version */
#define MCP_VERSION_MODERN "2026-07-28" /* the stateless era (mcp_modern.h) */
#define MCP_SERVER_VERSION "0.1.0"
#define MCP_STREAM_ARG_MAX 1024 /* a subscriptions/listen stream's state (mcp_listen.h) */

/* Everything one message is handled with, plus what it asks the transport to do afterwards. */
struct mcp_ctx {
    struct svc_ctx *svc;         /* the worker's: environment and connection */
    const struct principal *who; /* the caller (auth off: scope NONE) */
    const char *agent_hint;      /* auth off only: X-Agent-ID, else NULL */
    const char *session_id;      /* /mcp with a session, else NULL */
    bool sessions;               /* initialize creates a session (/mcp) */
    bool allow_park;             /* get_next_task may ask to be held */
    bool seed;                   /* a seed endpoint: the seed's argument shapes (mcp/seed.h) */
    /* 2026-07-28 (mcp_modern.h): the request's own metadata, borrowed from the message. */
    bool modern;
    const json_t *client_caps; /* _meta io.modelcontextprotocol/clientCapabilities */
    /* Outputs. */
    char new_session[SVC_SESSIONS_ID_LEN]; /* set by initialize when `sessions` */
    int park_seconds;                      /* > 0: hold this request and retry the claim */
    json_t *park_id;                       /* the JSON-RPC id of the held request (owned) */
    json_t *cancel_id;                     /* notifications/cancelled requestId (owned) */
    /* subscriptions/listen (mcp_listen.h): the transport may answer with an event stream
     * (POST /mcp) and, when `listen` is set, does, with the stream's state in listen_arg. */
    bool can_stream, listen;
    char listen_arg[MCP_STREAM_ARG_MAX];
};

void mcp_ctx_clear(struct mcp_ctx *c);

/* What the server tells models about itself (initialize and server/discover). */
const char *mcp_instructions(void);

/* True for a legacy-era protocol version this server speaks (initialize, sessions). */
bool mcp_version_supported(const char *v);

/*
 * Reply bodies the transports send without a worker (net/). Any thread; each returns a new
 * reference.
 *
 * mcp_reply_held_empty: a held get_next_task that ends with no task (its deadline, a cancel,
 * shutdown): {"task": null} as a tool result, bare for /tools/call (`tool_call`), else the
 * JSON-RPC result for `id` (NULL: null), with resultType when the request was `modern`.
 * mcp_reply_transport_error: an error of the transport itself (bad Origin, wrong method, a full
 * queue ...): the JSON-RPC error without an id that the SDKs send; the HTTP status is the
 * transport's.
 * mcp_reply_version_unsupported: an MCP-Protocol-Version this server does not speak, with the
 * versions it does; `v` NULL: the header was too long to repeat.
 */
json_t *mcp_reply_held_empty(bool tool_call, bool modern, const json_t *id);
json_t *mcp_reply_transport_error(int code, const char *msg);
json_t *mcp_reply_version_unsupported(const char *v);

/*
 * Handle one message (object) or a batch (array; only with protocol 2025-03-26, `version`).
 * *reply is the response to send (object or array), or NULL when nothing is answered
 * (notifications, client responses, or a held request: see park_seconds).
 */
void mcp_handle(struct mcp_ctx *c, const json_t *msg, const char *version, json_t **reply);

#endif
