/*
 * The head counts /metrics exposes besides queue_counts: tasks by state (fan-out groups left
 * out), agents by status, the age of each live agent's last heartbeat, and the notification
 * outbox (messages pending, messages dead among those created in the last 24 h, the age of the
 * oldest pending one). One statement, so one consistent snapshot. Blocking; worker threads.
 */
#ifndef DROVER_STORE_CENSUS_H
#define DROVER_STORE_CENSUS_H

#include <jansson.h>

#include "core/err.h"
#include "store/db.h"

struct census {
    json_t *states;               /* {"backlog": n, ...}, owned */
    json_t *statuses;             /* {"idle": n, ...}, owned */
    json_t *ages;                 /* [seconds, ...], owned */
    long long outbox_pending;     /* outbox messages not yet delivered nor given up on */
    long long outbox_dead;        /* given up on, among the messages created in the last 24 h */
    double outbox_oldest_pending; /* seconds since the oldest pending message was created, or 0 */
};

int census_take(struct db *db, struct census *c, struct err *err);

#endif
