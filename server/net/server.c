/*
 * The lws server. Everything in this file runs on the lws service thread, except server_wake()
 * (any thread: it only calls lws_cancel_service) and the signal handler (sets a flag).
 *
 * Connections are named by a uint64_t id (the registry below), never by a `struct lws *`
 * outside the callback that received it: a worker's reply carries the id, and a reply for an
 * id that is gone is dropped.
 */
#include "net/server.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "mcp/jrpc.h"
#include "mcp/mcp.h"
#include "net/assets.h"
#include "core/clock.h"
#include "mcp/mcp_serve.h"
#include "net/job.h"
#include "net/listen.h"
#include "net/reqcheck.h"
#include "net/workers.h"
#include "net/work.h"

#include <ev.h>
#include <libwebsockets.h>
#include <signal.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <errno.h>
#include <netdb.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define SERVER_TICK_US (250 * LWS_US_PER_MS)
/* While polls are held, ask this often how many tasks are claimable and wake that many: NOTIFY
 * is only a hint, and a back-off's run_after passes silently. (Re-running every held claim
 * instead cost one claim statement per held poll per period: 6,700/s at 10,000 agents.) */
#define SERVER_RECHECK_MS 1500
#define SERVER_WAKE_PER_NOTIFY 4      /* held claims re-run per task-ready notification */
#define SERVER_WS_MAX_OUTSTANDING 16  /* queued + running messages before rx is paused */
#define SERVER_DRAIN_MS 10000         /* longest wait for in-flight work at shutdown */
#define SERVER_WAIT_BACKSTOP_MS 60000 /* an HTTP request unanswered this long is dropped */
#define SERVER_REG_BUCKETS 4096

static atomic_bool server_stop_flag;
static struct lws_context *server_signal_ctx;

/* ---- the request-id registry: id -> wsi ---- */

struct reg_node {
    struct reg_node *next;
    uint64_t id;
    struct lws *wsi;
};

/* A get_next_task being held until a task is claimable or its deadline passes. */
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

/* An open server-sent-events stream (an /api handler asked for one). */
struct sse {
    uint64_t conn_id;
    struct api_stream st;
    bool inflight, dirty;
    long long last_fetch_ms, last_keepalive_ms;
};

#define SERVER_SSE_KEEPALIVE_MS 15000
#define SERVER_SSE_MAX_QUEUED 256 /* chunks queued for a slow client before it is dropped */

/*
 * Connection deadlines of our own. lws 4.1 keeps every pending timeout (lws_set_timeout, and
 * the WebSocket ping/hang-up timer) in one list sorted by deadline and inserts by walking it
 * from the earliest, so a new deadline later than all others (the usual case: same duration,
 * set later) costs a walk over every connection that has one. With 10,000 idle keep-alive
 * connections that walk was most of droverd's CPU per request. So idle and waiting HTTP
 * connections carry no lws timeout: they sit in FIFOs of our own, one per fixed duration, in
 * which appending keeps the order, and the tick closes what is past due from the front.
 */
struct http_txn;
struct txn_fifo {
    struct http_txn *head, *tail;
    long long limit_ms; /* how long a member may stay */
};

struct server {
    const struct cfg *cfg;
    const struct server_app *app;
    struct lws_context *ctx;
    struct ev_loop *ev; /* the libev loop lws runs on (NULL: lws's poll() loop) */
    struct workers *pool;
    struct listen *listen;
    struct reg_node *reg[SERVER_REG_BUCKETS];
    uint64_t next_id;
    struct held *held;
    size_t nheld, capheld;
    lws_sorted_usec_list_t tick;
    long long last_recheck_ms, last_sweep_ms;
    bool sweep_pending, recheck_pending;
    struct sse *sse; /* open event streams */
    size_t nsse, capsse;
    int inflight; /* jobs submitted whose reply was not yet delivered */
    /* Counts task-ready notifications. A claim that comes back empty after one arrived while
     * it ran may have looked before that task committed: it is re-run at once. */
    uint64_t notify_seq;
    int writing; /* HTTP replies queued but not yet fully written */
    /* Shutdown: claims closed (app->claims_closed) while the app drains (closing), then
     * stopping. */
    bool closing;
    bool stopping;
    struct txn_fifo idle;    /* keep-alive connections between requests */
    struct txn_fifo waiting; /* requests handed to a worker (not held polls) */
};

/* Per HTTP connection state; reused across keep-alive requests (reset in LWS_CALLBACK_HTTP). */
enum txn_state { TXN_IDLE, TXN_BODY, TXN_WAIT, TXN_READY, TXN_HDRS_SENT, TXN_DONE, TXN_SSE };

/* A chunk of output with LWS_PRE headroom (ws messages, SSE events). */
struct ws_msg {
    struct ws_msg *next;
    size_t len;
    unsigned char data[]; /* LWS_PRE + len */
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
    const char *allow;
    /* server-sent events */
    bool sse_hdrs_sent;
    struct ws_msg *sse_head, *sse_tail;
    int nsse;
    /* membership of a deadline FIFO (idle keep-alive, or waiting for a worker) */
    struct txn_fifo *fifo;
    struct http_txn *fprev, *fnext;
    struct lws *wsi; /* only for closing it from the tick; same thread */
    long long fifo_since_ms;
};

/* Per WebSocket connection state. */
struct ws_sess {
    uint64_t id;
    struct buf rx;
    struct ws_msg *out_head, *out_tail;
    int nout, running;
    bool paused, close_after;
    char token[PRINCIPAL_TOKEN_LEN + 8];
    char agent_hdr[40];
};

static struct server *server_of(struct lws *wsi)
{
    return lws_context_user(lws_get_context(wsi));
}

static uint64_t reg_add(struct server *s, struct lws *wsi)
{
    struct reg_node *n = mem_calloc(1, sizeof(*n));

    n->id = ++s->next_id;
    n->wsi = wsi;
    n->next = s->reg[n->id % SERVER_REG_BUCKETS];
    s->reg[n->id % SERVER_REG_BUCKETS] = n;
    return n->id;
}

static struct lws *reg_get(struct server *s, uint64_t id)
{
    for (struct reg_node *n = s->reg[id % SERVER_REG_BUCKETS]; n; n = n->next)
        if (n->id == id)
            return n->wsi;
    return NULL;
}

static void reg_del(struct server *s, uint64_t id)
{
    struct reg_node **pp = &s->reg[id % SERVER_REG_BUCKETS];

    for (; *pp; pp = &(*pp)->next) {
        if ((*pp)->id == id) {
            struct reg_node *n = *pp;
            *pp = n->next;
            free(n);
            return;
        }
    }
}

/* ---- small header helpers ---- */

static int hdr_copy(struct lws *wsi, enum lws_token_indexes t, char *out, int outsz)
{
    int n = lws_hdr_total_length(wsi, t);

    out[0] = '\0';
    if (n <= 0 || n >= outsz)
        return n <= 0 ? -1 : -2; /* -2: present but too long */
    return lws_hdr_copy(wsi, out, outsz, t) < 0 ? -1 : n;
}

static int hdr_custom(struct lws *wsi, const char *name, char *out, int outsz)
{
    int nl = (int)strlen(name), n = lws_hdr_custom_length(wsi, name, nl);

    out[0] = '\0';
    if (n <= 0 || n >= outsz)
        return n <= 0 ? -1 : -2;
    return lws_hdr_custom_copy(wsi, out, outsz, name, nl) < 0 ? -1 : n;
}

/* The bearer token from Authorization, or NULL. */
static char *hdr_bearer(struct lws *wsi)
{
    char a[256];
    const char *tok;

    if (hdr_copy(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, a, sizeof(a)) <= 0)
        return NULL;
    tok = reqcheck_bearer(a);
    return tok ? mem_strdup(tok) : NULL;
}

static char *hdr_custom_dup(struct lws *wsi, const char *name, int max)
{
    char b[512];

    if (max > (int)sizeof(b))
        max = sizeof(b);
    return hdr_custom(wsi, name, b, max) > 0 ? mem_strdup(b) : NULL;
}

/* Host and Origin against the allow-lists (DNS-rebinding and cross-site protection). */
static bool server_origin_ok(struct server *s, struct lws *wsi)
{
    char o[300], h[300];
    int on = hdr_copy(wsi, WSI_TOKEN_ORIGIN, o, sizeof(o));
    int hn = hdr_copy(wsi, WSI_TOKEN_HOST, h, sizeof(h));

    return reqcheck_origin(s->cfg, on > 0 ? o : NULL, on == -2, hn > 0 ? h : NULL, hn == -2);
}

/* ---- HTTP replies ---- */

static void sse_remove(struct server *s, uint64_t conn_id);
static void held_drop_conn(struct server *s, uint64_t conn_id);

static void fifo_del(struct http_txn *t)
{
    struct txn_fifo *f = t->fifo;

    if (!f)
        return;
    if (t->fprev)
        t->fprev->fnext = t->fnext;
    else
        f->head = t->fnext;
    if (t->fnext)
        t->fnext->fprev = t->fprev;
    else
        f->tail = t->fprev;
    t->fprev = t->fnext = NULL;
    t->fifo = NULL;
}

/* Put t at the back of f and drop its lws timeout (see struct txn_fifo). */
static void fifo_add(struct txn_fifo *f, struct lws *wsi, struct http_txn *t)
{
    fifo_del(t);
    lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0); /* an unlink: O(1) */
    t->wsi = wsi;
    t->fifo = f;
    t->fifo_since_ms = clock_ms();
    t->fprev = f->tail;
    t->fnext = NULL;
    if (f->tail)
        f->tail->fnext = t;
    else
        f->head = t;
    f->tail = t;
}

/* Close the members that stayed past the limit, oldest first. (Killing "now" puts the wsi at
 * the front of lws's sorted list: no walk.) */
static void fifo_expire(struct txn_fifo *f, long long now, const char *why)
{
    while (f->head && now - f->head->fifo_since_ms >= f->limit_ms) {
        struct http_txn *t = f->head;

        fifo_del(t);
        if (why)
            log_warn("server", "closing a connection: %s", why);
        lws_set_timeout(t->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
}

static void txn_clear(struct server *s, struct http_txn *t)
{
    fifo_del(t);
    if (t->id && t->st == TXN_WAIT)
        held_drop_conn(s, t->id); /* the client left: stop claiming on its behalf */
    if (t->st == TXN_READY || t->st == TXN_HDRS_SENT)
        s->writing--;
    if (t->st == TXN_SSE)
        sse_remove(s, t->id);
    while (t->sse_head) {
        struct ws_msg *m = t->sse_head;
        t->sse_head = m->next;
        free(m);
    }
    t->sse_tail = NULL;
    t->nsse = 0;
    t->sse_hdrs_sent = false;
    if (t->id)
        reg_del(s, t->id);
    t->id = 0;
    job_free(t->job);
    t->job = NULL;
    buf_clear(&t->body);
    free(t->out);
    t->out = NULL;
    free(t->session_hdr);
    t->session_hdr = NULL;
    t->out_len = 0;
    t->st = TXN_IDLE;
    t->www_auth = t->close_after = t->is_asset = false;
    t->allow = NULL;
    t->status = 0;
}

static void txn_set(struct lws *wsi, struct http_txn *t, int status, const char *ctype,
                    const void *data, size_t len)
{
    if (t->st != TXN_READY && t->st != TXN_HDRS_SENT)
        server_of(wsi)->writing++;
    free(t->out);
    t->out = mem_alloc(LWS_PRE + len + 1);
    if (len)
        memcpy(t->out + LWS_PRE, data, len);
    t->out_len = len;
    t->status = status;
    t->content_type = ctype;
    t->st = TXN_READY;
    fifo_del(t);
    lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
    lws_callback_on_writable(wsi);
}

static void txn_json(struct lws *wsi, struct http_txn *t, int status, json_t *body)
{
    char *s = body ? json_dumps(body, JSON_COMPACT) : NULL;

    txn_set(wsi, t, status, "application/json", s, s ? strlen(s) : 0);
    free(s);
    json_decref(body);
}

/* A REST-style error body. */
static int txn_error(struct lws *wsi, struct http_txn *t, int status, const char *code,
                     const char *msg)
{
    txn_json(wsi, t, status, json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg));
    return 0;
}

/* A transport error on /mcp: the JSON-RPC error without id the SDK sends. */
static int txn_jrpc_error(struct lws *wsi, struct http_txn *t, int status, int code,
                          const char *msg)
{
    txn_json(wsi, t, status, jrpc_error(NULL, code, msg, NULL));
    return 0;
}

static int sse_write(struct lws *wsi, struct http_txn *t)
{
    uint8_t hb[LWS_PRE + 1024], *start = hb + LWS_PRE, *p = start, *end = hb + sizeof(hb) - 1;
    struct ws_msg *m;

    if (!t->sse_hdrs_sent) {
        if (lws_add_http_common_headers(wsi, HTTP_STATUS_OK, "text/event-stream",
                                        LWS_ILLEGAL_HTTP_CONTENT_LEN, &p, end) ||
            lws_add_http_header_by_name(
                wsi, (const uint8_t *)"cache-control:", (const uint8_t *)"no-store", 8, &p, end) ||
            lws_finalize_write_http_header(wsi, start, &p, end))
            return -1;
        t->sse_hdrs_sent = true;
        lws_http_mark_sse(wsi); /* no idle timeouts on this stream */
        if (t->sse_head || t->close_after)
            lws_callback_on_writable(wsi);
        return 0;
    }
    m = t->sse_head;
    if (!m)
        return t->close_after ? -1 : 0;
    if (lws_write(wsi, m->data + LWS_PRE, m->len, LWS_WRITE_HTTP) != (int)m->len)
        return -1;
    t->sse_head = m->next;
    if (!t->sse_head)
        t->sse_tail = NULL;
    t->nsse--;
    free(m);
    if (t->sse_head || t->close_after)
        lws_callback_on_writable(wsi);
    return 0;
}

static int txn_write(struct server *s, struct lws *wsi, struct http_txn *t)
{
    uint8_t hb[LWS_PRE + 2048], *start = hb + LWS_PRE, *p = start, *end = hb + sizeof(hb) - 1;

    if (t->st == TXN_SSE)
        return sse_write(wsi, t);
    switch (t->st) {
    case TXN_READY:
        if (lws_add_http_common_headers(wsi, (unsigned)t->status, t->content_type,
                                        (lws_filepos_t)t->out_len, &p, end))
            return -1;
        if (!t->is_asset && lws_add_http_header_by_name(wsi, (const uint8_t *)"cache-control:",
                                                        (const uint8_t *)"no-store", 8, &p, end))
            return -1;
        if (t->session_hdr && lws_add_http_header_by_name(wsi, (const uint8_t *)"mcp-session-id:",
                                                          (const uint8_t *)t->session_hdr,
                                                          (int)strlen(t->session_hdr), &p, end))
            return -1;
        if (t->www_auth) {
            static const char v[] = "Bearer realm=\"drover\", error=\"invalid_token\"";
            if (lws_add_http_header_by_name(wsi, (const uint8_t *)"www-authenticate:",
                                            (const uint8_t *)v, sizeof(v) - 1, &p, end))
                return -1;
        }
        if (t->allow &&
            lws_add_http_header_by_name(wsi, (const uint8_t *)"allow:", (const uint8_t *)t->allow,
                                        (int)strlen(t->allow), &p, end))
            return -1;
        if (t->is_asset) {
            static const char csp[] =
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
            if (lws_add_http_header_by_name(wsi, (const uint8_t *)"content-security-policy:",
                                            (const uint8_t *)csp, sizeof(csp) - 1, &p, end) ||
                lws_add_http_header_by_name(wsi, (const uint8_t *)"x-content-type-options:",
                                            (const uint8_t *)"nosniff", 7, &p, end))
                return -1;
        }
        if (t->close_after && lws_add_http_header_by_name(wsi, (const uint8_t *)"connection:",
                                                          (const uint8_t *)"close", 5, &p, end))
            return -1;
        if (lws_finalize_write_http_header(wsi, start, &p, end))
            return -1;
        t->st = TXN_HDRS_SENT;
        if (t->out_len) {
            lws_callback_on_writable(wsi); /* the body goes out in the next WRITEABLE */
            return 0;
        }
        break;
    case TXN_HDRS_SENT:
        if (lws_write(wsi, t->out + LWS_PRE, t->out_len, LWS_WRITE_HTTP_FINAL) != (int)t->out_len)
            return -1;
        break;
    default:
        return 0; /* spurious WRITEABLE */
    }
    t->st = TXN_DONE;
    s->writing--;
    if (t->id)
        reg_del(s, t->id);
    t->id = 0;
    if (t->close_after)
        return -1;
    if (lws_http_transaction_completed(wsi))
        return -1;
    /* lws 4.1 rebinds the protocol there: `t` was freed, the connection has new (zeroed) data. */
    t = lws_wsi_user(wsi);
    if (t)
        fifo_add(&s->idle, wsi, t); /* instead of lws's keep-alive timeout */
    return 0;
}

/* ---- held long-polls ---- */

static json_t *held_null_reply(const struct held *h)
{
    return mcp_serve_empty_claim(h->wrap == JOB_WRAP_TOOL ? MCP_WRAP_TOOL : MCP_WRAP_JRPC,
                                 h->jrpc_id);
}

static void held_free(struct held *h)
{
    json_decref(h->jrpc_id);
    free(h->session);
}

static void server_deliver(struct server *s, uint64_t conn_id, bool ws, int status, const char *out,
                           size_t len, const struct job *j);

/* Answer a held poll with {task:null} (deadline, cancellation of an HTTP poll, shutdown). */
static void held_answer_null(struct server *s, struct held *h)
{
    json_t *r = held_null_reply(h);
    char *txt = json_dumps(r, JSON_COMPACT);

    server_deliver(s, h->conn_id, h->ws, 200, txt, strlen(txt), NULL);
    free(txt);
    json_decref(r);
}

static void held_remove(struct server *s, size_t i)
{
    held_free(&s->held[i]);
    s->held[i] = s->held[--s->nheld];
}

static void held_drop_conn(struct server *s, uint64_t conn_id)
{
    for (size_t i = 0; i < s->nheld;) {
        if (s->held[i].conn_id == conn_id && !s->held[i].inflight) {
            held_remove(s, i);
            continue;
        }
        if (s->held[i].conn_id == conn_id)
            s->held[i].cancelled = true; /* its claim is running: drop what comes back */
        i++;
    }
}

static struct held *held_find_conn(struct server *s, uint64_t conn_id, const json_t *id)
{
    for (size_t i = 0; i < s->nheld; i++)
        if (s->held[i].conn_id == conn_id &&
            (id ? json_equal(s->held[i].jrpc_id, id) : !s->held[i].jrpc_id))
            return &s->held[i];
    return NULL;
}

static void held_submit(struct server *s, struct held *h)
{
    struct job *j = job_new(JOB_CLAIM, h->conn_id);

    j->ws = h->ws;
    j->wrap = h->wrap;
    j->jrpc_id = h->jrpc_id ? json_incref(h->jrpc_id) : NULL;
    memcpy(j->agent_id, h->agent_id, sizeof(j->agent_id));
    j->deadline_ms = h->deadline_ms;
    j->notify_seq = s->notify_seq;
    if (workers_submit(s->pool, j) < 0) {
        job_free(j); /* busy: the next tick tries again */
        return;
    }
    h->inflight = true;
}

/* Re-run up to `max` waiting claims (0 = all), oldest deadline first is good enough: in order. */
static void held_wake(struct server *s, int max)
{
    int n = 0;

    for (size_t i = 0; i < s->nheld && (max == 0 || n < max); i++) {
        if (!s->held[i].inflight && !s->held[i].cancelled) {
            held_submit(s, &s->held[i]);
            n++;
        }
    }
}

/* ---- replies from workers ---- */

static void ws_queue(struct server *s, struct lws *wsi, struct ws_sess *ws, const char *out,
                     size_t len);

static void server_deliver(struct server *s, uint64_t conn_id, bool ws, int status, const char *out,
                           size_t len, const struct job *j)
{
    struct lws *wsi = reg_get(s, conn_id);

    if (!wsi)
        return; /* the client went away: drop */
    if (ws) {
        struct ws_sess *w = lws_wsi_user(wsi);
        if (out && len)
            ws_queue(s, wsi, w, out, len);
        if (j && j->close_ws) {
            w->close_after = true;
            lws_callback_on_writable(wsi);
        }
        return;
    }
    struct http_txn *t = lws_wsi_user(wsi);
    if (!t || t->id != conn_id)
        return;
    if (j) {
        t->www_auth = j->www_auth;
        if (j->new_session)
            t->session_hdr = mem_strdup(j->new_session);
    }
    txn_set(wsi, t, status, j && j->content_type ? j->content_type : "application/json", out, len);
}

static void server_on_cancel(struct server *s, const struct job *j)
{
    for (size_t i = 0; i < s->nheld; i++) {
        struct held *h = &s->held[i];
        bool same = j->ws ? (h->ws && h->conn_id == j->conn_id)
                          : (h->session && j->session && strcmp(h->session, j->session) == 0);

        if (!same || !json_equal(h->jrpc_id, j->cancel_id))
            continue;
        if (h->inflight) {
            h->cancelled = true; /* answered when its claim comes back */
            return;
        }
        /* HTTP: the held POST must be answered; ws: a cancelled request is not answered. */
        if (!h->ws)
            held_answer_null(s, h);
        held_remove(s, i);
        return;
    }
}

static void server_ws_done(struct server *s, uint64_t conn_id)
{
    struct lws *wsi = reg_get(s, conn_id);
    struct ws_sess *w;

    if (!wsi)
        return;
    w = lws_wsi_user(wsi);
    if (w->running > 0)
        w->running--;
    if (w->paused && w->nout + w->running < SERVER_WS_MAX_OUTSTANDING / 2) {
        w->paused = false;
        lws_rx_flow_control(wsi, 1);
    }
}

/* ---- server-sent events ---- */

static struct sse *sse_find(struct server *s, uint64_t conn_id)
{
    for (size_t i = 0; i < s->nsse; i++)
        if (s->sse[i].conn_id == conn_id)
            return &s->sse[i];
    return NULL;
}

static void sse_remove(struct server *s, uint64_t conn_id)
{
    struct sse *e = sse_find(s, conn_id);

    if (e)
        *e = s->sse[--s->nsse];
}

static void sse_submit(struct server *s, struct sse *e)
{
    struct job *j = job_new(JOB_SSE_FETCH, e->conn_id);

    j->stream = e->st;
    if (workers_submit(s->pool, j) < 0) {
        job_free(j); /* busy: the next tick tries again */
        return;
    }
    e->inflight = true;
    e->dirty = false;
    e->last_fetch_ms = clock_ms();
}

/* Queue SSE text on a stream's connection. */
static void sse_queue(struct server *s, uint64_t conn_id, const char *text, size_t len)
{
    struct lws *wsi = reg_get(s, conn_id);
    struct http_txn *t;
    struct ws_msg *m;

    if (!wsi || !len)
        return;
    t = lws_wsi_user(wsi);
    if (t->nsse >= SERVER_SSE_MAX_QUEUED) { /* a client this slow reconnects with Last-Event-ID */
        t->close_after = true;
        lws_callback_on_writable(wsi);
        return;
    }
    m = mem_alloc(sizeof(*m) + LWS_PRE + len);
    m->next = NULL;
    m->len = len;
    memcpy(m->data + LWS_PRE, text, len);
    if (t->sse_tail)
        t->sse_tail->next = m;
    else
        t->sse_head = m;
    t->sse_tail = m;
    t->nsse++;
    lws_callback_on_writable(wsi);
}

/* A handler answered with a stream: keep the connection and start fetching. */
static void sse_open(struct server *s, struct job *j)
{
    struct lws *wsi = reg_get(s, j->conn_id);
    struct http_txn *t;
    struct sse e = {.conn_id = j->conn_id, .st = j->stream};

    if (!wsi)
        return;
    t = lws_wsi_user(wsi);
    if (!t || t->id != j->conn_id)
        return;
    t->st = TXN_SSE;
    fifo_del(t);
    lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
    lws_callback_on_writable(wsi);
    e.last_keepalive_ms = clock_ms();
    if (s->nsse == s->capsse) {
        s->capsse = s->capsse ? s->capsse * 2 : 16;
        s->sse = mem_realloc(s->sse, s->capsse * sizeof(*s->sse));
    }
    s->sse[s->nsse++] = e;
    sse_submit(s, &s->sse[s->nsse - 1]);
}

static void sse_fetched(struct server *s, struct job *j)
{
    struct sse *e = sse_find(s, j->conn_id);
    struct lws *wsi;

    if (!e)
        return;
    e->inflight = false;
    if (j->stream_end) {
        wsi = reg_get(s, j->conn_id);
        if (wsi) {
            ((struct http_txn *)lws_wsi_user(wsi))->close_after = true;
            lws_callback_on_writable(wsi);
        }
        sse_remove(s, j->conn_id);
        return;
    }
    memcpy(e->st.cursor, j->stream.cursor, sizeof(e->st.cursor));
    sse_queue(s, j->conn_id, j->out, j->out_len);
    if (e->dirty)
        sse_submit(s, e);
}

static void sse_tick(struct server *s, long long now)
{
    for (size_t i = 0; i < s->nsse; i++) {
        struct sse *e = &s->sse[i];
        if (!e->inflight && now - e->last_fetch_ms >= API_STREAM_POLL_MS)
            sse_submit(s, e);
        if (now - e->last_keepalive_ms >= SERVER_SSE_KEEPALIVE_MS) {
            e->last_keepalive_ms = now;
            sse_queue(s, e->conn_id, ": keepalive\n\n", 13);
        }
    }
}

/* Shutdown: end every stream (clients reconnect elsewhere with Last-Event-ID). */
static void sse_close_all(struct server *s)
{
    for (size_t i = 0; i < s->nsse; i++) {
        struct lws *wsi = reg_get(s, s->sse[i].conn_id);
        if (wsi) {
            ((struct http_txn *)lws_wsi_user(wsi))->close_after = true;
            lws_callback_on_writable(wsi);
        }
    }
    s->nsse = 0;
}

static void server_complete(struct server *s, struct job *j)
{
    switch (j->kind) {
    case JOB_EV_READY:
        s->notify_seq++;
        held_wake(s, j->nevents * SERVER_WAKE_PER_NOTIFY);
        return;
    case JOB_EV_RESYNC:
        s->notify_seq++;
        s->last_recheck_ms = 0; /* notifications may have been lost: count at the next tick */
        return;
    case JOB_RECHECK:
        s->recheck_pending = false;
        if (j->nevents > 0)
            held_wake(s, j->nevents * SERVER_WAKE_PER_NOTIFY);
        return;
    case JOB_EV_ACTIVITY:
        for (size_t i = 0; i < s->nsse; i++) {
            if (s->sse[i].inflight)
                s->sse[i].dirty = true;
            else
                sse_submit(s, &s->sse[i]);
        }
        return;
    case JOB_SSE_FETCH:
        sse_fetched(s, j);
        return;
    case JOB_SWEEP:
        s->sweep_pending = false;
        return;
    default:
        break;
    }
    if (j->kind != JOB_CLAIM)
        s->inflight--;
    if (j->cancel_id)
        server_on_cancel(s, j);
    if (j->ws && j->kind != JOB_CLAIM)
        server_ws_done(s, j->conn_id);
    if (j->kind == JOB_CLAIM) {
        struct held *h = held_find_conn(s, j->conn_id, j->jrpc_id);
        if (!h)
            return;
        h->inflight = false;
        if (j->park_seconds > 0) {
            if (h->cancelled || s->stopping) {
                if (!h->ws || s->stopping)
                    held_answer_null(s, h);
                held_remove(s, (size_t)(h - s->held));
            } else if (j->notify_seq != s->notify_seq) {
                held_submit(s, h); /* a task became ready while this claim ran */
            }
            return;
        }
        held_remove(s, (size_t)(h - s->held)); /* answered below: task or null */
    } else if (j->park_seconds > 0) {
        struct held h = {.conn_id = j->conn_id, .ws = j->ws, .wrap = j->wrap};

        h.jrpc_id = j->jrpc_id ? json_incref(j->jrpc_id) : NULL;
        memcpy(h.agent_id, j->agent_id, sizeof(h.agent_id));
        h.session = j->session ? mem_strdup(j->session) : NULL;
        h.deadline_ms = clock_ms() + (long long)j->park_seconds * 1000;
        if (s->stopping) {
            held_answer_null(s, &h);
            held_free(&h);
            return;
        }
        if (s->nheld == s->capheld) {
            s->capheld = s->capheld ? s->capheld * 2 : 64;
            s->held = mem_realloc(s->held, s->capheld * sizeof(*s->held));
        }
        s->held[s->nheld++] = h;
        if (j->notify_seq != s->notify_seq) /* a task became ready while the claim ran */
            held_submit(s, &s->held[s->nheld - 1]);
        if (!j->ws) {
            struct lws *wsi = reg_get(s, j->conn_id);
            if (wsi) /* held: the tick answers at the deadline, not the waiting backstop */
                fifo_del(lws_wsi_user(wsi));
        }
        return;
    }
    if (j->is_stream) {
        sse_open(s, j);
        return;
    }
    if (j->status == 0 && !j->close_ws)
        return;
    server_deliver(s, j->conn_id, j->ws, j->status, j->out, j->out_len, j);
}

static void server_drain_done(struct server *s)
{
    struct job *j;

    while ((j = workers_done_pop(s->pool))) {
        server_complete(s, j);
        job_free(j);
    }
}

static int server_submit(struct server *s, struct job *j)
{
    j->notify_seq = s->notify_seq;
    if (workers_submit(s->pool, j) < 0)
        return -1;
    s->inflight++;
    return 0;
}

/* ---- the periodic tick: deadlines, the re-check backstop, the sweep ---- */

static void server_tick(lws_sorted_usec_list_t *sul)
{
    struct server *s = lws_container_of(sul, struct server, tick);
    long long now = clock_ms();

    for (size_t i = 0; i < s->nheld;) {
        struct held *h = &s->held[i];
        if (!h->inflight && now >= h->deadline_ms) {
            held_answer_null(s, h);
            held_remove(s, i);
            continue;
        }
        i++;
    }
    sse_tick(s, now);
    fifo_expire(&s->idle, now, NULL);
    fifo_expire(&s->waiting, now, "no reply from a worker within 60 s");
    if (s->nheld > 0 && !s->recheck_pending && !s->stopping &&
        now - s->last_recheck_ms >= SERVER_RECHECK_MS) {
        struct job *j = job_new(JOB_RECHECK, 0);
        s->last_recheck_ms = now;
        j->nevents = s->nheld > INT_MAX / SERVER_WAKE_PER_NOTIFY ? INT_MAX / SERVER_WAKE_PER_NOTIFY
                                                                 : (int)s->nheld;
        if (workers_submit(s->pool, j) < 0)
            job_free(j); /* busy: the next tick asks again */
        else
            s->recheck_pending = true;
    }
    if (!s->sweep_pending && !s->stopping &&
        now - s->last_sweep_ms >= (long long)s->cfg->sweep_interval * 1000) {
        struct job *j = job_new(JOB_SWEEP, 0);
        s->last_sweep_ms = now;
        if (workers_submit(s->pool, j) < 0)
            job_free(j);
        else
            s->sweep_pending = true;
    }
    lws_sul_schedule(s->ctx, 0, &s->tick, server_tick, SERVER_TICK_US);
}

/* ---- HTTP ---- */

static bool accept_ok(struct lws *wsi)
{
    char a[512];

    return hdr_copy(wsi, WSI_TOKEN_HTTP_ACCEPT, a, sizeof(a)) > 0 && reqcheck_accept(a);
}

static bool ctype_json(struct lws *wsi)
{
    char c[128];

    return hdr_copy(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, c, sizeof(c)) > 0 && reqcheck_ctype_json(c);
}

static const char *http_method(struct lws *wsi, char *uri, int urisz)
{
    static const struct {
        enum lws_token_indexes t;
        const char *m;
    } ms[] = {{WSI_TOKEN_GET_URI, "GET"},       {WSI_TOKEN_POST_URI, "POST"},
              {WSI_TOKEN_DELETE_URI, "DELETE"}, {WSI_TOKEN_PUT_URI, "PUT"},
              {WSI_TOKEN_PATCH_URI, "PATCH"},   {WSI_TOKEN_OPTIONS_URI, "OPTIONS"}};

    for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++)
        if (lws_hdr_total_length(wsi, ms[i].t) > 0) {
            if (hdr_copy(wsi, ms[i].t, uri, urisz) <= 0)
                return NULL;
            return ms[i].m;
        }
    return NULL;
}

static long long content_length(struct lws *wsi)
{
    char v[32];

    if (hdr_copy(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, v, sizeof(v)) <= 0)
        return -1;
    return strtoll(v, NULL, 10);
}

/* Start a job for this request; POST bodies are collected first. */
static int http_begin(struct server *s, struct lws *wsi, struct http_txn *t, enum job_kind kind,
                      bool body)
{
    long long cl = content_length(wsi);

    t->job = job_new(kind, t->id);
    t->job->token = hdr_bearer(wsi);
    t->job->agent_hdr = hdr_custom_dup(wsi, "x-agent-id:", 64);
    t->job->session = hdr_custom_dup(wsi, "mcp-session-id:", 200);
    if (!body)
        return 1;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0) {
        /* lws 4.1 does not decode chunked request bodies: say so instead of timing out. */
        t->close_after = true;
        if (kind == JOB_MCP || kind == JOB_RPC)
            return txn_jrpc_error(wsi, t, 411, JRPC_INVALID_REQUEST,
                                  "Length Required: send the body with a Content-Length");
        return txn_error(wsi, t, 411, "length_required",
                         "send the body with a Content-Length (chunked bodies are not accepted)");
    }
    if (cl > s->cfg->max_body) {
        t->close_after = true; /* the body is not read: the connection cannot be reused */
        if (kind == JOB_MCP || kind == JOB_RPC)
            return txn_jrpc_error(wsi, t, 413, JRPC_INVALID_REQUEST,
                                  "Payload Too Large: request body exceeds the limit");
        return txn_error(wsi, t, 413, "too_large", "request body exceeds --max-body");
    }
    buf_init(&t->body, (size_t)s->cfg->max_body);
    t->st = TXN_BODY;
    /* No Content-Length and no Transfer-Encoding means no body (RFC 9112 §6.3): handle now,
     * or `curl -X POST` without --data would wait for a body that never comes. */
    if (cl <= 0)
        return 1;
    return 0;
}

static int http_submit(struct server *s, struct lws *wsi, struct http_txn *t)
{
    struct job *j = t->job;

    t->job = NULL;
    if (t->body.len) {
        j->body = buf_take(&t->body, &j->body_len);
    }
    t->st = TXN_WAIT;
    if (server_submit(s, j) < 0) {
        job_free(j);
        return txn_error(wsi, t, 503, "busy", "server busy, retry shortly");
    }
    /* Workers answer within the statement timeout; this is a backstop (a held poll leaves it). */
    fifo_add(&s->waiting, wsi, t);
    return 0;
}

static int http_mcp(struct server *s, struct lws *wsi, struct http_txn *t, const char *method)
{
    char v[64];
    int n;

    if (strcmp(method, "GET") == 0 || (strcmp(method, "POST") != 0 && strcmp(method, "DELETE"))) {
        t->allow = "POST, DELETE";
        return txn_jrpc_error(wsi, t, 405, JRPC_SERVER_ERROR, "Method not allowed.");
    }
    n = hdr_custom(wsi, "mcp-protocol-version:", v, sizeof(v));
    if (n == -2 || (n > 0 && !mcp_version_supported(v))) {
        char msg[256];
        snprintf(msg, sizeof(msg),
                 "Bad Request: Unsupported protocol version: %.60s (supported versions: "
                 "2025-11-25, 2025-06-18, 2025-03-26)",
                 n > 0 ? v : "(too long)");
        return txn_jrpc_error(wsi, t, 400, JRPC_SERVER_ERROR, msg);
    }
    if (strcmp(method, "DELETE") == 0) {
        int r;
        if (lws_hdr_custom_length(wsi, "mcp-session-id:", 15) <= 0)
            return txn_jrpc_error(wsi, t, 400, JRPC_SERVER_ERROR,
                                  "Bad Request: Mcp-Session-Id header is required");
        r = http_begin(s, wsi, t, JOB_MCP_DELETE, false);
        return r == 1 ? http_submit(s, wsi, t) : r;
    }
    if (!accept_ok(wsi))
        return txn_jrpc_error(
            wsi, t, 406, JRPC_SERVER_ERROR,
            "Not Acceptable: Client must accept both application/json and text/event-stream");
    if (!ctype_json(wsi))
        return txn_jrpc_error(wsi, t, 415, JRPC_SERVER_ERROR,
                              "Unsupported Media Type: Content-Type must be application/json");
    n = http_begin(s, wsi, t, JOB_MCP, true);
    if (t->job) /* a missing header means 2025-03-26 (the spec's fallback) */
        t->job->version = mem_strdup(v[0] ? v : "2025-03-26");
    return n == 1 ? http_submit(s, wsi, t) : n;
}

static int http_seed(struct server *s, struct lws *wsi, struct http_txn *t, const char *method,
                     enum job_kind kind)
{
    int n;

    if (strcmp(method, "POST") != 0) {
        t->allow = "POST";
        return txn_error(wsi, t, 405, "method_not_allowed", "use POST");
    }
    if (!ctype_json(wsi))
        return txn_error(wsi, t, 415, "unsupported_media_type",
                         "Content-Type must be application/json");
    n = http_begin(s, wsi, t, kind, true);
    return n == 1 ? http_submit(s, wsi, t) : n;
}

static int http_api(struct server *s, struct lws *wsi, struct http_txn *t, const char *method,
                    const char *path)
{
    char q[1024];
    bool body =
        strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0;
    int n = http_begin(s, wsi, t, JOB_API, body);

    if (t->job) {
        t->job->method = mem_strdup(method);
        t->job->path = mem_strdup(path);
        /* lws splits the query into fragments; join them back with '&'. */
        q[0] = '\0';
        for (int i = 0, used = 0; i < 32; i++) {
            char frag[512];
            int fl = lws_hdr_copy_fragment(wsi, frag, sizeof(frag), WSI_TOKEN_HTTP_URI_ARGS, i);
            if (fl <= 0)
                break;
            if (used + fl + 2 >= (int)sizeof(q))
                break;
            used += snprintf(q + used, sizeof(q) - (size_t)used, "%s%s", used ? "&" : "", frag);
        }
        t->job->query = mem_strdup(q);
        t->job->idem_key = hdr_custom_dup(wsi, "idempotency-key:", 256);
        t->job->last_event_id = hdr_custom_dup(wsi, "last-event-id:", 64);
    }
    return n == 1 ? http_submit(s, wsi, t) : n;
}

static int http_asset(struct server *s, struct lws *wsi, struct http_txn *t, const char *method,
                      const char *path)
{
    const struct assets_file *f;

    (void)s;
    if (strcmp(method, "GET") != 0) {
        t->allow = "GET";
        return txn_error(wsi, t, 405, "method_not_allowed", "use GET");
    }
    f = assets_find(path);
    if (!f)
        return txn_error(wsi, t, 404, "not_found", "no such page");
    t->is_asset = true;
    txn_set(wsi, t, 200, assets_mime(f->path), f->data, f->len);
    return 0;
}

static int http_request(struct server *s, struct lws *wsi, struct http_txn *t)
{
    char uri[2048];
    const char *method = http_method(wsi, uri, sizeof(uri));
    int n;

    txn_clear(s, t);
    t->id = reg_add(s, wsi);
    t->started_ms = clock_ms();
    if (!method) {
        t->close_after = true;
        return txn_error(wsi, t, 400, "bad_request", "unsupported method or URI too long");
    }
    if (!server_origin_ok(s, wsi))
        return txn_jrpc_error(wsi, t, 403, JRPC_SERVER_ERROR,
                              "Forbidden: Origin or Host not allowed");
    if (s->stopping) {
        t->close_after = true;
        return txn_error(wsi, t, 503, "shutting_down", "server is shutting down");
    }
    if (strcmp(uri, "/health") == 0) {
        txn_json(wsi, t, 200, json_pack("{s:s}", "status", "ok"));
        return 0;
    }
    if (strcmp(uri, "/ready") == 0) {
        /* Shutting down (its own agents still handing tasks back): out of the load balancer. */
        if (s->closing) {
            txn_json(wsi, t, 503, json_pack("{s:s}", "status", "stopping"));
            return 0;
        }
        n = http_begin(s, wsi, t, JOB_READY, false);
        return n == 1 ? http_submit(s, wsi, t) : n;
    }
    if (strcmp(uri, "/mcp") == 0 || strcmp(uri, "/mcp/") == 0)
        return http_mcp(s, wsi, t, method);
    if (strcmp(uri, "/rpc") == 0)
        return http_seed(s, wsi, t, method, JOB_RPC);
    if (strcmp(uri, "/tools/call") == 0)
        return http_seed(s, wsi, t, method, JOB_TOOLS_CALL);
    if (strcmp(uri, "/heartbeat") == 0)
        return http_seed(s, wsi, t, method, JOB_HEARTBEAT);
    /* /metrics is a public route of the REST router (api/metrics.c). */
    if (strncmp(uri, "/api/", 5) == 0 || strcmp(uri, "/api") == 0 || strcmp(uri, "/metrics") == 0)
        return http_api(s, wsi, t, method, uri);
    if (strcmp(uri, "/ws") == 0)
        return txn_error(wsi, t, 426, "upgrade_required",
                         "/ws is a WebSocket endpoint (subprotocol mcp)");
    return http_asset(s, wsi, t, method, uri);
}

static int http_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len)
{
    struct server *s = server_of(wsi);
    struct http_txn *t = user;

    switch (reason) {
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (s && s->pool)
            server_drain_done(s);
        return 0;
    case LWS_CALLBACK_HTTP:
        return http_request(s, wsi, t) < 0 ? -1 : 0;
    case LWS_CALLBACK_HTTP_BODY:
        if (t->st != TXN_BODY)
            return 0;
        /* A body dribbled slower than the idle timeout is a slow-loris: drop it. */
        if (clock_ms() - t->started_ms > (long long)s->cfg->idle_timeout * 1000)
            return -1;
        if (buf_append(&t->body, in, len) < 0)
            return -1; /* over --max-body without a Content-Length saying so: close */
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (t->st != TXN_BODY)
            return 0;
        return http_submit(s, wsi, t) < 0 ? -1 : 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return txn_write(s, wsi, t);
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (t)
            txn_clear(s, t);
        break;
    case LWS_CALLBACK_WSI_DESTROY:
        /* The last word before lws frees the connection's data (it comes to this callback for
         * every connection): never leave it linked in a FIFO, whichever way it closed. */
        if (t && lws_get_protocol(wsi) && lws_get_protocol(wsi)->callback == http_cb)
            fifo_del(t);
        break;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* ---- WebSocket ---- */

static void ws_queue(struct server *s, struct lws *wsi, struct ws_sess *w, const char *out,
                     size_t len)
{
    struct ws_msg *m = mem_alloc(sizeof(*m) + LWS_PRE + len);

    (void)s;
    m->next = NULL;
    m->len = len;
    memcpy(m->data + LWS_PRE, out, len);
    if (w->out_tail)
        w->out_tail->next = m;
    else
        w->out_head = m;
    w->out_tail = m;
    w->nout++;
    lws_callback_on_writable(wsi);
}

static void ws_clear(struct server *s, struct ws_sess *w)
{
    if (w->id) {
        reg_del(s, w->id);
        held_drop_conn(s, w->id); /* nobody left to answer */
    }
    w->id = 0;
    while (w->out_head) {
        struct ws_msg *m = w->out_head;
        w->out_head = m->next;
        free(m);
    }
    w->out_tail = NULL;
    w->nout = 0;
    buf_clear(&w->rx);
}

static int ws_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                 size_t len)
{
    struct server *s = server_of(wsi);
    struct ws_sess *w = user;

    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
        char *tok;

        if (!server_origin_ok(s, wsi) || s->stopping)
            return 1;
        tok = hdr_bearer(wsi);
        /* Malformed or missing: refuse the upgrade now. A well-formed token is verified (via
         * the cache) on the worker for every message, so revocation applies here too. */
        if (s->cfg->auth && (!tok || strlen(tok) != PRINCIPAL_TOKEN_LEN - 1)) {
            free(tok);
            return 1;
        }
        if (s->cfg->auth && mcp_serve_ws_peek(s->app->env, tok) < 0) {
            free(tok);
            return 1; /* known, but not an agent token */
        }
        if (w) {
            snprintf(w->token, sizeof(w->token), "%s", tok ? tok : "");
            hdr_custom(wsi, "x-agent-id:", w->agent_hdr, sizeof(w->agent_hdr));
        }
        free(tok);
        return 0;
    }
    case LWS_CALLBACK_ESTABLISHED: {
        w->id = reg_add(s, wsi);
        buf_init(&w->rx, (size_t)s->cfg->max_body);
        /* A token the cache does not know is verified now, so a bad one is refused (error +
         * close) before the client sends anything; every message is checked again anyway. */
        if (s->cfg->auth && mcp_serve_ws_peek(s->app->env, w->token) == 0) {
            struct job *j = job_new(JOB_WS_AUTH, w->id);
            j->ws = true;
            j->token = mem_strdup(w->token);
            j->agent_hdr = w->agent_hdr[0] ? mem_strdup(w->agent_hdr) : NULL;
            if (server_submit(s, j) < 0)
                job_free(j);
            else
                w->running++;
        }
        break;
    }
    case LWS_CALLBACK_RECEIVE: {
        struct job *j;

        if (buf_append(&w->rx, in, len) < 0) {
            lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, NULL, 0);
            return -1;
        }
        if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
            return 0;
        j = job_new(JOB_RPC, w->id);
        j->ws = true;
        j->body = buf_take(&w->rx, &j->body_len);
        j->token = w->token[0] ? mem_strdup(w->token) : NULL;
        j->agent_hdr = w->agent_hdr[0] ? mem_strdup(w->agent_hdr) : NULL;
        if (server_submit(s, j) < 0) {
            json_t *e = jrpc_error(NULL, JRPC_SERVER_ERROR, "server busy", NULL);
            char *txt = json_dumps(e, JSON_COMPACT);
            ws_queue(s, wsi, w, txt, strlen(txt));
            free(txt);
            json_decref(e);
            job_free(j);
            return 0;
        }
        w->running++;
        if (w->nout + w->running >= SERVER_WS_MAX_OUTSTANDING) {
            w->paused = true; /* back-pressure: read no more until replies drain */
            lws_rx_flow_control(wsi, 0);
        }
        return 0;
    }
    case LWS_CALLBACK_SERVER_WRITEABLE: {
        struct ws_msg *m = w->out_head;

        if (!m) {
            if (w->close_after) {
                lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, NULL, 0);
                return -1;
            }
            return 0;
        }
        if (lws_write(wsi, m->data + LWS_PRE, m->len, LWS_WRITE_TEXT) < (int)m->len)
            return -1;
        w->out_head = m->next;
        if (!w->out_head)
            w->out_tail = NULL;
        w->nout--;
        free(m);
        if (w->out_head || w->close_after)
            lws_callback_on_writable(wsi);
        if (w->paused && w->nout + w->running < SERVER_WS_MAX_OUTSTANDING / 2) {
            w->paused = false;
            lws_rx_flow_control(wsi, 1);
        }
        return 0;
    }
    case LWS_CALLBACK_CLOSED:
        ws_clear(s, w);
        break;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* ---- start, run, stop ---- */

static const struct lws_protocols server_protocols[] = {
    {"http", http_cb, sizeof(struct http_txn), 0, 0, NULL, 0},
    {"mcp", ws_cb, sizeof(struct ws_sess), 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* Every path goes to http_cb; the ws upgrade on /ws is handled before mounts apply. */
static const struct lws_http_mount server_mount = {
    .mountpoint = "/",
    .mountpoint_len = 1,
    .origin_protocol = LWSMPRO_CALLBACK,
    .protocol = "http",
};

/* Clients that send no Sec-WebSocket-Protocol are bound to "mcp" too. */
static const struct lws_protocol_vhost_options server_pvo_default = {NULL, NULL, "default", ""};
static const struct lws_protocol_vhost_options server_pvo = {NULL, &server_pvo_default, "mcp", ""};

/* No WebSocket ping/hang-up timer: lws would keep one per connection in its sorted timeout
 * list (see struct txn_fifo), re-inserted at every message. Dead peers are found by TCP
 * keepalive instead (info.ka_*), live agents heartbeat anyway. */
static const lws_retry_bo_t server_retry = {
    .secs_since_valid_ping = 0,
    .secs_since_valid_hangup = 0,
};

/* One round of the event loop: wait for events (the 250 ms tick bounds it) and handle them. */
static int server_service(struct server *s)
{
    if (s->ev) {
        ev_run(s->ev, EVRUN_ONCE);
        return 0;
    }
    return lws_service(s->ctx, 0);
}

/*
 * lws 4.1's own loop calls poll() over every connection at each wake-up: with 10,000 agents
 * that scan was most of droverd's CPU. With epoll (libev, loaded by lws from Debian's
 * libwebsockets-evlib-ev) a wake-up costs what is ready, not what is open. The loop is ours
 * ("foreign" to lws) so that one round at a time can run and the stop logic stays here.
 */
static struct lws_context *server_context(struct server *s, struct lws_context_creation_info *info)
{
    void *loops[1];
    struct lws_context *ctx;

    if (!s->cfg->event_loop_poll) {
        /* ev_loop_new, not the default loop: that one would take over SIGCHLD, which the
         * process pod backend needs for its agents. */
        s->ev = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOSIGMASK);
        if (s->ev) {
            loops[0] = s->ev;
            info->foreign_loops = loops;
            info->options |= LWS_SERVER_OPTION_LIBEV;
            ctx = lws_create_context(info);
            info->foreign_loops = NULL;
            info->options &= ~(uint64_t)LWS_SERVER_OPTION_LIBEV;
            if (ctx) {
                log_info("server", "event loop: libev (%s)",
                         ev_backend(s->ev) == EVBACKEND_EPOLL ? "epoll" : "not epoll");
                return ctx;
            }
            ev_loop_destroy(s->ev);
            s->ev = NULL;
        }
        log_warn("server", "event loop: libev unavailable (is libwebsockets-evlib-ev "
                           "installed?); falling back to poll()");
    }
    ctx = lws_create_context(info);
    if (ctx)
        log_info("server", "event loop: poll");
    return ctx;
}

static void server_signal(int sig)
{
    (void)sig;
    atomic_store(&server_stop_flag, true);
    if (server_signal_ctx)
        lws_cancel_service(server_signal_ctx);
}

static void server_wake(void *arg)
{
    struct server *s = arg;

    if (s->ctx)
        lws_cancel_service(s->ctx);
}

static void server_lws_log(int level, const char *line)
{
    size_t n = strlen(line);

    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    if (level & LLL_ERR)
        log_warn("lws", "%.*s", (int)n, line);
    else
        log_debug("lws", "%.*s", (int)n, line);
}

/*
 * Set the soft descriptor limit to `want` (as far as the hard limit allows): it is what bounds
 * the connections. (Not lws's fd_limit_per_thread: below the process limit, that makes lws 4.1
 * find a connection from its descriptor by a linear scan of every slot, on every event: 35 % of
 * droverd's CPU at 15,000 connections. At the process limit, the lookup is an index.)
 */
static void server_set_fd_limit(int want)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != (rlim_t)want) {
        rl.rlim_cur = rl.rlim_max < (rlim_t)want ? rl.rlim_max : (rlim_t)want;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            log_warn("server", "cannot set the descriptor limit to %d: %s", want, strerror(errno));
    }
}

/* Answer every waiting held poll with {task:null} (shutdown). */
static void server_release_held(struct server *s)
{
    for (size_t i = 0; i < s->nheld;) {
        if (!s->held[i].inflight) {
            held_answer_null(s, &s->held[i]);
            held_remove(s, i);
            continue;
        }
        i++;
    }
}

/*
 * lws carries on without a listener when the address is not one of this host's, so try the
 * bind first and refuse to start with a clear message instead. 0 or -1.
 */
static int server_check_bind(const char *host, int port)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *res = NULL;
    char ps[16];
    int fd, one = 1, rc = -1;

    snprintf(ps, sizeof(ps), "%d", port);
    if (getaddrinfo(host, ps, &hints, &res) != 0 || !res) {
        log_error("server", "cannot resolve listen host '%s'", host);
        return -1;
    }
    fd = socket(res->ai_family, SOCK_STREAM, 0);
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        rc = bind(fd, res->ai_addr, res->ai_addrlen);
        if (rc < 0)
            log_error("server", "cannot listen on %s:%d: %s", host, port, strerror(errno));
        close(fd);
    }
    freeaddrinfo(res);
    return rc < 0 ? -1 : 0;
}

int server_run(const struct cfg *cfg, const struct server_app *app)
{
    struct lws_context_creation_info info;
    struct server *s = mem_calloc(1, sizeof(*s));
    struct sigaction sa;
    long long drain_until = 0;
    int rc = 1;

    s->cfg = cfg;
    s->app = app;
    /* Connections, plus the workers' and the LISTEN thread's database sockets, the pool's, and
     * files. */
    server_set_fd_limit(cfg->max_conns + cfg->workers + 64);

    lws_set_log_level(LLL_ERR | (log_threshold >= LOG_DEBUG ? LLL_WARN | LLL_NOTICE : 0),
                      server_lws_log);
    memset(&info, 0, sizeof(info));
    info.port = cfg->listen_port;
    /* lws takes an address or an interface name here; "localhost" would be read as the latter */
    info.iface = strcmp(cfg->listen_host, "localhost") == 0 ? "127.0.0.1" : cfg->listen_host;
    info.protocols = server_protocols;
    info.mounts = &server_mount;
    info.pvo = &server_pvo;
    info.user = s;
    info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_DISABLE_IPV6;
    if (strchr(cfg->listen_host, ':'))
        info.options &= ~(uint64_t)LWS_SERVER_OPTION_DISABLE_IPV6;
    info.timeout_secs = (unsigned)cfg->idle_timeout;
    /* An agent's keep-alive connection idles for a heartbeat interval between requests: closing
     * it at the same moment the next heartbeat is sent fails that heartbeat (seen at 10,000
     * agents with both at 30 s). Keep idle connections past one interval, with slack. */
    info.keepalive_timeout = cfg->idle_timeout > 2 * cfg->heartbeat_interval + 15
                                 ? cfg->idle_timeout
                                 : 2 * cfg->heartbeat_interval + 15;
    info.timeout_secs_ah_idle = (unsigned)cfg->idle_timeout; /* headers dribbled in */
    info.retry_and_idle_policy = &server_retry;
    /* A peer that vanished (no FIN, no RST) is found by the kernel: probes after 60 s idle,
     * every 10 s, closed after 3 unanswered (~90 s). */
    info.ka_time = 60;
    info.ka_probes = 3;
    info.ka_interval = 10;
    s->idle.limit_ms = (long long)info.keepalive_timeout * 1000;
    s->waiting.limit_ms = SERVER_WAIT_BACKSTOP_MS;
    info.max_http_header_data = 8192;
    info.pt_serv_buf_size = 32768;

    if (server_check_bind(info.iface, cfg->listen_port) < 0) {
        free(s);
        return 1;
    }
    /* Workers before the context: they only need a wake function that tolerates ctx == NULL. */
    s->pool = workers_start(cfg->workers, app->worker_open, app->worker_close, app->arg, work_run,
                            server_wake, s);
    s->ctx = server_context(s, &info);
    if (!s->ctx) {
        log_error("server", "cannot listen on %s:%d (address in use or not available?)",
                  cfg->listen_host, cfg->listen_port);
        goto out;
    }
    s->listen = listen_start(cfg->database_url, s->pool);
    server_signal_ctx = s->ctx;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = server_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    {
        struct lws_vhost *vh = lws_get_vhost_by_name(s->ctx, "default");
        int port = vh ? lws_get_vhost_listen_port(vh) : cfg->listen_port;
        log_info("server", "listening on %s:%d workers=%d auth=%s", cfg->listen_host, port,
                 cfg->workers, cfg->auth ? "on" : "off");
        /* Tests start with port 0 and read the real one from this line on stdout. */
        printf("droverd listening on %s:%d\n", cfg->listen_host, port);
        fflush(stdout);
    }
    s->last_sweep_ms = clock_ms();
    lws_sul_schedule(s->ctx, 0, &s->tick, server_tick, SERVER_TICK_US);

    while (server_service(s) >= 0) {
        if (atomic_load(&server_stop_flag) && !s->closing) {
            /* Agents this droverd started hand their tasks back through it: keep serving them
             * (but hand out no new task) until the hook says they are gone. Waiting polls get
             * {task: null} now; later ones are held, claiming nothing, until stopping. */
            log_info("server", "stopping: no new claims; waiting for this droverd's own agents");
            s->closing = true;
            if (app->claims_closed)
                atomic_store(app->claims_closed, true);
            server_release_held(s);
            if (app->drain_begin)
                app->drain_begin(app->arg);
        }
        if (s->closing && !s->stopping && app->drain_done && !app->drain_done(app->arg))
            continue;
        if (s->closing && !s->stopping) {
            /* New requests get 503 + close from here on. (lws_context_deprecate would close the
             * listener, but it also drops connections whose replies are still queued.) */
            log_info("server", "stopping: refusing new requests, finishing in-flight ones");
            s->stopping = true;
            sse_close_all(s);
            drain_until = clock_ms() + SERVER_DRAIN_MS;
        }
        if (s->stopping) {
            server_drain_done(s);
            server_release_held(s);
            if ((s->inflight <= 0 && s->nheld == 0 && s->writing <= 0 &&
                 workers_busy(s->pool) == 0) ||
                clock_ms() > drain_until)
                break;
        }
    }
    /* Let the last replies reach their sockets. Each pass would otherwise wait for the next
     * event or tick (lws_service ignores its timeout, EVRUN_ONCE blocks): up to 5 s spent for
     * nothing at exit. */
    for (int i = 0; i < 20; i++) {
        lws_cancel_service(s->ctx);
        server_service(s);
    }
    rc = 0;
out:
    listen_stop(s->listen);
    workers_stop(s->pool);
    if (s->ctx) {
        lws_sul_cancel(&s->tick);
        server_signal_ctx = NULL;
        lws_context_destroy(s->ctx);
    }
    if (s->ev)
        ev_loop_destroy(s->ev);
    workers_free(s->pool);
    for (size_t i = 0; i < s->nheld; i++)
        held_free(&s->held[i]);
    free(s->held);
    free(s->sse);
    for (size_t b = 0; b < SERVER_REG_BUCKETS; b++)
        while (s->reg[b]) {
            struct reg_node *n = s->reg[b];
            s->reg[b] = n->next;
            free(n);
        }
    free(s);
    return rc;
}
