/*
 * The deadline FIFOs of HTTP connections (why droverd keeps its own instead of lws timeouts:
 * net/server_int.h, struct txn_fifo). Each FIFO has one fixed duration, so appending keeps it
 * sorted and expiry only looks at the front. Service thread only.
 */
#include "core/log.h"
#include "core/clock.h"
#include "net/server_int.h"

void fifo_del(struct http_txn *t)
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

/* Put t at the back of f and drop its lws timeout. */
void fifo_add(struct txn_fifo *f, struct lws *wsi, struct http_txn *t)
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
void fifo_expire(struct txn_fifo *f, long long now, const char *why)
{
    while (f->head && now - f->head->fifo_since_ms >= f->limit_ms) {
        struct http_txn *t = f->head;

        fifo_del(t);
        if (why)
            log_warn("server", "closing a connection: %s", why);
        lws_set_timeout(t->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
}
