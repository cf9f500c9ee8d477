/*
 * What every replica does periodically (safe on all of them at once: SKIP LOCKED, and one row
 * per schedule slot): return expired leases to the queue, stop tasks past their timeout,
 * forget idle MCP sessions, fire due cron schedules, expire unanswered approvals. And the readiness
 * check behind /ready. Worker threads.
 */
#ifndef DROVER_SVC_SWEEP_H
#define DROVER_SVC_SWEEP_H

#include "svc/svc.h"

/* Rows touched per kind and sweep: enough for a burst, small enough to keep locks short. */
#define SVC_SWEEP_BATCH 100

struct svc_sweep_counts {
    int reaped, timed_out, sessions_expired, schedules_fired, approvals_expired;
};

/* One sweep; *n says what it did. */
int svc_sweep_run(struct svc_ctx *c, struct svc_sweep_counts *n, struct err *err);

/*
 * Ready to serve: the database answers and no migration is pending. 0 when ready; -1 with
 * ERR_UNAVAILABLE (no database; the message is for the log, not for unauthenticated callers)
 * or ERR_CONFLICT with *pending set (migrations pending).
 */
int svc_sweep_ready(struct svc_ctx *c, int *pending, struct err *err);

#endif
