/*
 * Budget enforcement on heartbeats: a task whose usage, merged with the report the way the
 * heartbeat stores it (per key the larger number, sql/030), passes its budget moves to
 * needs_input. Worker threads only.
 */
#include "store/budget.h"
#include "core/model.h"

#include <stdlib.h>

static const struct db_stmt st_enforce = {
    "budget_enforce",
    "WITH m AS (SELECT id, drover_usage_merge(usage, $2::jsonb) AS u FROM tasks"
    "  WHERE agent_id = $1 AND state = 'in_progress' AND budget IS NOT NULL),"
    " over AS (SELECT t.id, m.u FROM tasks t JOIN m ON m.id = t.id WHERE ("
    "   (jsonb_typeof(t.budget->'tokens') = 'number' AND jsonb_typeof(m.u->'tokens') ="
    "    'number' AND (m.u->>'tokens')::numeric > (t.budget->>'tokens')::numeric)"
    "   OR (jsonb_typeof(t.budget->'usd') = 'number' AND jsonb_typeof(m.u->'usd') ="
    "    'number' AND (m.u->>'usd')::numeric > (t.budget->>'usd')::numeric))"
    "  ORDER BY t.id FOR UPDATE OF t),"
    " u AS (UPDATE tasks t SET state = 'needs_input', reason = 'budget',"
    "  usage = drover_usage_merge(t.usage, $2::jsonb),"
    "  question = 'The task used more than its budget ' || t.budget::text || '. Raise the"
    " budget or answer to resume it from the work pushed so far.',"
    "  lease_expires_at = NULL, updated_at = now()"
    "  FROM over o WHERE t.id = o.id RETURNING t.id, t.agent_id, t.lease_epoch, t.attempt,"
    "  t.budget),"
    " act AS (INSERT INTO activity (task_id, agent_id, kind, level, message, metadata)"
    "  SELECT id, agent_id, 'state', 'warning', 'in_progress -> needs_input: budget',"
    "  jsonb_build_object('from', 'in_progress', 'to', 'needs_input', 'epoch', lease_epoch,"
    "  'attempt', attempt, 'reason', 'budget', 'budget', budget, 'usage', $2::jsonb) FROM u)"
    " SELECT count(*) AS n FROM u",
    2};

int budget_enforce(struct db *db, const char *agent_id, const json_t *usage, int *n,
                   struct err *err)
{
    const char *params[2] = {agent_id, NULL};
    char *u = NULL;
    PGresult *r;

    *n = 0;
    if (!usage)
        return 0;
    if (model_usage_check(usage, err) < 0)
        return -1;
    u = json_dumps(usage, JSON_COMPACT);
    params[1] = u;
    r = db_exec(db, &st_enforce, params, err);
    free(u);
    if (!r)
        return -1;
    *n = (int)db_get_ll(r, 0, "n");
    PQclear(r);
    return 0;
}
