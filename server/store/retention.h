/*
 * Retention: deleting what droverd no longer needs, in small batches, each its own short
 * statement (no transaction spans batches, a batch locks at most `batch` rows and skips rows
 * another session holds), so pruning never holds a long lock or blocks the queue. Worker
 * threads.
 *
 * Kept: every activity row of a task that is still open (backlog, in_progress, needs_input,
 * ready_to_test), however old. Pruned after `days`: activity of finished tasks (completed,
 * failed, cancelled) and rows with no task, scale_events, and delivered (or dead)
 * notifications of the outbox.
 */
#ifndef DROVER_STORE_RETENTION_H
#define DROVER_STORE_RETENTION_H

#include <stdbool.h>

#include "core/err.h"
#include "store/db.h"

/*
 * Claim the run named `name` if its last run is `interval_s` or more ago: *due true for exactly
 * one caller per interval across replicas (one UPDATE). `replica` is recorded.
 */
int retention_claim(struct db *db, const char *name, int interval_s, const char *replica, bool *due,
                    struct err *err);

/* Record what a run did (a JSON object's text); `more`: it stopped at its cap, so the run is due
 * again at once (the next sweep of any replica goes on). */
int retention_done(struct db *db, const char *name, const char *result_json, bool more,
                   struct err *err);

/* The first activity id younger than `days` (or max + 1): rows below it are old. */
int retention_boundary(struct db *db, int days, long long *boundary, struct err *err);

/* Delete up to `batch` prunable activity rows with an id below `boundary`. *n = rows deleted. */
int retention_activity(struct db *db, long long boundary, int batch, int *n, struct err *err);

/* Delete up to `batch` scale_events older than `days`. *n = rows deleted. */
int retention_scale_events(struct db *db, int days, int batch, int *n, struct err *err);

/* Delete up to `batch` delivered (or dead) notifications older than `days`. *n = rows deleted. */
int retention_outbox(struct db *db, int days, int batch, int *n, struct err *err);

#endif
