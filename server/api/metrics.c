/* The Prometheus exposition. Worker threads. */
#include "api/metrics.h"
#include "api/reply.h"
#include "core/counters.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Heartbeat age buckets (seconds): agents heartbeat every ~10 s and a lease lasts 120 s. */
static const int metrics_age_bounds[] = {5, 10, 15, 30, 60, 120, 300, 600};
#define METRICS_NAGE (sizeof(metrics_age_bounds) / sizeof(metrics_age_bounds[0]))

static const char *const metrics_states[] = {
    "backlog", "in_progress", "ready_to_test", "needs_input", "completed", "failed", "cancelled"};
static const char *const metrics_statuses[] = {"initializing", "idle", "busy", "draining",
                                               "offline"};

static const struct db_stmt st_snapshot = {
    "metrics_snapshot",
    "SELECT"
    " (SELECT count(*) FROM tasks WHERE state = 'backlog' AND run_after <= now()) AS backlog,"
    " (SELECT count(*) FROM tasks WHERE state = 'backlog' AND run_after > now()) AS delayed,"
    " (SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0) FROM tasks"
    "   WHERE state = 'backlog' AND run_after <= now()) AS oldest,"
    " (SELECT count(*) FROM tasks WHERE state = 'in_progress' AND lease_expires_at < now())"
    "   AS expired,"
    " (SELECT coalesce(jsonb_object_agg(state, n), '{}')::text FROM (SELECT state, count(*) AS n"
    "   FROM tasks WHERE NOT is_group GROUP BY state) s) AS states,"
    " (SELECT coalesce(jsonb_object_agg(status, n), '{}')::text FROM (SELECT status,"
    "   count(*) AS n FROM agents GROUP BY status) s) AS statuses,"
    " (SELECT coalesce(jsonb_agg(extract(epoch FROM now() - last_heartbeat_at)), '[]')::text"
    "   FROM agents WHERE status <> 'offline' AND last_heartbeat_at IS NOT NULL) AS ages,"
    " (SELECT min_agents FROM pool_settings WHERE id = 1) AS min_agents,"
    " (SELECT max_agents FROM pool_settings WHERE id = 1) AS max_agents,"
    " (SELECT CASE WHEN pinned_until IS NULL OR pinned_until > now() THEN pinned_target END"
    "   FROM pool_settings WHERE id = 1) AS pinned",
    0};

static int metrics_gauge(struct buf *b, const char *name, const char *help, const char *value)
{
    return buf_appendf(b, "# HELP %s %s\n# TYPE %s gauge\n%s %s\n", name, help, name, name, value);
}

int metrics_render_db(struct db *db, struct buf *b, struct err *err)
{
    json_t *states = NULL, *statuses = NULL, *ages = NULL, *v;
    unsigned long long bucket[METRICS_NAGE] = {0};
    double sum = 0;
    json_error_t je;
    PGresult *r;
    size_t i;
    int rc = 0;

    r = db_exec(db, &st_snapshot, NULL, err);
    if (!r)
        return -1;
    states = json_loads(db_get(r, 0, "states"), 0, &je);
    statuses = json_loads(db_get(r, 0, "statuses"), 0, &je);
    ages = json_loads(db_get(r, 0, "ages"), 0, &je);
    rc |= metrics_gauge(b, "drover_backlog", "Tasks runnable now (backlog, run_after passed).",
                        db_get(r, 0, "backlog"));
    rc |= metrics_gauge(b, "drover_backlog_delayed", "Backlog tasks waiting out a retry back-off.",
                        db_get(r, 0, "delayed"));
    rc |= metrics_gauge(b, "drover_backlog_oldest_age_seconds", "Age of the oldest runnable task.",
                        db_get(r, 0, "oldest"));
    rc |= metrics_gauge(b, "drover_expired_leases",
                        "In-progress tasks whose lease expired (the reaper's work).",
                        db_get(r, 0, "expired"));
    rc |= buf_appendf(b, "# HELP drover_tasks Tasks by state (fan-out groups excluded).\n"
                         "# TYPE drover_tasks gauge\n");
    for (i = 0; i < sizeof(metrics_states) / sizeof(metrics_states[0]); i++)
        rc |=
            buf_appendf(b, "drover_tasks{state=\"%s\"} %lld\n", metrics_states[i],
                        (long long)json_integer_value(json_object_get(states, metrics_states[i])));
    rc |= buf_appendf(b, "# HELP drover_agents Agents by status.\n# TYPE drover_agents gauge\n");
    for (i = 0; i < sizeof(metrics_statuses) / sizeof(metrics_statuses[0]); i++)
        rc |= buf_appendf(
            b, "drover_agents{status=\"%s\"} %lld\n", metrics_statuses[i],
            (long long)json_integer_value(json_object_get(statuses, metrics_statuses[i])));
    json_array_foreach(ages, i, v)
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
                      json_array_size(ages), sum, json_array_size(ages));
    rc |= metrics_gauge(b, "drover_pool_min_agents", "Configured minimum pool size.",
                        db_get(r, 0, "min_agents"));
    rc |= metrics_gauge(b, "drover_pool_max_agents", "Configured maximum pool size.",
                        db_get(r, 0, "max_agents"));
    if (!db_is_null(r, 0, "pinned"))
        rc |= metrics_gauge(b, "drover_pool_pinned_target", "Pinned pool size, while pinned.",
                            db_get(r, 0, "pinned"));
    PQclear(r);
    json_decref(states);
    json_decref(statuses);
    json_decref(ages);
    if (rc)
        return err_set(err, ERR_TOO_LARGE, "metrics output exceeds its buffer");
    return 0;
}

static int metrics_handler(const struct api_request *req, const char *const *params, size_t np,
                           struct api_response *resp)
{
    struct err err = {0};
    struct buf b;

    (void)params;
    (void)np;
    buf_init(&b, 4 * 1024 * 1024);
    if (metrics_render_db(req->db, &b, &err) < 0 || counters_render(&b) < 0) {
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
    {"GET", "/metrics", TOKENS_SCOPE_NONE, metrics_handler},
    {NULL, NULL, TOKENS_SCOPE_NONE, NULL},
};
