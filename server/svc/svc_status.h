/*
 * What a lease holder reports about its work: a state change (update_task_status,
 * ask_user_question), log lines (log_activity), and the heartbeat that keeps its leases and
 * carries its usage (budgets are enforced on it). Worker threads.
 */
#ifndef DROVER_SVC_STATUS_H
#define DROVER_SVC_STATUS_H

#include <jansson.h>
#include <stdint.h>

#include "core/model.h"
#include "svc/svc.h"

/*
 * in_progress -> ready_to_test | needs_input | completed | failed (failed with attempts left:
 * back to backlog with back-off). Fenced (holder, epoch, in_progress, lease not expired).
 * *task = the task after the change (owned).
 */
int svc_status_update(struct svc_ctx *c, const char *agent_id, int64_t task_id, int64_t epoch,
                      const char *to, const struct model_outcome *oc, json_t **task,
                      struct err *err);

/* Append log lines (one object or an array: {message, level?, metadata?}). *n = rows. */
int svc_status_log(struct svc_ctx *c, const char *agent_id, int64_t task_id, const json_t *entries,
                   int *n, struct err *err);

/*
 * A heartbeat: budgets first (an over-budget task stops and is reported cancelled), then the
 * leases, then the reply {"agent", "tasks": [{id, state, cancelled, lease_expires_at}],
 * "heartbeat_interval"}. `status`, `task_ids` and `usage` may be NULL. Status "unusable"
 * (with `reason`) records that the agent has no usable coding command and takes no task.
 */
int svc_status_heartbeat(struct svc_ctx *c, const char *agent_id, const char *status,
                         const char *reason, const json_t *task_ids, const json_t *usage,
                         json_t **out, struct err *err);

#endif
