/* What /metrics reports from the database: one snapshot of counts and settings. Workers. */
#ifndef DROVER_SVC_METRICS_H
#define DROVER_SVC_METRICS_H

#include <jansson.h>
#include <stdbool.h>

#include "svc/svc.h"

struct svc_metrics {
    long long backlog, delayed, expired_leases;
    double oldest_backlog_age;
    json_t *states;                        /* tasks by state (groups left out), owned */
    json_t *statuses;                      /* agents by status, owned */
    json_t *ages;                          /* each live agent's heartbeat age in seconds, owned */
    long long outbox_pending, outbox_dead; /* dead: among messages created in the last 24 h */
    double outbox_oldest_pending;          /* seconds; 0 when nothing is pending */
    int min_agents, max_agents;
    bool pinned;
    int pinned_target;
};

int svc_metrics_take(struct svc_ctx *c, struct svc_metrics *m, struct err *err);
void svc_metrics_clear(struct svc_metrics *m);

#endif
