/*
 * The MCP side of a request as the transport hands it over: authenticate the bearer token (an
 * agent token; with auth off, X-Agent-ID names the agent), check the legacy-era session,
 * parse, dispatch (mcp.c, tools.c) and leave the reply, as plain data, for the transport to
 * send. Every MCP-speaking endpoint ends here: /mcp, /ws, /rpc, /tools/call, /heartbeat, and
 * the re-run of a held get_next_task. Worker threads; never touches lws.
 */
#ifndef DROVER_MCP_SERVE_H
#define DROVER_MCP_SERVE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/principal.h"
#include "mcp/mcp.h"
#include "mcp/mcp_headers.h"
#include "svc/svc.h"
#include "svc/svc_sessions.h"

enum mcp_serve_kind {
    MCP_SERVE_HTTP,       /* POST /mcp: one JSON-RPC body, with a session */
    MCP_SERVE_DELETE,     /* DELETE /mcp: end the session */
    MCP_SERVE_RPC,        /* POST /rpc or a /ws message: JSON-RPC, no session */
    MCP_SERVE_TOOLS_CALL, /* POST /tools/call: {"name","arguments"} -> a bare tool result */
    MCP_SERVE_HEARTBEAT,  /* POST /heartbeat: {"agentId","status",...} -> heartbeat result */
    MCP_SERVE_CLAIM,      /* re-run the claim of a held get_next_task */
    MCP_SERVE_WS_AUTH,    /* verify a new /ws connection's token; failure closes it */
};

/* How a held get_next_task is answered: inside a JSON-RPC response, or as the bare result. */
enum mcp_wrap {
    MCP_WRAP_JRPC,
    MCP_WRAP_TOOL,
    MCP_WRAP_MODERN, /* a 2026-07-28 JSON-RPC response: the result carries resultType */
};

struct mcp_request {
    enum mcp_serve_kind kind;
    bool ws;          /* the reply goes out as a WebSocket message */
    const char *body; /* may be NULL */
    size_t body_len;
    const char *token;              /* bearer token, or NULL */
    const char *session;            /* Mcp-Session-Id, or NULL */
    const char *version;            /* MCP-Protocol-Version as sent, or NULL */
    const struct mcp_headers *hdrs; /* POST /mcp: the request metadata headers; else NULL */
    const char *agent_hdr;          /* X-Agent-ID, or NULL */
    bool slow_ok;                   /* this worker may run slow tools (tools_slow); else reroute */
    /* MCP_SERVE_CLAIM: whose held poll, what to answer, until when (monotonic ms). */
    const char *agent_id;
    const json_t *jrpc_id;
    enum mcp_wrap wrap;
    long long deadline_ms, now_ms;
};

struct mcp_reply {
    int status; /* HTTP status; 0 = nothing to send (a ws notification, an accepted ws auth) */
    char *out;  /* owned body */
    size_t out_len;
    char new_session[SVC_SESSIONS_ID_LEN]; /* "" or the Mcp-Session-Id to send */
    bool www_auth;                         /* add WWW-Authenticate (401) */
    bool close_ws;                         /* ws: close after sending (auth failed) */
    struct principal who;                  /* the caller, once authenticated */
    /* Hold instead of answering: get_next_task found nothing and may wait. */
    int park_seconds;
    json_t *park_id; /* owned: the JSON-RPC id of the held request */
    enum mcp_wrap wrap;
    char agent_id[37];
    json_t *cancel_id; /* owned: notifications/cancelled requestId */
    /* Nothing was done: the request calls a slow tool and must run on a slow worker. */
    bool reroute;
    /* subscriptions/listen: answer with an event stream whose events stream_fetch makes (on a
     * worker, from stream_arg and the cursor it keeps), not with a body. */
    int (*stream_fetch)(struct svc_ctx *svc, const char *arg, char cursor[128], json_t **events,
                        struct err *err);
    char stream_arg[MCP_STREAM_ARG_MAX];
};

void mcp_serve(struct svc_ctx *c, const struct mcp_request *rq, struct mcp_reply *rp);
void mcp_reply_clear(struct mcp_reply *rp);

/*
 * A WebSocket upgrade's token against the token cache alone (the lws service thread: never
 * blocks): 1 a known agent token, -1 a known token that is not an agent's (refuse the
 * upgrade), 0 unknown (verify it on a worker).
 */
int mcp_serve_ws_peek(const struct svc_env *env, const char *token);

#endif
