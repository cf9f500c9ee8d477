/* The dashboard's history. Worker threads. */
#include "store/history.h"

#include <stdio.h>
#include <stdlib.h>

static const struct db_stmt st_sample = {
    "history_sample",
    "INSERT INTO history_samples (ts, backlog, delayed, in_progress, live_agents, busy_agents,"
    " target, min_agents, max_agents, finished, failed)"
    " SELECT date_trunc('minute', now()),"
    "  (SELECT count(*) FROM tasks WHERE state = 'backlog' AND NOT is_group AND run_after <= "
    "now()),"
    "  (SELECT count(*) FROM tasks WHERE state = 'backlog' AND NOT is_group AND run_after > now()),"
    "  (SELECT count(*) FROM tasks WHERE state = 'in_progress'),"
    "  (SELECT count(*) FROM agents WHERE status IN ('initializing', 'idle', 'busy', 'draining')),"
    "  (SELECT count(*) FROM agents WHERE status = 'busy'),"
    "  (SELECT target FROM scale_events ORDER BY id DESC LIMIT 1),"
    "  coalesce((SELECT min_agents FROM pool_settings WHERE id = 1), 0),"
    "  coalesce((SELECT max_agents FROM pool_settings WHERE id = 1), 0),"
    "  (SELECT count(*) FROM tasks WHERE state = 'completed' AND NOT is_group"
    "    AND finished_at > now() - interval '1 minute'),"
    "  (SELECT count(*) FROM tasks WHERE state = 'failed' AND NOT is_group"
    "    AND finished_at > now() - interval '1 minute')"
    " ON CONFLICT (ts) DO NOTHING",
    0};

static const struct db_stmt st_get = {
    "history_get",
    "WITH s AS (SELECT to_timestamp(floor(extract(epoch FROM ts) / $2::int) * $2::int) AS b, *"
    "  FROM history_samples WHERE ts > now() - make_interval(hours => $1::int)),"
    " g AS (SELECT b, max(backlog) AS backlog, max(delayed) AS delayed,"
    "  max(in_progress) AS in_progress, max(live_agents) AS live_agents,"
    "  max(busy_agents) AS busy_agents, max(target) AS target, max(min_agents) AS min_agents,"
    "  max(max_agents) AS max_agents, sum(finished) AS finished, sum(failed) AS failed"
    "  FROM s GROUP BY b)"
    " SELECT jsonb_build_object('step_seconds', $2::int,"
    "  'samples', coalesce((SELECT jsonb_agg(jsonb_build_object('ts', b, 'backlog', backlog,"
    "   'delayed', delayed, 'in_progress', in_progress, 'live_agents', live_agents,"
    "   'busy_agents', busy_agents, 'target', target, 'min_agents', min_agents,"
    "   'max_agents', max_agents, 'finished', finished, 'failed', failed) ORDER BY b) FROM g),"
    "   '[]'),"
    "  'agents', coalesce((SELECT jsonb_agg(x ORDER BY x->>'created_at') FROM (SELECT"
    "   jsonb_build_object('id', id, 'name', name, 'status', status, 'created_at', created_at,"
    "   'last_heartbeat_at', last_heartbeat_at) AS x FROM agents"
    "   WHERE status <> 'offline' OR last_heartbeat_at > now() - make_interval(hours => $1::int)"
    "    OR updated_at > now() - make_interval(hours => $1::int)"
    "   ORDER BY created_at DESC LIMIT 200) a), '[]'),"
    "  'gaps', coalesce((SELECT jsonb_agg(jsonb_build_object('agent_id', agent_id,"
    "   'start', gap_start, 'end', gap_end) ORDER BY gap_start) FROM (SELECT * FROM agent_gaps"
    "   WHERE gap_end > now() - make_interval(hours => $1::int) ORDER BY gap_end DESC"
    "   LIMIT 5000) x), '[]'))::text",
    2};

static const struct db_stmt st_prune_samples = {
    "history_prune_samples",
    "WITH v AS (SELECT ts FROM history_samples WHERE ts < now() - make_interval(days => $1::int)"
    "  ORDER BY ts LIMIT $2::int FOR UPDATE SKIP LOCKED)"
    " DELETE FROM history_samples d USING v WHERE d.ts = v.ts",
    2};

static const struct db_stmt st_prune_gaps = {
    "history_prune_gaps",
    "WITH v AS (SELECT id FROM agent_gaps WHERE gap_end < now() - make_interval(days => $1::int)"
    "  ORDER BY gap_end LIMIT $2::int FOR UPDATE SKIP LOCKED)"
    " DELETE FROM agent_gaps d USING v WHERE d.id = v.id",
    2};

int history_sample(struct db *db, struct err *err)
{
    PGresult *r = db_exec(db, &st_sample, NULL, err);

    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

int history_get(struct db *db, int hours, int step_seconds, json_t **out, struct err *err)
{
    char h[16], s[16];
    const char *p[2] = {h, s};
    json_error_t je;
    PGresult *r;

    *out = NULL;
    snprintf(h, sizeof(h), "%d", hours);
    snprintf(s, sizeof(s), "%d", step_seconds);
    if (!(r = db_exec(db, &st_get, p, err)))
        return -1;
    *out = json_loads(PQgetvalue(r, 0, 0), 0, &je);
    PQclear(r);
    return *out ? 0 : err_set(err, ERR_INTERNAL, "database returned unreadable JSON");
}

int history_prune(struct db *db, int days, int batch, int *n, struct err *err)
{
    const struct db_stmt *sts[2] = {&st_prune_samples, &st_prune_gaps};
    char d[16], b[16];
    const char *p[2] = {d, b};

    *n = 0;
    snprintf(d, sizeof(d), "%d", days);
    snprintf(b, sizeof(b), "%d", batch);
    for (int i = 0; i < 2; i++) {
        PGresult *r = db_exec(db, sts[i], p, err);

        if (!r)
            return -1;
        *n += atoi(PQcmdTuples(r));
        PQclear(r);
    }
    return 0;
}
