/*
 * The HTTP transaction of one connection, reused across keep-alive requests:
 *
 *   IDLE -> (request) -> BODY (collecting) -> WAIT (a worker has the job) -> READY (reply set)
 *        -> HDRS_SENT -> DONE -> IDLE again, or SSE (a stream, until it ends).
 *
 * This file holds the checks every request passes (method, Origin/Host, shutdown), the
 * replies, starting a job for a request, writing the response and the lws "http" protocol
 * callback; which path does what is the route table (net/route.c). Service thread only.
 */
#include "core/log.h"
#include "core/mem.h"
#include "mcp/jrpc.h"
#include "mcp/mcp.h"
#include "core/clock.h"
#include "net/hdr.h"
#include "net/server_int.h"
#include "net/workers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The finished transaction's access log line: queued, formatted and written by the log's thread. */
static void http_access(struct server *s, struct http_txn *t, size_t bytes)
{
    if (!s->app.access || !t->acc.method[0])
        return;
    t->acc.status = t->status ? t->status : 200; /* a stream's headers went out as 200 */
    t->acc.bytes = bytes;
    t->acc.duration_us = (long long)(clock_s() * 1e6) - t->started_us;
    t->acc.ts_ms = 0;
    accesslog_add(s->app.access, &t->acc);
    t->acc.method[0] = '\0';
}

static void http_txn_clear(struct server *s, struct http_txn *t)
{
    if (t->st == TXN_SSE)
        http_access(s, t, 0); /* a stream is logged when it ends */
    t->acc.method[0] = t->acc.who[0] = '\0';
    fifo_del(t);
    if (t->id && t->st == TXN_WAIT)
        held_drop_conn(s, t->id); /* the client left: stop claiming on its behalf */
    if (t->st == TXN_READY || t->st == TXN_HDRS_SENT)
        s->writing--;
    if (t->st == TXN_SSE)
        sse_remove(s, t->id);
    msgq_clear(&t->sse_out);
    t->sse_hdrs_sent = false;
    if (t->id)
        conn_del(s, t->id);
    t->id = 0;
    job_free(t->job);
    t->job = NULL;
    buf_clear(&t->body);
    free(t->out);
    t->out = NULL;
    free(t->session_hdr);
    t->session_hdr = NULL;
    free(t->challenge);
    t->challenge = NULL;
    t->out_len = 0;
    t->st = TXN_IDLE;
    t->www_auth = t->close_after = t->is_asset = false;
    t->retry_after = 0;
    t->allow = NULL;
    t->status = 0;
}

void http_reply(struct lws *wsi, struct http_txn *t, int status, const char *ctype,
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

void http_reply_json(struct lws *wsi, struct http_txn *t, int status, json_t *body)
{
    char *s = body ? json_dumps(body, JSON_COMPACT) : NULL;

    http_reply(wsi, t, status, "application/json", s, s ? strlen(s) : 0);
    free(s);
    json_decref(body);
}

int http_reply_error(struct lws *wsi, struct http_txn *t, enum err_code code, const char *reason,
                     const char *msg)
{
    http_reply_json(wsi, t, err_http_status(code),
                    json_pack("{s:{s:s,s:s}}", "error", "code",
                              reason ? reason : err_code_name(code), "message", msg));
    return 0;
}

int http_reply_jrpc(struct lws *wsi, struct http_txn *t, int status, int code, const char *msg)
{
    http_reply_json(wsi, t, status, mcp_reply_transport_error(code, msg));
    return 0;
}

static int http_add_header(struct lws *wsi, const char *name, const char *value, size_t len,
                           uint8_t **p, uint8_t *end)
{
    return lws_add_http_header_by_name(wsi, (const uint8_t *)name, (const uint8_t *)value, (int)len,
                                       p, end);
}

/* The response headers of a READY transaction. 0 or -1. */
static int http_write_headers(struct lws *wsi, struct http_txn *t, uint8_t *start, uint8_t **p,
                              uint8_t *end)
{
    static const char auth[] = "Bearer realm=\"drover\", error=\"invalid_token\"";
    static const char csp[] =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

    if (lws_add_http_common_headers(wsi, (unsigned)t->status, t->content_type,
                                    (lws_filepos_t)t->out_len, p, end))
        return -1;
    if (!t->is_asset && http_add_header(wsi, "cache-control:", "no-store", 8, p, end))
        return -1;
    if (t->session_hdr &&
        http_add_header(wsi, "mcp-session-id:", t->session_hdr, strlen(t->session_hdr), p, end))
        return -1;
    if (t->www_auth &&
        http_add_header(wsi, "www-authenticate:", t->challenge ? t->challenge : auth,
                        t->challenge ? strlen(t->challenge) : sizeof(auth) - 1, p, end))
        return -1;
    if (t->allow && http_add_header(wsi, "allow:", t->allow, strlen(t->allow), p, end))
        return -1;
    if (t->is_asset &&
        (http_add_header(wsi, "content-security-policy:", csp, sizeof(csp) - 1, p, end) ||
         http_add_header(wsi, "x-content-type-options:", "nosniff", 7, p, end)))
        return -1;
    if (t->retry_after > 0) {
        char ra[16];
        int n = snprintf(ra, sizeof(ra), "%d", t->retry_after);

        if (http_add_header(wsi, "retry-after:", ra, (size_t)n, p, end))
            return -1;
    }
    if (t->close_after && http_add_header(wsi, "connection:", "close", 5, p, end))
        return -1;
    return lws_finalize_write_http_header(wsi, start, p, end) ? -1 : 0;
}

static int http_write(struct server *s, struct lws *wsi, struct http_txn *t)
{
    uint8_t hb[LWS_PRE + 2048], *start = hb + LWS_PRE, *p = start, *end = hb + sizeof(hb) - 1;

    switch (t->st) {
    case TXN_SSE:
        return sse_write(wsi, t);
    case TXN_READY:
        if (http_write_headers(wsi, t, start, &p, end) < 0)
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
    http_access(s, t, t->out_len);
    if (t->id)
        conn_del(s, t->id);
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

int http_job_begin(struct server *s, struct lws *wsi, struct http_txn *t, enum job_kind kind,
                   enum http_body body)
{
    long long cl = hdr_content_length(wsi);

    t->job = job_new(kind, t->id);
    t->job->token = hdr_bearer(wsi);
    t->job->agent_hdr = hdr_custom_dup(wsi, "x-agent-id:", 64);
    t->job->session = hdr_custom_dup(wsi, "mcp-session-id:", 200);
    if (cl == -2) {
        /* "-5" or "5, 6": where this request's body ends is unknown, so the connection cannot
         * carry another one (reading on would take body bytes for the next request). */
        t->close_after = true;
        if (body == HTTP_BODY_JRPC)
            return http_reply_jrpc(wsi, t, 400, JRPC_INVALID_REQUEST,
                                   "Bad Request: invalid Content-Length");
        return http_reply_error(wsi, t, ERR_INVALID, "bad_request", "invalid Content-Length");
    }
    if (!ratelimit_take(&s->rate, t->job->token, clock_ms(), &t->retry_after)) {
        t->close_after = body != HTTP_NO_BODY && cl > 0; /* the body is not read */
        if (body == HTTP_BODY_JRPC)
            return http_reply_jrpc(wsi, t, 429, JRPC_SERVER_ERROR,
                                   "Too Many Requests: this token's rate limit; see Retry-After");
        return http_reply_error(wsi, t, ERR_RATE_LIMITED, NULL,
                                "too many requests with this token; retry after the number of "
                                "seconds in Retry-After (--rate-limit)");
    }
    if (body == HTTP_NO_BODY)
        return 1;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0) {
        /* lws 4.1 does not decode chunked request bodies: say so instead of timing out. */
        t->close_after = true;
        if (body == HTTP_BODY_JRPC)
            return http_reply_jrpc(wsi, t, 411, JRPC_INVALID_REQUEST,
                                   "Length Required: send the body with a Content-Length");
        return http_reply_error(
            wsi, t, ERR_LENGTH_REQUIRED, NULL,
            "send the body with a Content-Length (chunked bodies are not accepted)");
    }
    if (cl > s->cfg->max_body) {
        t->close_after = true; /* the body is not read: the connection cannot be reused */
        if (body == HTTP_BODY_JRPC)
            return http_reply_jrpc(wsi, t, 413, JRPC_INVALID_REQUEST,
                                   "Payload Too Large: request body exceeds the limit");
        return http_reply_error(wsi, t, ERR_TOO_LARGE, NULL, "request body exceeds --max-body");
    }
    buf_init(&t->body, (size_t)s->cfg->max_body);
    t->st = TXN_BODY;
    /* No Content-Length and no Transfer-Encoding means no body (RFC 9112 §6.3): handle now,
     * or `curl -X POST` without --data would wait for a body that never comes. */
    if (cl <= 0)
        return 1;
    return 0;
}

int http_job_submit(struct server *s, struct lws *wsi, struct http_txn *t)
{
    struct job *j = t->job;

    t->job = NULL;
    if (t->body.len) {
        j->body = buf_take(&t->body, &j->body_len);
    }
    t->st = TXN_WAIT;
    if (server_submit(s, j) < 0) {
        job_free(j);
        return http_reply_error(wsi, t, ERR_BUSY, NULL, "server busy, retry shortly");
    }
    /* Workers answer within the statement timeout; this is a backstop (a held poll leaves it). */
    fifo_add(&s->waiting, wsi, t);
    return 0;
}

/* A new request on the connection: the checks every route shares, then the route table. */
static int http_request(struct server *s, struct lws *wsi, struct http_txn *t)
{
    char uri[2048];
    const char *method = hdr_method(wsi, uri, sizeof(uri));

    http_txn_clear(s, t);
    t->id = conn_add(s, wsi);
    t->started_ms = clock_ms();
    t->started_us = (long long)(clock_s() * 1e6);
    if (method) {
        snprintf(t->acc.method, sizeof(t->acc.method), "%s", method);
        accesslog_set_path(&t->acc, uri);
    }
    if (!method) {
        t->close_after = true;
        return http_reply_error(wsi, t, ERR_INVALID, "bad_request",
                                "unsupported method or URI too long");
    }
    if (!hdr_origin_ok(s->cfg, wsi))
        return http_reply_jrpc(wsi, t, 403, JRPC_SERVER_ERROR,
                               "Forbidden: Origin or Host not allowed");
    if (s->stopping) {
        t->close_after = true;
        return http_reply_error(wsi, t, ERR_UNAVAILABLE, "shutting_down",
                                "server is shutting down");
    }
    return route_dispatch(s, wsi, t, method, uri);
}

int http_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    struct server *s = server_of(wsi);
    struct http_txn *t = user;

    switch (reason) {
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (s && s->pool)
            server_completions(s);
        return 0;
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION: {
        /* `user` is lws's accept record here, not our transaction. */
        const struct lws_filter_network_conn_args *a = user;

        return connlimit_admit(&s->per_addr, a ? (const struct sockaddr *)&a->cli_addr : NULL) ? 0
                                                                                               : 1;
    }
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        /* HTTP/2 over cleartext would bypass the Host allow-list and the header limits that
         * the HTTP/1.1 path applies: only WebSocket upgrades are taken; h2c hangs up. */
        if (in && strcasecmp(in, "websocket") != 0) {
            log_debug("server", "refusing an upgrade to '%.20s'", (const char *)in);
            return -1;
        }
        return 0;
    case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
    case LWS_CALLBACK_HTTP_BIND_PROTOCOL:
        connlimit_bind(&s->per_addr, wsi);
        break;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        /* A WebSocket upgrade bound to this protocol instead of "mcp" (one that names no
         * subprotocol, before lws made "mcp" the default: see server_run). Nothing here would
         * check its token or answer it: refuse it. */
        log_warn("server", "refusing a WebSocket upgrade that reached the http protocol");
        return 1;
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
        return http_job_submit(s, wsi, t) < 0 ? -1 : 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return http_write(s, wsi, t);
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (t)
            http_txn_clear(s, t);
        break;
    case LWS_CALLBACK_WSI_DESTROY:
        /* The last word before lws frees the connection's data (it comes to this callback for
         * every connection): never leave it linked in a FIFO, whichever way it closed. */
        if (t && lws_get_protocol(wsi) && lws_get_protocol(wsi)->callback == http_cb)
            fifo_del(t);
        if (s)
            connlimit_release(&s->per_addr, wsi);
        break;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}
