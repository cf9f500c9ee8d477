/* Scheduled retention. Worker threads. */
#include "svc/svc_retention.h"
#include "core/log.h"
#include "pool/agentpool.h"
#include "store/history.h"
#include "store/retention.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum svc_retention_table { SVC_RETENTION_ACTIVITY, SVC_RETENTION_SCALE, SVC_RETENTION_OUTBOX };

/*
 * Delete one table's old rows in batches until a batch comes back short, at most
 * SVC_RETENTION_MAX_BATCHES of them: *count grows by what went, *more is set at the cap.
 */
static int svc_retention_table(struct svc_ctx *c, enum svc_retention_table t, long long boundary,
                               int days, int batch, long long *count, bool *more, struct err *err)
{
    for (int i = 0; i < SVC_RETENTION_MAX_BATCHES; i++) {
        int got = 0;
        int rc = t == SVC_RETENTION_ACTIVITY ? retention_activity(c->db, boundary, batch, &got, err)
                 : t == SVC_RETENTION_SCALE  ? retention_scale_events(c->db, days, batch, &got, err)
                                             : retention_outbox(c->db, days, batch, &got, err);

        if (rc < 0)
            return -1;
        *count += got;
        if (got < batch)
            return 0;
    }
    *more = true;
    return 0;
}

int svc_retention_run(struct svc_ctx *c, int days, int batch, struct svc_retention_counts *n,
                      struct err *err)
{
    long long boundary = 0;

    memset(n, 0, sizeof(*n));
    if (retention_boundary(c->db, days, &boundary, err) < 0)
        return -1;
    if (svc_retention_table(c, SVC_RETENTION_ACTIVITY, boundary, days, batch, &n->activity,
                            &n->more, err) < 0 ||
        svc_retention_table(c, SVC_RETENTION_SCALE, boundary, days, batch, &n->scale_events,
                            &n->more, err) < 0 ||
        svc_retention_table(c, SVC_RETENTION_OUTBOX, boundary, days, batch, &n->outbox, &n->more,
                            err) < 0)
        return -1;
    return 0;
}

/* The dashboard's history: samples and heartbeat gaps older than --history-days. */
static void svc_retention_history(struct svc_ctx *c, const struct opscfg *o, long long *n)
{
    struct err err = {0};
    int got = 0;

    for (int i = 0; i < SVC_RETENTION_MAX_BATCHES; i++) {
        if (history_prune(c->db, o->history_days, o->retention_batch, &got, &err) < 0) {
            log_warn("retention", "history not pruned: %s", err.msg);
            return;
        }
        *n += got;
        if (got < o->retention_batch)
            return;
    }
}

void svc_retention_tick(struct svc_ctx *c)
{
    const struct opscfg *o = c->env->ops;
    struct svc_retention_counts n;
    struct err err = {0};
    char replica[160] = "droverd", result[160];
    long long hist = 0;
    bool due = false;

    if (!o)
        return; /* tests and tools without operator settings: no retention */
    if (c->env->pool)
        snprintf(replica, sizeof(replica), "%s", agentpool_config(c->env->pool)->replica);
    if (retention_claim(c->db, "retention", o->retention_interval, replica, &due, &err) < 0 || !due)
        return;
    if (svc_retention_run(c, o->retention_days, o->retention_batch, &n, &err) < 0) {
        log_warn("retention", "pruning failed: %s", err.msg);
        return;
    }
    svc_retention_history(c, o, &hist);
    snprintf(result, sizeof(result),
             "{\"activity\":%lld,\"scale_events\":%lld,\"history\":%lld,\"more\":%s}", n.activity,
             n.scale_events, hist, n.more ? "true" : "false");
    if (retention_done(c->db, "retention", result, n.more, &err) < 0)
        log_warn("retention", "run not recorded: %s", err.msg);
    if (n.activity || n.scale_events || n.outbox || hist)
        log_info("retention",
                 "pruned activity=%lld scale_events=%lld outbox=%lld (older than %d days) "
                 "history=%lld%s",
                 n.activity, n.scale_events, n.outbox, o->retention_days, hist,
                 n.more ? " (more to go)" : "");
}
