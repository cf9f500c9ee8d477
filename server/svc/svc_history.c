/* The dashboard's history. Worker threads. */
#include "svc/svc_history.h"
#include "core/log.h"
#include "store/history.h"
#include "store/retention.h"

void svc_history_tick(struct svc_ctx *c)
{
    struct err err = {0};
    bool due = false;

    if (!c->env->ops)
        return;
    if (retention_claim(c->db, "history", 60, "sweep", &due, &err) < 0 || !due)
        return;
    if (history_sample(c->db, &err) < 0)
        log_warn("history", "sample not written: %s", err.msg);
}

int svc_history_max_hours(const struct svc_ctx *c)
{
    return (c->env->ops ? c->env->ops->history_days : 7) * 24;
}

int svc_history_get(struct svc_ctx *c, int hours, json_t **out, struct err *err)
{
    int step = hours * 3600 / SVC_HISTORY_POINTS;

    if (hours < 1 || hours > svc_history_max_hours(c))
        return err_set(err, ERR_INVALID, "hours must be from 1 to %d (--history-days)",
                       svc_history_max_hours(c));
    return history_get(c->db, hours, step < 60 ? 60 : step, out, err);
}
