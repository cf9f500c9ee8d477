/*
 * The head counts /metrics exposes besides queue_counts: tasks by state (fan-out groups left
 * out), agents by status, and the age of each live agent's last heartbeat. One statement, so
 * one consistent snapshot. Blocking; worker threads.
 */
#ifndef DROVER_STORE_CENSUS_H
#define DROVER_STORE_CENSUS_H

#include <jansson.h>

#include "core/err.h"
#include "store/db.h"

struct census {
    json_t *states;   /* {"backlog": n, ...}, owned */
    json_t *statuses; /* {"idle": n, ...}, owned */
    json_t *ages;     /* [seconds, ...], owned */
};

int census_take(struct db *db, struct census *c, struct err *err);

#endif
