/* Budget enforcement on heartbeats. Worker threads only. */
#include "store/budget.h"

#include <stdlib.h>

static const struct db_stmt st_enforce = {
    "budget_enforce",
    "WITH over AS (SELECT id FROM tasks WHERE agent_id = $1 AND state = 'in_progress'"
    "  AND budget IS NOT NULL AND ("
    "   (jsonb_typeof(budget->'tokens') = 'number' AND jsonb_typeof($2::jsonb->'tokens') ="
    "    'number' AND ($2::jsonb->>'tokens')::numeric > (budget->>'tokens')::numeric)"
    "   OR (jsonb_typeof(budget->'usd') = 'number' AND jsonb_typeof($2::jsonb->'usd') ="
    "    'number' AND ($2::jsonb->>'usd')::numeric > (budget->>'usd')::numeric))"
    "  ORDER BY id FOR UPDATE),"
    " u AS (UPDATE tasks t SET state = 'needs_input', reason = 'budget', usage = $2::jsonb,"
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
    if (!json_is_object(usage))
        return err_set(err, ERR_INVALID, "usage must be an object");
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
