/*
 * WebSocket connections on /ws (subprotocol "mcp", also given to clients that name none):
 * the same JSON-RPC as /rpc, one message per job. The upgrade is refused for a bad Origin or
 * Host, during shutdown, and for a token that is malformed or known not to be an agent's; a
 * token the cache does not know is verified at once (JOB_WS_AUTH). Replies queue per
 * connection; reading pauses while WS_MAX_OUTSTANDING messages are queued or running.
 * Service thread only.
 */
#include "core/log.h"
#include "core/mem.h"
#include "mcp/jrpc.h"
#include "mcp/mcp.h"
#include "core/clock.h"
#include "mcp/mcp_serve.h"
#include "net/hdr.h"
#include "net/server_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define WS_MAX_OUTSTANDING 16 /* queued + running messages before rx is paused */

void ws_queue(struct lws *wsi, struct ws_sess *w, const char *out, size_t len)
{
    msgq_push(&w->out, out, len);
    lws_callback_on_writable(wsi);
}

/* Read again once the backlog is down to half. */
static void ws_maybe_resume(struct lws *wsi, struct ws_sess *w)
{
    if (w->paused && w->out.n + w->running < WS_MAX_OUTSTANDING / 2) {
        w->paused = false;
        lws_rx_flow_control(wsi, 1);
    }
}

void ws_job_done(struct server *s, uint64_t conn_id)
{
    struct lws *wsi = conn_get(s, conn_id);
    struct ws_sess *w;

    if (!wsi)
        return;
    w = lws_wsi_user(wsi);
    if (w->running > 0)
        w->running--;
    ws_maybe_resume(wsi, w);
}

static void ws_clear(struct server *s, struct ws_sess *w)
{
    if (w->id) {
        conn_del(s, w->id);
        held_drop_conn(s, w->id); /* nobody left to answer */
    }
    w->id = 0;
    msgq_clear(&w->out);
    buf_clear(&w->rx);
}

/* Whether to take the upgrade: 0 yes (the token and X-Agent-ID kept in `w`), 1 refuse. */
static int ws_filter(struct server *s, struct lws *wsi, struct ws_sess *w)
{
    char *tok;

    if (!hdr_origin_ok(s->cfg, wsi) || s->stopping)
        return 1;
    tok = hdr_bearer(wsi);
    /* Malformed or missing: refuse the upgrade now. A well-formed token is verified (via the
     * cache) on the worker for every message, so revocation applies here too. */
    if (s->cfg->auth && (!tok || strlen(tok) != PRINCIPAL_TOKEN_LEN - 1)) {
        free(tok);
        return 1;
    }
    if (s->cfg->auth && mcp_serve_ws_peek(s->app.env, tok) < 0) {
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

static void ws_established(struct server *s, struct lws *wsi, struct ws_sess *w)
{
    w->id = conn_add(s, wsi);
    buf_init(&w->rx, (size_t)s->cfg->max_body);
    /* A token the cache does not know is verified now, so a bad one is refused (error +
     * close) before the client sends anything; every message is checked again anyway. */
    if (s->cfg->auth && mcp_serve_ws_peek(s->app.env, w->token) == 0) {
        struct job *j = job_new(JOB_WS_AUTH, w->id);
        j->ws = true;
        j->token = mem_strdup(w->token);
        j->agent_hdr = w->agent_hdr[0] ? mem_strdup(w->agent_hdr) : NULL;
        if (server_submit(s, j) < 0)
            job_free(j);
        else
            w->running++;
    }
}

/* A fragment arrived; a whole message becomes a JOB_RPC. 0, or -1 to close. */
static int ws_receive(struct server *s, struct lws *wsi, struct ws_sess *w, const void *in,
                      size_t len)
{
    struct job *j;
    int ra = 0;

    if (buf_append(&w->rx, in, len) < 0) {
        lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, NULL, 0);
        return -1;
    }
    if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
        return 0;
    j = job_new(JOB_RPC, w->id);
    /* Over the limit: a worker answers with the request's own id (parsing it is not the
     * service thread's work), and runs nothing. */
    if (!ratelimit_take(&s->rate, w->token, clock_ms(), &ra))
        j->limited_s = ra > 0 ? ra : 1;
    j->ws = true;
    j->body = buf_take(&w->rx, &j->body_len);
    j->token = w->token[0] ? mem_strdup(w->token) : NULL;
    j->agent_hdr = w->agent_hdr[0] ? mem_strdup(w->agent_hdr) : NULL;
    if (server_submit(s, j) < 0) {
        json_t *e = mcp_reply_transport_error(JRPC_SERVER_ERROR, "server busy");
        char *txt = json_dumps(e, JSON_COMPACT);
        ws_queue(wsi, w, txt, strlen(txt));
        free(txt);
        json_decref(e);
        job_free(j);
        return 0;
    }
    w->running++;
    if (w->out.n + w->running >= WS_MAX_OUTSTANDING) {
        w->paused = true; /* back-pressure: read no more until replies drain */
        lws_rx_flow_control(wsi, 0);
    }
    return 0;
}

/* Send the next queued message. 0, or -1 to close. */
static int ws_writeable(struct lws *wsi, struct ws_sess *w)
{
    struct msgq_msg *m = w->out.head;

    if (!m) {
        if (w->close_after) {
            lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, NULL, 0);
            return -1;
        }
        return 0;
    }
    if (lws_write(wsi, m->data + LWS_PRE, m->len, LWS_WRITE_TEXT) < (int)m->len)
        return -1;
    msgq_drop(&w->out);
    if (w->out.head || w->close_after)
        lws_callback_on_writable(wsi);
    ws_maybe_resume(wsi, w);
    return 0;
}

int ws_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    struct server *s = server_of(wsi);
    struct ws_sess *w = user;

    switch (reason) {
    case LWS_CALLBACK_PROTOCOL_INIT:
        /* After "mcp" became the default protocol of upgrades that name none. */
        s->protocols_ready = true;
        break;
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        /* lws asks the protocol the connection is bound to: refuse h2c here too (http.c). */
        if (in && strcasecmp(in, "websocket") != 0) {
            log_debug("server", "refusing an upgrade to '%.20s'", (const char *)in);
            return -1;
        }
        return 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return ws_filter(s, wsi, w);
    case LWS_CALLBACK_ESTABLISHED:
        ws_established(s, wsi, w);
        break;
    case LWS_CALLBACK_RECEIVE:
        return ws_receive(s, wsi, w, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return ws_writeable(wsi, w);
    case LWS_CALLBACK_CLOSED:
        ws_clear(s, w);
        break;
    case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
        /* A new connection reaches the vhost's default protocol, "mcp" (server_run). */
        if (s)
            connlimit_bind(&s->per_addr, wsi);
        break;
    case LWS_CALLBACK_WSI_DESTROY:
        if (s)
            connlimit_release(&s->per_addr, wsi); /* no-op if http_cb already did */
        break;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}
