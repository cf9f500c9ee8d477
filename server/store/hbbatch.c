/*
 * Heartbeats of many agents in one statement (group commit). The requests travel as one JSON
 * array ($1: [{agent, status, ids, usage}], in order); every CTE of queue_heartbeat's statement
 * works on all of them at once, keyed by the request's position n, and the final SELECT gives
 * one row per request with the same `agent` and `tasks` JSON queue_heartbeat answers (a named
 * task the agent does not hold answers cancelled, with its state only to its last holder: the
 * heartbeat is no oracle for other agents' tasks). The
 * agents of one batch are distinct (the caller sees to it): a task row is extended once.
 * Locks go tasks, then agents (in id order), as queue_heartbeat, update_status and the reaper
 * lock. Worker threads only.
 */
#include "store/hbbatch.h"
#include "core/mem.h"
#include "core/model.h"
#include "store/queue_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How a reported usage is stored over the task's and the agent's: as queue_heartbeat stores it,
 * per key the larger number (drover_usage_merge, sql/030), so a total never goes down. */
#define HBBATCH_TASK_USAGE "drover_usage_merge(t.usage, req.usage)"
#define HBBATCH_AGENT_USAGE "drover_usage_merge(a.usage, req.usage)"

static const struct db_stmt st_hbbatch = {
    "hbbatch_exec",
    "WITH req AS (SELECT r.n, (r.e->>'agent')::uuid AS agent, r.e->>'status' AS status,"
    "  ARRAY(SELECT jsonb_array_elements_text(CASE WHEN jsonb_typeof(r.e->'ids') = 'array'"
    "   THEN r.e->'ids' ELSE '[]' END)::bigint) AS ids,"
    "  CASE WHEN jsonb_typeof(r.e->'usage') = 'object' THEN r.e->'usage' END AS usage,"
    "  coalesce((r.e->>'deferred')::boolean, false) AS deferred"
    "  FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS r(e, n)),"
    " ext AS (UPDATE tasks t SET lease_expires_at = now() + make_interval(secs => $2),"
    "  usage = CASE WHEN req.usage IS NULL THEN t.usage ELSE " HBBATCH_TASK_USAGE " END"
    "  FROM req WHERE t.agent_id = req.agent AND t.state = 'in_progress'"
    "  RETURNING t.id, t.state, t.lease_expires_at, t.budget, t.usage, req.n),"
    " ag AS (SELECT a.id, a.status FROM agents a WHERE a.id IN (SELECT agent FROM req)"
    "  AND (SELECT count(*) FROM ext) >= 0 ORDER BY a.id FOR UPDATE),"
    " upd AS (UPDATE agents a SET last_heartbeat_at = now(), updated_at = now(),"
    /* As queue_heartbeat: an agent the pool already retired keeps the pool's reason
     * ("unusable: ...") when its goodbye heartbeat arrives. */
    "  offline_reason = CASE WHEN req.status = 'offline' AND ag.status = 'offline'"
    "   THEN coalesce(a.offline_reason, 'agent reported offline')"
    "   WHEN req.status = 'offline' THEN 'agent reported offline'"
    "   WHEN req.deferred AND ag.status IN ('offline', 'unusable') THEN a.offline_reason END,"
    "  usage = CASE WHEN req.usage IS NULL THEN a.usage ELSE " HBBATCH_AGENT_USAGE " END,"
    "  status = CASE WHEN req.status = 'offline' THEN 'offline'"
    "   WHEN ag.status = 'draining' THEN 'draining'"
    /* A deferred heartbeat (svc_hbmem) was sent before whatever set the agent offline or
     * unusable since: that change came later and stands. */
    "   WHEN req.deferred AND ag.status IN ('offline', 'unusable') THEN ag.status"
    "   WHEN EXISTS (SELECT 1 FROM ext WHERE ext.n = req.n) THEN 'busy' ELSE 'idle' END"
    "  FROM ag, req WHERE a.id = ag.id AND req.agent = a.id"
    "  RETURNING a.id, a.status, a.last_heartbeat_at, req.n)"
    " SELECT req.n,"
    "  (SELECT jsonb_build_object('id', id, 'status', status, 'last_heartbeat_at',"
    "    last_heartbeat_at) FROM upd WHERE upd.n = req.n)::text AS agent,"
    "  (SELECT coalesce(jsonb_agg(x ORDER BY x->>'id'), '[]') FROM ("
    "    SELECT jsonb_build_object('id', e.id, 'state', e.state, 'cancelled', false,"
    "     'lease_expires_at', e.lease_expires_at) AS x FROM ext e WHERE e.n = req.n"
    "    UNION ALL"
    "    SELECT jsonb_build_object('id', t.id,"
    "     'state', CASE WHEN t.agent_id = req.agent THEN t.state END, 'cancelled', true,"
    "     'lease_expires_at', NULL) FROM tasks t WHERE t.id = ANY (req.ids)"
    "    AND t.id NOT IN (SELECT id FROM ext WHERE ext.n = req.n)) s)::text AS tasks"
    /* The tightest budget of the tasks the agent holds, and whether one is already past it:
     * what svc_hbmem checks a reported usage against before it answers from memory. */
    "  ,(SELECT jsonb_build_object("
    "    'tokens', min((e.budget->>'tokens')::numeric)"
    "     FILTER (WHERE jsonb_typeof(e.budget->'tokens') = 'number'),"
    "    'usd', min((e.budget->>'usd')::numeric)"
    "     FILTER (WHERE jsonb_typeof(e.budget->'usd') = 'number'),"
    "    'over', coalesce(bool_or("
    "     (jsonb_typeof(e.budget->'tokens') = 'number' AND jsonb_typeof(e.usage->'tokens') ="
    "      'number' AND (e.usage->>'tokens')::numeric > (e.budget->>'tokens')::numeric)"
    "     OR (jsonb_typeof(e.budget->'usd') = 'number' AND jsonb_typeof(e.usage->'usd') ="
    "      'number' AND (e.usage->>'usd')::numeric > (e.budget->>'usd')::numeric)), false))"
    "   FROM ext e WHERE e.n = req.n)::text AS limits"
    " FROM req ORDER BY req.n",
    2};

/* The checks queue_heartbeat makes, on one request. 0, or -1 with err. */
static int hbbatch_check(const struct hbbatch_req *q, struct err *err)
{
    const char *s = q->reported ? q->reported : "idle";

    if (queue_check_agent(q->agent_id, err) < 0)
        return -1;
    if (strcmp(s, "idle") != 0 && strcmp(s, "busy") != 0 && strcmp(s, "offline") != 0 &&
        strcmp(s, "initializing") != 0)
        return err_set(err, ERR_INVALID, "status must be idle, busy, initializing or offline");
    if (q->task_ids && !json_is_array(q->task_ids))
        return err_set(err, ERR_INVALID, "task ids must be an array of integers");
    for (size_t i = 0; q->task_ids && i < json_array_size(q->task_ids); i++)
        if (!json_is_integer(json_array_get(q->task_ids, i)))
            return err_set(err, ERR_INVALID, "task ids must be an array of integers");
    if (q->usage && model_usage_check(q->usage, err) < 0)
        return -1;
    return 0;
}

int hbbatch_exec(struct db *db, const struct queue_opts *o, struct hbbatch_req *reqs, size_t n,
                 struct err *err)
{
    json_t *arr = json_array();
    size_t *pos = mem_calloc(n + 1, sizeof(*pos)); /* row k answers reqs[pos[k]] */
    char lease[16], *doc = NULL;
    const char *params[2];
    PGresult *r = NULL;
    size_t m = 0;
    int rc = -1;

    for (size_t i = 0; i < n; i++) {
        struct hbbatch_req *q = &reqs[i];

        q->out = NULL;
        q->limits = NULL;
        q->rc = -1;
        memset(&q->err, 0, sizeof(q->err));
        if (hbbatch_check(q, &q->err) < 0)
            continue;
        json_array_append_new(arr, json_pack("{s:s,s:s,s:O,s:O,s:b}", "agent", q->agent_id,
                                             "status", q->reported ? q->reported : "idle", "ids",
                                             q->task_ids ? q->task_ids : json_null(), "usage",
                                             q->usage ? q->usage : json_null(), "deferred",
                                             q->deferred));
        pos[m++] = i;
    }
    rc = 0;
    if (m == 0)
        goto out;
    doc = json_dumps(arr, JSON_COMPACT);
    snprintf(lease, sizeof(lease), "%d", o->lease_seconds);
    params[0] = doc;
    params[1] = lease;
    rc = -1;
    r = db_exec(db, &st_hbbatch, params, err);
    if (!r)
        goto out;
    if ((size_t)PQntuples(r) != m) {
        err_set(err, ERR_INTERNAL, "heartbeat batch: %d rows for %zu requests", PQntuples(r), m);
        goto out;
    }
    for (size_t k = 0; k < m; k++) {
        struct hbbatch_req *q = &reqs[pos[k]];
        json_t *agent, *tasks;
        struct err lerr = {0};

        if (!db_get(r, (int)k, "agent")) {
            err_set(&q->err, ERR_NOT_FOUND, "agent %s is not registered", q->agent_id);
            continue;
        }
        agent = queue_parse(db_get(r, (int)k, "agent"), &q->err);
        tasks = queue_parse(db_get(r, (int)k, "tasks"), &q->err);
        if (!agent || !tasks) {
            json_decref(agent);
            json_decref(tasks);
            continue;
        }
        q->out = json_pack("{s:o,s:o}", "agent", agent, "tasks", tasks);
        q->limits = queue_parse(db_get(r, (int)k, "limits"), &lerr);
        q->rc = 0;
    }
    rc = 0;
out:
    PQclear(r);
    free(doc);
    free(pos);
    json_decref(arr);
    return rc;
}
