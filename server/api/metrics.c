/* The Prometheus exposition. Worker threads. */
#include "api/metrics.h"
#include "api/reply.h"
#include "core/counters.h"
#include "core/model.h"
#include "svc/svc_hbbatch.h"
#include "svc/svc_hbmem.h"
#include "svc/svc_metrics.h"
#include "svc/svc_poolgauges.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Heartbeat age buckets (seconds): agents heartbeat every ~10 s and a lease lasts 120 s. */
static const int metrics_age_bounds[] = {5, 10, 15, 30, 60, 120, 300, 600};
#define METRICS_NAGE (sizeof(metrics_age_bounds) / sizeof(metrics_age_bounds[0]))

static const char *const metrics_statuses[] = {"initializing", "idle",    "busy",
                                               "draining",     "offline", "unusable"};

static int metrics_gauge(struct buf *b, const char *name, const char *help, const char *value)
{
    return buf_appendf(b, "# HELP %s %s\n# TYPE %s gauge\n%s %s\n", name, help, name, name, value);
}

static int metrics_gauge_ll(struct buf *b, const char *name, const char *help, long long v)
{
    char s[32];

    snprintf(s, sizeof(s), "%lld", v);
    return metrics_gauge(b, name, help, s);
}

/* Append the database-derived metrics to `b`. 0 or -1 with err. */
static int metrics_render(struct svc_ctx *svc, struct buf *b, struct err *err)
{
    unsigned long long bucket[METRICS_NAGE] = {0};
    struct svc_metrics m;
    char age[32];
    double sum = 0;
    json_t *v;
    size_t i;
    int rc = 0;

    if (svc_metrics_take(svc, &m, err) < 0)
        return -1;
    snprintf(age, sizeof(age), "%g", m.oldest_backlog_age);
    rc |= metrics_gauge_ll(b, "drover_backlog", "Tasks runnable now (backlog, run_after passed).",
                           m.backlog);
    rc |= metrics_gauge_ll(b, "drover_backlog_delayed",
                           "Backlog tasks waiting out a retry back-off.", m.delayed);
    rc |= metrics_gauge(b, "drover_backlog_oldest_age_seconds", "Age of the oldest runnable task.",
                        age);
    rc |= metrics_gauge_ll(b, "drover_expired_leases",
                           "In-progress tasks whose lease expired (the reaper's work).",
                           m.expired_leases);
    rc |= buf_appendf(b, "# HELP drover_tasks Tasks by state (fan-out groups excluded).\n"
                         "# TYPE drover_tasks gauge\n");
    for (int st = 0; st < MODEL_NSTATES; st++) {
        const char *name = model_state_name((enum model_state)st);

        rc |= buf_appendf(b, "drover_tasks{state=\"%s\"} %lld\n", name,
                          (long long)json_integer_value(json_object_get(m.states, name)));
    }
    rc |= buf_appendf(b, "# HELP drover_agents Agents by status.\n# TYPE drover_agents gauge\n");
    for (i = 0; i < sizeof(metrics_statuses) / sizeof(metrics_statuses[0]); i++)
        rc |= buf_appendf(
            b, "drover_agents{status=\"%s\"} %lld\n", metrics_statuses[i],
            (long long)json_integer_value(json_object_get(m.statuses, metrics_statuses[i])));
    json_array_foreach(m.ages, i, v)
    {
        double a = json_number_value(v);

        sum += a;
        for (size_t k = 0; k < METRICS_NAGE; k++)
            if (a <= metrics_age_bounds[k])
                bucket[k]++;
    }
    rc |= buf_appendf(b, "# HELP drover_agent_heartbeat_age_seconds Time since each live agent's "
                         "last heartbeat.\n# TYPE drover_agent_heartbeat_age_seconds histogram\n");
    for (size_t k = 0; k < METRICS_NAGE; k++)
        rc |= buf_appendf(b, "drover_agent_heartbeat_age_seconds_bucket{le=\"%d\"} %llu\n",
                          metrics_age_bounds[k], bucket[k]);
    rc |= buf_appendf(b,
                      "drover_agent_heartbeat_age_seconds_bucket{le=\"+Inf\"} %zu\n"
                      "drover_agent_heartbeat_age_seconds_sum %.3f\n"
                      "drover_agent_heartbeat_age_seconds_count %zu\n",
                      json_array_size(m.ages), sum, json_array_size(m.ages));
    rc |= buf_appendf(b,
                      "# HELP drover_outbox_messages Notification outbox messages: pending (not "
                      "yet delivered), dead (given up on, among those created in the last 24 "
                      "h).\n# TYPE drover_outbox_messages gauge\n"
                      "drover_outbox_messages{state=\"pending\"} %lld\n"
                      "drover_outbox_messages{state=\"dead\"} %lld\n",
                      m.outbox_pending, m.outbox_dead);
    snprintf(age, sizeof(age), "%g", m.outbox_oldest_pending);
    rc |= metrics_gauge(b, "drover_outbox_oldest_pending_seconds",
                        "Age of the oldest pending notification (0 when none is pending).", age);
    rc |= metrics_gauge_ll(b, "drover_pool_min_agents", "Configured minimum pool size.",
                           m.min_agents);
    rc |= metrics_gauge_ll(b, "drover_pool_max_agents", "Configured maximum pool size.",
                           m.max_agents);
    if (m.pinned)
        rc |= metrics_gauge_ll(b, "drover_pool_pinned_target", "Pinned pool size, while pinned.",
                               m.pinned_target);
    svc_metrics_clear(&m);
    if (rc)
        return err_set(err, ERR_TOO_LARGE, "metrics output exceeds its buffer");
    return 0;
}

static int metrics_counter_ll(struct buf *b, const char *name, const char *help, long long v)
{
    return buf_appendf(b, "# HELP %s %s\n# TYPE %s counter\n%s %lld\n", name, help, name, name, v);
}

/* This process's heartbeat path: group commit and answers from memory (per replica). */
static int metrics_heartbeats(const struct svc_env *env, struct buf *b)
{
    struct svc_hbmem_stats st = {0};
    long long batches = 0, beats = 0;
    char max[32];
    int rc = 0;

    if (env->hbbatch) {
        svc_hbbatch_stats(env->hbbatch, &batches, &beats);
        rc |= metrics_counter_ll(b, "drover_heartbeat_batches_total",
                                 "Group-commit statements that wrote synchronous heartbeats.",
                                 batches);
        rc |= metrics_counter_ll(b, "drover_heartbeat_batched_total",
                                 "Synchronous heartbeats written by those statements.", beats);
    }
    if (!env->hbmem)
        return rc;
    svc_hbmem_stats(env->hbmem, &st);
    rc |= buf_appendf(b,
                      "# HELP drover_heartbeats_total Heartbeats answered, by path: from memory "
                      "(written at the next flush) or synchronously (after their commit).\n"
                      "# TYPE drover_heartbeats_total counter\n"
                      "drover_heartbeats_total{path=\"memory\"} %lld\n"
                      "drover_heartbeats_total{path=\"synchronous\"} %lld\n",
                      st.memory, st.fallback);
    rc |= metrics_counter_ll(b, "drover_heartbeat_flushes_total",
                             "Flushes that wrote heartbeats answered from memory.", st.flushes);
    rc |= metrics_counter_ll(b, "drover_heartbeat_flushed_total",
                             "Heartbeats answered from memory and since written.", st.flushed);
    rc |= metrics_counter_ll(b, "drover_heartbeat_answers_dropped_total",
                             "Cached heartbeat answers dropped by a task change (NOTIFY).",
                             st.dropped);
    rc |= metrics_gauge_ll(b, "drover_heartbeat_queued",
                           "Heartbeats answered from memory and not yet written.", st.queued);
    snprintf(max, sizeof(max), "%.3f", (double)st.flush_ms_max / 1000.0);
    rc |= metrics_gauge(b, "drover_heartbeat_flush_max_seconds",
                        "The longest flush of queued heartbeats since start.", max);
    return rc;
}

static int metrics_handler(const struct api_request *req, const char *const *params, size_t np,
                           struct api_response *resp)
{
    struct err err = {0};
    struct buf b;

    (void)params;
    (void)np;
    buf_init(&b, 4 * 1024 * 1024);
    if (metrics_render(req->svc, &b, &err) < 0 || svc_poolgauges_render(req->svc, &b, &err) < 0 ||
        metrics_heartbeats(req->svc->env, &b) != 0 || counters_render(&b) < 0) {
        buf_clear(&b);
        if (!err.code)
            err_set(&err, ERR_INTERNAL, "metrics output exceeds its buffer");
        return reply_err(resp, &err);
    }
    resp->status = 200;
    resp->raw = buf_take(&b, &resp->raw_len);
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
    return 0;
}

const struct api_route metrics_routes[] = {
    {"GET", "/metrics", PRINCIPAL_NONE, metrics_handler},
    {NULL, NULL, PRINCIPAL_NONE, NULL},
};
