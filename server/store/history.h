/*
 * The dashboard's history: a sample of the queue and the pool per minute, and the agents'
 * heartbeat gaps (recorded by a trigger, sql/042). Bounded by --history-days and pruned in
 * batches like the rest of retention. Worker threads.
 */
#ifndef DROVER_STORE_HISTORY_H
#define DROVER_STORE_HISTORY_H

#include <jansson.h>

#include "core/err.h"
#include "store/db.h"

/* Write this minute's sample (a second write of the same minute does nothing). */
int history_sample(struct db *db, struct err *err);

/*
 * The last `hours` as {"step_seconds", "samples": [{ts, backlog, delayed, in_progress,
 * live_agents, busy_agents, target, min_agents, max_agents, finished, failed}], "agents":
 * [{id, name, status, created_at, last_heartbeat_at}], "gaps": [{agent_id, start, end}]}:
 * samples merged into buckets of `step_seconds` (maximum of the levels, sum of the counts),
 * at most 200 agents and 5000 gaps. *out owned.
 */
int history_get(struct db *db, int hours, int step_seconds, json_t **out, struct err *err);

/* Delete up to `batch` samples and `batch` gaps older than `days`. *n = rows deleted. */
int history_prune(struct db *db, int days, int batch, int *n, struct err *err);

#endif
