/* The periodic sweep and readiness. Worker threads. */
#include "svc/svc_sweep.h"
#include "store/migrate.h"
#include "store/queue.h"
#include "store/schedules.h"
#include "store/sessions.h"
#include "svc/svc_autonomy.h"
#include "svc/svc_diag.h"
#include "svc/svc_history.h"
#include "svc/svc_retention.h"
#include "svc/svc_sessions.h"

#include <string.h>
#include <time.h>

int svc_sweep_run(struct svc_ctx *c, struct svc_sweep_counts *n, struct err *err)
{
    memset(n, 0, sizeof(*n));
    if (queue_reap(c->db, SVC_SWEEP_BATCH, &n->reaped, err) < 0 ||
        queue_expire_timeouts(c->db, SVC_SWEEP_BATCH, &n->timed_out, err) < 0 ||
        sessions_expire(c->db, SVC_SESSIONS_IDLE_SECONDS, &n->sessions_expired, err) < 0 ||
        /* Cron schedules: each slot fires once however many replicas sweep (a unique row). */
        schedules_fire_due(c->db, time(NULL), &n->schedules_fired, err) < 0 ||
        /* Unanswered approvals deny in time even when the agent that asked is gone. */
        svc_autonomy_sweep(c, &n->approvals_expired, err) < 0)
        return -1;
    svc_diag_clock_tick(c); /* the replicas' clock skew, for diagnostics (throttled in SQL) */
    svc_retention_tick(c);  /* when due: one replica per --retention-interval */
    svc_history_tick(c);    /* the dashboard's per-minute sample, once per minute overall */
    return 0;
}

int svc_sweep_ready(struct svc_ctx *c, int *pending, struct err *err)
{
    *pending = 0;
    if (db_ensure(c->db, err) < 0 || migrate_pending(c->db, migrate_files, pending, err) < 0)
        return err_set(err, ERR_UNAVAILABLE, "%s", err->msg);
    if (*pending)
        return err_set(err, ERR_CONFLICT, "%d migration(s) pending", *pending);
    return 0;
}
