/*
 * What the files of the lws server share, and nothing outside them includes: struct server,
 * the state kept per connection, and the functions each file offers the others.
 *
 *   conn.c    the connection registry (id -> wsi) and delivering a reply to an id
 *   fifo.c    the deadline FIFOs of idle and waiting HTTP connections
 *   msgq.c    a connection's queue of output chunks (ws messages, SSE events)
 *   http.c    the HTTP transaction: request checks, replies, starting a job, the lws callback
 *   route.c   the route table (path -> methods -> handler) and its handlers
 *   held.c    held get_next_task long-polls
 *   sse.c     server-sent-events streams
 *   ws.c      WebSocket connections (subprotocol mcp)
 *   server.c  start-up, the completion hand-back, the tick, shutdown
 * (hdr.c, the header readers, and evloop.c, the event loop, need no struct server.)
 *
 * Everything declared here runs on the lws service thread, which owns every member of
 * struct server except those marked otherwise.
 */
#ifndef DROVER_NET_SERVER_INT_H
#define DROVER_NET_SERVER_INT_H

#include <jansson.h>
#include <libwebsockets.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/accesslog.h"
#include "core/buf.h"
#include "core/cfg.h"
#include "net/connlimit.h"
#include "net/job.h"
#include "net/ratelimit.h"
#include "net/server.h"
#include "net/work.h"

#define CONN_BUCKETS 4096

struct ev_loop;
struct listen;
struct workers;

/* ---- conn.c: the registry ---- */

struct conn_node {
    struct conn_node *next;
    uint64_t id;
    struct lws *wsi;
};

/* ---- held.c: a get_next_task being held until a task is claimable or its deadline ---- */

struct held {
    uint64_t conn_id;
    bool ws;
    bool inflight; /* a JOB_CLAIM for it is queued or running */
    bool cancelled;
    json_t *jrpc_id; /* owned */
    enum job_wrap wrap;
    char agent_id[37];
    char *session; /* owned; /mcp session the request came in, for notifications/cancelled */
    long long deadline_ms;
};

/* ---- sse.c: an open server-sent-events stream (an /api handler asked for one) ---- */

struct sse {
    uint64_t conn_id;
    char *token; /* owned; re-verified by every fetch, so a revoked token's stream ends */
    struct api_stream st;
    bool inflight, dirty;
    long long last_fetch_ms, last_keepalive_ms;
};

/*
 * ---- fifo.c: connection deadlines of our own ----
 * lws 4.1 keeps every pending timeout (lws_set_timeout, and the WebSocket ping/hang-up timer)
 * in one list sorted by deadline and inserts by walking it from the earliest, so a new
 * deadline later than all others (the usual case: same duration, set later) costs a walk over
 * every connection that has one. With 10,000 idle keep-alive connections that walk was most of
 * droverd's CPU per request. So idle and waiting HTTP connections carry no lws timeout: they
 * sit in FIFOs of our own, one per fixed duration, in which appending keeps the order, and the
 * tick closes what is past due from the front.
 */
struct http_txn;
struct txn_fifo {
    struct http_txn *head, *tail;
    long long limit_ms; /* how long a member may stay */
};

/* ---- the server: one per server_run ---- */

struct server {
    const struct cfg *cfg;
    struct server_app app; /* what droverd plugs in (copied) */
    struct lws_context *ctx;
    struct ev_loop *ev;   /* the libev loop lws runs on (NULL: lws's poll() loop) */
    struct workers *pool; /* the database workers */
    struct workers *slow; /* workers for jobs that wait on an external service (reroute) */
    void *events;         /* the app's change feed (events_start) */
    /* connlimit.c, ratelimit.c */
    struct connlimit per_addr;
    struct ratelimit rate;
    /* conn.c */
    struct conn_node *conns[CONN_BUCKETS];
    uint64_t next_id;
    /* held.c */
    struct held *held;
    size_t nheld, capheld;
    long long last_recheck_ms;
    bool recheck_pending;
    /* Counts task-ready notifications. A claim that comes back empty after one arrived while
     * it ran may have looked before that task committed: it is re-run at once, while
     * wake_credit lasts. */
    uint64_t notify_seq;
    /* Claims still owed to task-ready notifications (and the last recheck count): each
     * notification of n tasks buys n * HELD_WAKE_PER_NOTIFY re-runs, spent first on idle held
     * polls, then on claims that were running when it came. Without the bound every claim in
     * flight during any notification ran again; once the job queue was long enough that one
     * always came meanwhile, every held poll re-ran back to back (measured: 3,000 claims/s
     * from 3,000 held polls at 10 tasks/s, the job queue full, heartbeats refused busy). */
    long long wake_credit;
    /* sse.c */
    struct sse *sse; /* open event streams */
    size_t nsse, capsse;
    /* http.c */
    int writing;             /* HTTP replies queued but not yet fully written */
    struct txn_fifo idle;    /* keep-alive connections between requests */
    struct txn_fifo waiting; /* requests handed to a worker (not held polls) */
    /* server.c */
    lws_sorted_usec_list_t tick;
    long long last_sweep_ms;
    bool sweep_pending;
    int inflight;         /* jobs submitted whose reply was not yet delivered */
    bool protocols_ready; /* lws ran its protocol init (ws.c sees PROTOCOL_INIT) */
    /* Shutdown. stop_requested is set by the signal handler (any thread); app.claims_closed
     * is read by workers. Then closing while app.drain_done waits, then stopping. */
    atomic_bool stop_requested;
    bool closing;
    bool stopping;
};

/* ---- http.c: per HTTP connection state, reused across keep-alive requests ---- */

enum txn_state { TXN_IDLE, TXN_BODY, TXN_WAIT, TXN_READY, TXN_HDRS_SENT, TXN_DONE, TXN_SSE };

/* ---- msgq.c: output chunks with LWS_PRE headroom (ws messages, SSE events) ---- */

struct msgq_msg {
    struct msgq_msg *next;
    size_t len;
    unsigned char data[]; /* LWS_PRE + len */
};

struct msgq {
    struct msgq_msg *head, *tail;
    int n;
};

struct http_txn {
    uint64_t id;
    enum txn_state st;
    struct job *job; /* being assembled while the body arrives */
    struct buf body;
    long long started_ms;
    /* reply */
    int status;
    unsigned char *out; /* LWS_PRE + out_len */
    size_t out_len;
    const char *content_type;
    char *session_hdr;
    bool www_auth, close_after, is_asset;
    int retry_after; /* > 0: a Retry-After header (429) */
    char *challenge; /* owned: WWW-Authenticate of a 401 (mcp/mcp_auth.h), NULL: the plain one */
    const char *allow;
    /* server-sent events */
    bool sse_hdrs_sent;
    struct msgq sse_out;
    /* membership of a deadline FIFO (idle keep-alive, or waiting for a worker) */
    struct txn_fifo *fifo;
    struct http_txn *fprev, *fnext;
    struct lws *wsi; /* only for closing it from the tick; same thread */
    long long fifo_since_ms;
    /* the access log's record: method and path at the request, who when a worker answers */
    struct accesslog_rec acc;
    long long started_us;
};

/* Whether a request has a body to read before its job starts, and how its errors look. */
enum http_body {
    HTTP_NO_BODY,
    HTTP_BODY,      /* 411 / 413 as REST error bodies */
    HTTP_BODY_JRPC, /* 411 / 413 as JSON-RPC errors (/mcp, /rpc) */
};

/* ---- ws.c: per WebSocket connection state ---- */

struct ws_sess {
    uint64_t id;
    struct buf rx;
    struct msgq out;
    int running;
    bool paused, close_after;
    char token[PRINCIPAL_TOKEN_LEN + 8];
    char agent_hdr[40];
};

static inline struct server *server_of(struct lws *wsi)
{
    return lws_context_user(lws_get_context(wsi));
}

/* conn.c */
uint64_t conn_add(struct server *s, struct lws *wsi);
struct lws *conn_get(struct server *s, uint64_t id); /* NULL: gone */
void conn_del(struct server *s, uint64_t id);
void conn_free_all(struct server *s);
/* Send a reply to connection `conn_id` (dropped when it is gone): a ws message, or the HTTP
 * response with `status`; `j` (may be NULL) adds its headers and ws close. */
void conn_deliver(struct server *s, uint64_t conn_id, bool ws, int status, const char *out,
                  size_t len, const struct job *j);
/* Note who `j` was answered for (the token's name or agent id) on its HTTP transaction. */
void conn_note_who(struct server *s, const struct job *j);

/* msgq.c */
void msgq_push(struct msgq *q, const void *data, size_t len); /* copied */
void msgq_drop(struct msgq *q);                               /* free the head, if any */
void msgq_clear(struct msgq *q);

/* fifo.c */
void fifo_add(struct txn_fifo *f, struct lws *wsi, struct http_txn *t); /* drops the lws timeout */
void fifo_del(struct http_txn *t);                                      /* no-op when in none */
/* Close the members past the limit; `why` (may be NULL) is logged per connection. */
void fifo_expire(struct txn_fifo *f, long long now, const char *why);

/* http.c */
int http_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);
/* The reply (copied); written when the connection is writable. */
void http_reply(struct lws *wsi, struct http_txn *t, int status, const char *ctype,
                const void *data, size_t len);
void http_reply_json(struct lws *wsi, struct http_txn *t, int status, json_t *body); /* steals */
/* {"error":{"code","message"}}. Returns 0 (handlers return it). */
int http_reply_error(struct lws *wsi, struct http_txn *t, enum err_code code, const char *reason,
                     const char *msg);
/* A transport error as JSON-RPC (the body comes from mcp/). Returns 0. */
int http_reply_jrpc(struct lws *wsi, struct http_txn *t, int status, int code, const char *msg);
/* Make t->job of `kind` from the request's headers. 1: submit now; 0: a body is coming, or
 * the request was answered (411, 413). */
int http_job_begin(struct server *s, struct lws *wsi, struct http_txn *t, enum job_kind kind,
                   enum http_body body);
/* Hand t->job to a worker (503 when the queue is full). 0, or -1 to close. */
int http_job_submit(struct server *s, struct lws *wsi, struct http_txn *t);

/* route.c: answer or start the request for `path` (method and Origin already checked). */
int route_dispatch(struct server *s, struct lws *wsi, struct http_txn *t, const char *method,
                   const char *path);

/* held.c */
void held_free(struct held *h);
void held_drop_conn(struct server *s, uint64_t conn_id); /* the client left */
void held_cancel(struct server *s, const struct job *j); /* notifications/cancelled */
/* A job asked to be held (park_seconds > 0): hold it, or answer {task:null} when stopping. */
void held_park(struct server *s, const struct job *j);
/* A JOB_CLAIM came back: true when `j` carries the answer to deliver (a task or null). */
bool held_claim_done(struct server *s, const struct job *j);
void held_notified(struct server *s, int nevents); /* task-ready notifications */
void held_resync(struct server *s);                /* notifications may have been lost */
void held_recheck_done(struct server *s, int claimable);
void held_release_all(struct server *s);            /* answer every waiting poll {task:null} */
void held_expire(struct server *s, long long now);  /* answer those past their deadline */
void held_recheck(struct server *s, long long now); /* count claimable tasks, when due */

/* sse.c */
void sse_open(struct server *s, const struct job *j); /* a handler answered with a stream */
void sse_fetched(struct server *s, const struct job *j);
void sse_activity(struct server *s); /* NOTIFY drover_activity */
void sse_remove(struct server *s, uint64_t conn_id);
void sse_tick(struct server *s, long long now);
void sse_close_all(struct server *s);
int sse_write(struct lws *wsi, struct http_txn *t); /* WRITEABLE on a stream */

/* ws.c */
int ws_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);
void ws_queue(struct lws *wsi, struct ws_sess *w, const char *out, size_t len);
void ws_job_done(struct server *s, uint64_t conn_id); /* one of its messages was answered */

/* server.c */
/* Queue a request's job (counted in flight until its reply comes back). -1: queue full. */
int server_submit(struct server *s, struct job *j);
/* Handle everything on the completion queue (LWS_CALLBACK_EVENT_WAIT_CANCELLED). */
void server_completions(struct server *s);

#endif
