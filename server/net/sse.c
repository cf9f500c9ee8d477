/*
 * Server-sent-events streams. An /api handler may answer with a stream (api/api.h,
 * struct api_stream); the connection then stays open and a worker fetches the next events
 * (JOB_SSE_FETCH) when NOTIFY drover_activity says there may be some, and every
 * API_STREAM_POLL_MS anyway. Events and keepalive comments queue on the connection and go out
 * as it becomes writable. Every fetch carries the stream's token and the worker verifies it
 * again (api/ops.c), so a stream opened with a token that is revoked since ends within a poll
 * interval plus the token cache's TTL. Service thread only.
 */
#include "core/mem.h"
#include "core/clock.h"
#include "net/server_int.h"
#include "net/workers.h"

#include <string.h>

#define SSE_KEEPALIVE_MS 15000
#define SSE_MAX_QUEUED 256 /* chunks queued for a slow client before it is dropped */

static struct sse *sse_find(struct server *s, uint64_t conn_id)
{
    for (size_t i = 0; i < s->nsse; i++)
        if (s->sse[i].conn_id == conn_id)
            return &s->sse[i];
    return NULL;
}

static void sse_free_token(struct sse *e)
{
    if (e->token) {
        memset(e->token, 0, strlen(e->token));
        free(e->token);
        e->token = NULL;
    }
}

void sse_remove(struct server *s, uint64_t conn_id)
{
    struct sse *e = sse_find(s, conn_id);

    if (e) {
        sse_free_token(e);
        *e = s->sse[--s->nsse];
    }
}

/* Streams open with `token`. */
static int sse_count_token(const struct server *s, const char *token)
{
    int n = 0;

    for (size_t i = 0; token && i < s->nsse; i++)
        n += s->sse[i].token && strcmp(s->sse[i].token, token) == 0;
    return n;
}

static void sse_submit(struct server *s, struct sse *e)
{
    struct job *j = job_new(JOB_SSE_FETCH, e->conn_id);

    j->stream = e->st;
    j->token = e->token ? mem_strdup(e->token) : NULL;
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
    struct lws *wsi = conn_get(s, conn_id);
    struct http_txn *t;

    if (!wsi || !len)
        return;
    t = lws_wsi_user(wsi);
    if (t->sse_out.n >= SSE_MAX_QUEUED) { /* a client this slow reconnects with Last-Event-ID */
        t->close_after = true;
        lws_callback_on_writable(wsi);
        return;
    }
    msgq_push(&t->sse_out, text, len);
    lws_callback_on_writable(wsi);
}

/* Ask the stream's connection to close once what is queued went out. */
static void sse_close_conn(struct server *s, uint64_t conn_id)
{
    struct lws *wsi = conn_get(s, conn_id);

    if (wsi) {
        ((struct http_txn *)lws_wsi_user(wsi))->close_after = true;
        lws_callback_on_writable(wsi);
    }
}

void sse_open(struct server *s, const struct job *j)
{
    struct lws *wsi = conn_get(s, j->conn_id);
    struct http_txn *t;
    struct sse e = {.conn_id = j->conn_id, .st = j->stream};

    if (!wsi)
        return;
    t = lws_wsi_user(wsi);
    if (!t || t->id != j->conn_id)
        return;
    /* A token holds a bounded number of streams: each costs a fetch every poll interval. */
    if (sse_count_token(s, j->token) >= s->cfg->max_streams_per_token) {
        t->close_after = true;
        t->retry_after = API_STREAM_POLL_MS / 1000 + 1;
        http_reply_error(wsi, t, ERR_RATE_LIMITED, NULL,
                         "this token holds as many event streams as it may "
                         "(--max-streams-per-token); close one first");
        return;
    }
    e.token = j->token ? mem_strdup(j->token) : NULL;
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

void sse_fetched(struct server *s, const struct job *j)
{
    struct sse *e = sse_find(s, j->conn_id);

    if (!e)
        return;
    e->inflight = false;
    if (j->stream_end) {
        sse_close_conn(s, j->conn_id);
        sse_remove(s, j->conn_id);
        return;
    }
    memcpy(e->st.cursor, j->stream.cursor, sizeof(e->st.cursor));
    sse_queue(s, j->conn_id, j->out, j->out_len);
    if (e->dirty)
        sse_submit(s, e);
}

void sse_activity(struct server *s)
{
    for (size_t i = 0; i < s->nsse; i++) {
        if (s->sse[i].inflight)
            s->sse[i].dirty = true;
        else
            sse_submit(s, &s->sse[i]);
    }
}

void sse_tick(struct server *s, long long now)
{
    for (size_t i = 0; i < s->nsse; i++) {
        struct sse *e = &s->sse[i];
        if (!e->inflight && now - e->last_fetch_ms >= API_STREAM_POLL_MS)
            sse_submit(s, e);
        if (now - e->last_keepalive_ms >= SSE_KEEPALIVE_MS) {
            e->last_keepalive_ms = now;
            sse_queue(s, e->conn_id, ": keepalive\n\n", 13);
        }
    }
}

/* Shutdown: end every stream (clients reconnect elsewhere with Last-Event-ID). */
void sse_close_all(struct server *s)
{
    for (size_t i = 0; i < s->nsse; i++) {
        sse_close_conn(s, s->sse[i].conn_id);
        sse_free_token(&s->sse[i]);
    }
    s->nsse = 0;
}

int sse_write(struct lws *wsi, struct http_txn *t)
{
    uint8_t hb[LWS_PRE + 1024], *start = hb + LWS_PRE, *p = start, *end = hb + sizeof(hb) - 1;
    struct msgq_msg *m;

    if (!t->sse_hdrs_sent) {
        if (lws_add_http_common_headers(wsi, HTTP_STATUS_OK, "text/event-stream",
                                        LWS_ILLEGAL_HTTP_CONTENT_LEN, &p, end) ||
            lws_add_http_header_by_name(
                wsi, (const uint8_t *)"cache-control:", (const uint8_t *)"no-store", 8, &p, end) ||
            lws_finalize_write_http_header(wsi, start, &p, end))
            return -1;
        t->sse_hdrs_sent = true;
        lws_http_mark_sse(wsi); /* no idle timeouts on this stream */
        if (t->sse_out.head || t->close_after)
            lws_callback_on_writable(wsi);
        return 0;
    }
    m = t->sse_out.head;
    if (!m)
        return t->close_after ? -1 : 0;
    if (lws_write(wsi, m->data + LWS_PRE, m->len, LWS_WRITE_HTTP) != (int)m->len)
        return -1;
    msgq_drop(&t->sse_out);
    if (t->sse_out.head || t->close_after)
        lws_callback_on_writable(wsi);
    return 0;
}
