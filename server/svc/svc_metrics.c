/* The /metrics snapshot. Worker threads. */
#include "svc/svc_metrics.h"
#include "store/census.h"
#include "store/poolstore.h"
#include "store/queue.h"

#include <string.h>

int svc_metrics_take(struct svc_ctx *c, struct svc_metrics *m, struct err *err)
{
    struct queue_counts q;
    struct poolstore_settings s;
    struct census cs;

    memset(m, 0, sizeof(*m));
    if (queue_counts(c->db, &q, err) < 0 || poolstore_settings_get(c->db, &s, err) < 0 ||
        census_take(c->db, &cs, err) < 0)
        return -1;
    m->backlog = q.backlog;
    m->delayed = q.delayed;
    m->expired_leases = q.expired_leases;
    m->oldest_backlog_age = q.oldest_backlog_age;
    m->states = cs.states;
    m->statuses = cs.statuses;
    m->ages = cs.ages;
    m->outbox_pending = cs.outbox_pending;
    m->outbox_dead = cs.outbox_dead;
    m->outbox_oldest_pending = cs.outbox_oldest_pending;
    m->min_agents = s.min_agents;
    m->max_agents = s.max_agents;
    m->pinned = s.pinned_target >= 0 && s.pinned_until > s.now;
    m->pinned_target = s.pinned_target;
    return 0;
}

void svc_metrics_clear(struct svc_metrics *m)
{
    json_decref(m->states);
    json_decref(m->statuses);
    json_decref(m->ages);
    memset(m, 0, sizeof(*m));
}
