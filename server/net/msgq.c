/*
 * A connection's queue of output chunks, each with the LWS_PRE headroom lws_write needs
 * (WebSocket messages, server-sent events). Service thread only, like the connection.
 */
#include "core/mem.h"
#include "net/server_int.h"

#include <stdlib.h>
#include <string.h>

void msgq_push(struct msgq *q, const void *data, size_t len)
{
    struct msgq_msg *m = mem_alloc(sizeof(*m) + LWS_PRE + len);

    m->next = NULL;
    m->len = len;
    memcpy(m->data + LWS_PRE, data, len);
    if (q->tail)
        q->tail->next = m;
    else
        q->head = m;
    q->tail = m;
    q->n++;
}

void msgq_drop(struct msgq *q)
{
    struct msgq_msg *m = q->head;

    if (!m)
        return;
    q->head = m->next;
    if (!q->head)
        q->tail = NULL;
    q->n--;
    free(m);
}

void msgq_clear(struct msgq *q)
{
    while (q->head)
        msgq_drop(q);
}
