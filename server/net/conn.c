/*
 * The connection registry. Every HTTP request and WebSocket connection is named by a uint64_t
 * id, never by a `struct lws *` outside the callback that received it: a worker's job carries
 * the id back, and a reply for an id that is gone finds nothing here and is dropped. Also
 * delivers a reply to a connection by its id. Service thread only.
 */
#include "core/mem.h"
#include "net/server_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t conn_add(struct server *s, struct lws *wsi)
{
    struct conn_node *n = mem_calloc(1, sizeof(*n));

    n->id = ++s->next_id;
    n->wsi = wsi;
    n->next = s->conns[n->id % CONN_BUCKETS];
    s->conns[n->id % CONN_BUCKETS] = n;
    return n->id;
}

struct lws *conn_get(struct server *s, uint64_t id)
{
    for (struct conn_node *n = s->conns[id % CONN_BUCKETS]; n; n = n->next)
        if (n->id == id)
            return n->wsi;
    return NULL;
}

void conn_del(struct server *s, uint64_t id)
{
    struct conn_node **pp = &s->conns[id % CONN_BUCKETS];

    for (; *pp; pp = &(*pp)->next) {
        if ((*pp)->id == id) {
            struct conn_node *n = *pp;
            *pp = n->next;
            free(n);
            return;
        }
    }
}

void conn_free_all(struct server *s)
{
    for (size_t b = 0; b < CONN_BUCKETS; b++)
        while (s->conns[b]) {
            struct conn_node *n = s->conns[b];
            s->conns[b] = n->next;
            free(n);
        }
}

void conn_deliver(struct server *s, uint64_t conn_id, bool ws, int status, const char *out,
                  size_t len, const struct job *j)
{
    struct lws *wsi = conn_get(s, conn_id);

    if (!wsi)
        return; /* the client went away: drop */
    if (ws) {
        struct ws_sess *w = lws_wsi_user(wsi);
        if (out && len)
            ws_queue(wsi, w, out, len);
        if (j && j->close_ws) {
            w->close_after = true;
            lws_callback_on_writable(wsi);
        }
        return;
    }
    struct http_txn *t = lws_wsi_user(wsi);
    if (!t || t->id != conn_id)
        return;
    conn_note_who(s, j);
    if (j) {
        t->www_auth = j->www_auth;
        if (j->new_session)
            t->session_hdr = mem_strdup(j->new_session);
    }
    http_reply(wsi, t, status, j && j->content_type ? j->content_type : "application/json", out,
               len);
}

/* Who a job acted for, for the access log: the agent, else the token's name (never a token). */
static const char *conn_who(const struct job *j)
{
    if (j->who.agent_id[0])
        return j->who.agent_id;
    if (j->agent_id[0])
        return j->agent_id; /* a held claim: its agent */
    if (j->who.name[0] && j->who.token_id == 0 && j->agent_hdr)
        return j->agent_hdr; /* auth off: the X-Agent-ID the caller named itself by */
    return j->who.name;
}

void conn_note_who(struct server *s, const struct job *j)
{
    struct lws *wsi;
    struct http_txn *t;
    const char *who;

    if (!j || j->ws || !(wsi = conn_get(s, j->conn_id)))
        return;
    t = lws_wsi_user(wsi);
    who = conn_who(j);
    if (t && t->id == j->conn_id && who[0] && !t->acc.who[0]) {
        size_t n = strnlen(who, sizeof(t->acc.who) - 1); /* a long token name is cut */

        memcpy(t->acc.who, who, n);
        t->acc.who[n] = '\0';
    }
}
