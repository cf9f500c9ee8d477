/*
 * The lease an agent holds right now, read for the seed endpoints, whose calls name no
 * lease_epoch (and log_activity not even a task): the caller's identity and its current,
 * unexpired lease stand in for the epoch. A read without a lock or a transaction; the call it
 * feeds re-checks the fence under the row lock, so a lease lost in between is still refused.
 * Worker threads.
 */
#ifndef DROVER_STORE_LEASES_H
#define DROVER_STORE_LEASES_H

#include <stdint.h>

#include "core/err.h"
#include "store/db.h"

/*
 * The epoch of the live lease `agent_id` holds on task `task_id`: 0 with *epoch, or -1 with
 * ERR_NOT_FOUND (no such task), ERR_FORBIDDEN (leased to another agent, or to none),
 * ERR_STALE_EPOCH (the lease expired) or ERR_CONFLICT (the task is no longer in progress).
 */
int leases_epoch(struct db *db, const char *agent_id, int64_t task_id, int64_t *epoch,
                 struct err *err);

/*
 * The task `agent_id` holds a live lease on, the one claimed last when it holds several: 0 with
 * *task_id and *epoch, or -1 with ERR_CONFLICT when it holds none.
 */
int leases_current(struct db *db, const char *agent_id, int64_t *task_id, int64_t *epoch,
                   struct err *err);

#endif
