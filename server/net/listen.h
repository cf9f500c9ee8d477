/*
 * The LISTEN thread: one database connection of its own that LISTENs on the queue's channels
 * and turns notifications into events on the pool's completion queue (which wakes the service
 * thread). After a lost connection it reconnects with back-off, LISTENs again and posts a
 * resync event, because notifications sent meanwhile are gone (NOTIFY is a hint; the table is
 * the truth).
 */
#ifndef DROVER_NET_LISTEN_H
#define DROVER_NET_LISTEN_H

#include "net/workers.h"

struct listen;

struct listen *listen_start(const char *dsn, struct workers *pool);
/* Stop and join the thread (within about 200 ms). */
void listen_stop(struct listen *l);

#endif
