/*
 * A unit of work handed from the lws service thread to a worker and back: the request as
 * plain data in, the reply as plain data out. Never contains an lws object; the connection is
 * named by `conn_id` (the request-id registry, net/conn.c), so a reply for a connection that
 * went away is simply dropped.
 */
#ifndef DROVER_NET_JOB_H
#define DROVER_NET_JOB_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/api.h"
#include "core/err.h"
#include "core/principal.h"
#include "mcp/mcp_headers.h"

enum job_kind {
    JOB_MCP,        /* POST /mcp: one JSON-RPC body with a session */
    JOB_MCP_DELETE, /* DELETE /mcp: end the session */
    JOB_RPC,        /* POST /rpc or a /ws message: JSON-RPC, no session */
    JOB_TOOLS_CALL, /* POST /tools/call: {"name","arguments"} -> a tool result */
    JOB_HEARTBEAT,  /* POST /heartbeat: {"agentId","status",...} -> heartbeat result */
    JOB_CLAIM,      /* re-run the claim of a held get_next_task */
    JOB_API,        /* /api/...: the REST router */
    JOB_READY,      /* GET /ready */
    JOB_SWEEP,      /* periodic: reaper + timeout sweep */
    JOB_RECHECK,    /* periodic while polls are held: how many tasks are claimable now? */
    JOB_SSE_FETCH,  /* fetch the next events of a server-sent-events stream */
    JOB_WS_AUTH,    /* verify a new ws connection's token; failure closes it */
    /* Events posted straight to the completion queue by the LISTEN thread. */
    JOB_EV_READY,    /* NOTIFY drover_task_ready: re-run some held claims */
    JOB_EV_RESYNC,   /* LISTEN reconnected: notifications may be lost, recheck at once */
    JOB_EV_ACTIVITY, /* NOTIFY drover_activity (for event streams) */
};

enum job_wrap {
    JOB_WRAP_JRPC,   /* held claim answers a JSON-RPC request */
    JOB_WRAP_TOOL,   /* held claim answers POST /tools/call with the bare tool result */
    JOB_WRAP_MODERN, /* held claim answers a 2026-07-28 request (resultType in the result) */
};

struct job {
    struct job *next;
    enum job_kind kind;
    uint64_t conn_id; /* 0 = no connection (sweep) */
    bool ws;          /* the reply goes out as a ws message, not an HTTP response */
    int limited_s;    /* ws JOB_RPC over its token's rate limit: answer that (retry after s) */
    bool slow;        /* runs on the slow workers (it calls an external service) */
    bool reroute;     /* reply: nothing done yet, hand the job to the slow workers */
    /* Request (owned strings, NULL when absent). */
    char *body;
    size_t body_len;
    char *token;   /* bearer token */
    char *session; /* Mcp-Session-Id */
    char *version; /* MCP-Protocol-Version as sent, or NULL */
    /* POST /mcp, 2026-07-28's request metadata headers (NULL: absent): Mcp-Method, Mcp-Name and
     * the Mcp-Param-{name} the tools declare (mcp_params[i] for tools_header_names' i-th). */
    char *mcp_method, *mcp_name;
    char *mcp_params[MCP_HEADERS_PARAMS_MAX];
    bool mcp_hdr_long; /* one of them was too long to copy */
    bool mcp_hdrs;     /* this job came through POST /mcp: check the headers */
    char *agent_hdr;   /* X-Agent-ID */
    char *method, *path, *query, *idem_key, *last_event_id; /* JOB_API */
    char *hook_hdrs; /* JOB_API under /api/hooks/: the forge's webhook headers (hdr_hooks) */
    /* JOB_CLAIM: who, what to answer, until when. */
    char agent_id[37];
    json_t *jrpc_id; /* owned */
    enum job_wrap wrap;
    int64_t deadline_ms; /* monotonic */
    /* Reply. */
    int status; /* HTTP status; 0 = nothing to send (e.g. ws notification) */
    char *out;  /* owned, LWS_PRE headroom is added by the service thread */
    size_t out_len;
    const char *content_type;
    char *new_session;    /* owned: Mcp-Session-Id to send */
    bool www_auth;        /* add WWW-Authenticate (401) */
    bool close_ws;        /* ws: close after sending (auth failed) */
    struct principal who; /* JOB_WS_AUTH result / park owner */
    /* Hold instead of answering (get_next_task found nothing). */
    int park_seconds;
    uint64_t notify_seq; /* the server's task-ready counter when this job was submitted */
    int nevents; /* JOB_EV_READY: notifications coalesced; JOB_RECHECK: in, the number of held
                  * polls (the most worth counting), out, claimable tasks (-1 = unknown) */
    /* Server-sent events: a JOB_API reply that opens a stream, and each JOB_SSE_FETCH. */
    bool is_stream;
    bool stream_end; /* fetch failed or finished: close the stream */
    struct api_stream stream;
    json_t *cancel_id; /* notifications/cancelled requestId (owned) */
};

struct job *job_new(enum job_kind kind, uint64_t conn_id);
void job_free(struct job *j);
/* Serialise `body` (stolen) as the reply with `status`. */
void job_reply_json(struct job *j, int status, json_t *body);
/* The REST error body {"error":{"code": reason or the class's name, "message"}}, with the
 * class's status (core/err.h). */
void job_reply_error(struct job *j, enum err_code code, const char *reason, const char *msg);

#endif
