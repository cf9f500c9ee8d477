/*
 * Task budgets: a task may carry {"tokens": N} and/or {"usd": X}; once the usage its agent
 * reports with a heartbeat passes either, the task stops (needs_input, reason "budget") and the
 * same heartbeat's reply tells the agent to cancel it. Blocking; worker threads only.
 */
#ifndef DROVER_STORE_BUDGET_H
#define DROVER_STORE_BUDGET_H

#include <jansson.h>

#include "core/err.h"
#include "store/db.h"

/*
 * Call in the heartbeat path *before* queue_heartbeat, with the usage the agent reports
 * ({"tokens": total, "usd": cost, ...}; NULL does nothing). Every in_progress task of
 * `agent_id` whose budget the usage passes moves to needs_input (reason budget, usage stored,
 * an activity row written); queue_heartbeat then reports it cancelled. *n = how many.
 */
int budget_enforce(struct db *db, const char *agent_id, const json_t *usage, int *n,
                   struct err *err);

#endif
