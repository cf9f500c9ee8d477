/* Approvals (see approvals.h). Worker threads. */
#include "store/approvals.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define APPROVALS_JSON                                                                             \
    "jsonb_build_object('id', a.id, 'task_id', a.task_id, 'task_title', (SELECT title FROM tasks"  \
    "  WHERE id = a.task_id), 'agent_id', a.agent_id, 'lease_epoch', a.lease_epoch,"               \
    " 'policy_version', a.policy_version, 'tool_name', a.tool_name, 'tool_input', a.tool_input,"   \
    " 'action', a.action, 'rule', a.rule, 'state', a.state, 'decided_by', a.decided_by,"           \
    " 'reason', a.reason, 'created_at', a.created_at, 'expires_at', a.expires_at,"                 \
    " 'decided_at', a.decided_at)"

/* The lease fence of queue_update_status and branches_fence, under the row lock. */
static const struct db_stmt st_create = {
    "approvals_create",
    "WITH c AS (SELECT t.id, t.state, t.agent_id, t.lease_epoch,"
    "  t.lease_expires_at IS NOT NULL AND t.lease_expires_at <= now() AS expired"
    "  FROM tasks t WHERE t.id = $1 FOR UPDATE),"
    " a AS (INSERT INTO approvals (task_id, agent_id, lease_epoch, policy_version, tool_name,"
    "  tool_input, action, rule, state, decided_by, decided_at, expires_at)"
    "  SELECT c.id, $3::uuid, $2::bigint, $4::int, $5, $6::jsonb, $7, $8,"
    "   CASE WHEN $9::boolean THEN 'pending' ELSE 'denied' END,"
    "   CASE WHEN $9::boolean THEN NULL ELSE 'policy' END,"
    "   CASE WHEN $9::boolean THEN NULL ELSE now() END,"
    "   now() + make_interval(secs => $10::int) FROM c"
    "  WHERE c.agent_id = $3::uuid AND c.lease_epoch = $2::bigint AND c.state = 'in_progress'"
    "   AND NOT c.expired RETURNING *),"
    " n AS (INSERT INTO activity (task_id, agent_id, kind, level, message, metadata)"
    "  SELECT a.task_id, a.agent_id, 'system', CASE WHEN a.state = 'pending' THEN 'notice'"
    "   ELSE 'warning' END, CASE WHEN a.state = 'pending' THEN 'waiting for approval: '"
    "   ELSE 'denied by the policy: ' END || a.action || ' (' || a.rule || ')',"
    "   jsonb_build_object('approval_id', a.id, 'state', a.state) FROM a)"
    " SELECT c.state, c.agent_id, c.lease_epoch, c.expired,"
    "  (SELECT " APPROVALS_JSON "::text FROM a) AS approval FROM c",
    10};

static const struct db_stmt st_get = {
    "approvals_get", "SELECT " APPROVALS_JSON "::text FROM approvals a WHERE a.id = $1", 1};

/* Time is up: a denial. Kept in one place so the poll, the sweep and an answer agree. */
#define APPROVALS_EXPIRE_SET                                                                       \
    "SET state = 'expired', decided_by = 'timeout', decided_at = now(),"                           \
    " reason = 'no one answered in time'"

static const struct db_stmt st_poll = {
    "approvals_poll",
    "WITH x AS (UPDATE approvals a " APPROVALS_EXPIRE_SET
    "  WHERE a.id = $1 AND a.task_id = $2 AND a.lease_epoch = $3 AND a.state = 'pending'"
    "  AND a.expires_at <= now() RETURNING a.*),"
    " n AS (INSERT INTO activity (task_id, agent_id, kind, level, message, metadata)"
    "  SELECT x.task_id, x.agent_id, 'system', 'warning', 'approval timed out, so denied: '"
    "   || x.action, jsonb_build_object('approval_id', x.id, 'state', x.state) FROM x)"
    " SELECT " APPROVALS_JSON "::text FROM (SELECT * FROM x UNION ALL SELECT * FROM approvals"
    "  WHERE id = $1 AND task_id = $2 AND lease_epoch = $3 AND NOT EXISTS (SELECT 1 FROM x)) a",
    3};

static const struct db_stmt st_decide = {
    "approvals_decide",
    "WITH c AS (SELECT a.id, a.state, a.expires_at <= now() AS late FROM approvals a"
    "  WHERE a.id = $1 FOR UPDATE),"
    " x AS (UPDATE approvals a SET state = CASE WHEN $2::boolean THEN 'approved' ELSE 'denied'"
    "  END, decided_by = $3, reason = $4, decided_at = now() FROM c"
    "  WHERE a.id = c.id AND c.state = 'pending' AND NOT c.late RETURNING a.*),"
    " n AS (INSERT INTO activity (task_id, agent_id, kind, level, message, metadata)"
    "  SELECT x.task_id, x.agent_id, 'system', 'notice', x.state || ' by ' || x.decided_by || ': '"
    "   || x.action || coalesce(' (' || nullif(x.reason, '') || ')', ''),"
    "   jsonb_build_object('approval_id', x.id, 'state', x.state) FROM x)"
    " SELECT c.state, c.late, (SELECT " APPROVALS_JSON "::text FROM x a) AS approval FROM c",
    4};

/* Bounded, so a backlog of expiries never holds many row locks at once; the sweep repeats. */
static const struct db_stmt st_expire = {
    "approvals_expire",
    "WITH due AS (SELECT a.id FROM approvals a LEFT JOIN tasks t ON t.id = a.task_id"
    "  WHERE a.state = 'pending' AND (a.expires_at <= now() OR t.state IS DISTINCT FROM"
    "  'in_progress' OR t.lease_epoch <> a.lease_epoch)"
    "  ORDER BY a.expires_at LIMIT 200 FOR UPDATE OF a SKIP LOCKED),"
    " x AS (UPDATE approvals a SET state = 'expired', decided_at = now(),"
    "  decided_by = CASE WHEN a.expires_at <= now() THEN 'timeout' ELSE 'lease' END,"
    "  reason = CASE WHEN a.expires_at <= now() THEN 'no one answered in time'"
    "   ELSE 'the task moved on before anyone answered' END"
    "  FROM due WHERE a.id = due.id RETURNING a.*),"
    " n AS (INSERT INTO activity (task_id, agent_id, kind, level, message, metadata)"
    "  SELECT x.task_id, x.agent_id, 'system', 'warning', 'approval expired ('"
    "   || x.reason || '): ' || x.action,"
    "   jsonb_build_object('approval_id', x.id, 'state', x.state) FROM x)"
    " SELECT count(*) FROM x",
    0};

static const struct db_stmt st_list = {
    "approvals_list",
    "SELECT coalesce(jsonb_agg(j ORDER BY id DESC), '[]')::text FROM"
    " (SELECT a.id, " APPROVALS_JSON " AS j FROM approvals a"
    "  WHERE ($1::text IS NULL OR a.state = $1) AND ($2::bigint = 0 OR a.task_id = $2)"
    "  ORDER BY a.id DESC LIMIT $3) x",
    3};

static int approvals_read(const char *text, json_t **out, struct err *err)
{
    json_error_t je;

    *out = text ? json_loads(text, 0, &je) : NULL;
    return *out ? 0 : err_set(err, ERR_INTERNAL, "database returned unreadable JSON");
}

/* The lease fence's answer from (state, agent_id, lease_epoch, expired) of row 0. */
static int approvals_fence(const PGresult *r, const struct approvals_new *a, struct err *err)
{
    const char *agent = db_get(r, 0, "agent_id"), *state = db_get(r, 0, "state");

    if (!agent || strcasecmp(agent, a->agent_id) != 0)
        return err_set(err, ERR_FORBIDDEN, "task is not leased to agent %s", a->agent_id);
    if (db_get_ll(r, 0, "lease_epoch") != a->epoch)
        return err_set(err, ERR_STALE_EPOCH,
                       "lease epoch %lld is stale (current %lld): the lease was lost",
                       (long long)a->epoch, db_get_ll(r, 0, "lease_epoch"));
    if (strcmp(state, "in_progress") != 0)
        return err_set(err, ERR_CONFLICT,
                       "task is %s, not in_progress: the lease is no longer held", state);
    return err_set(err, ERR_STALE_EPOCH, "the lease expired before this request arrived");
}

int approvals_create(struct db *db, const struct approvals_new *a, json_t **out, struct err *err)
{
    char id[24], ep[24], pv[16], to[16];
    char *input = json_dumps(a->tool_input, JSON_COMPACT);
    const char *p[10] = {id,        ep,           a->agent_id,
                         pv,        a->tool_name, input,
                         a->action, a->rule,      a->pending ? "true" : "false",
                         to};
    PGresult *r = NULL;
    int rc = -1;

    *out = NULL;
    if (!input)
        return err_set(err, ERR_INVALID, "the tool's input is not JSON");
    snprintf(id, sizeof(id), "%lld", (long long)a->task_id);
    snprintf(ep, sizeof(ep), "%lld", (long long)a->epoch);
    snprintf(pv, sizeof(pv), "%d", a->policy_version);
    snprintf(to, sizeof(to), "%d", a->pending ? a->timeout_seconds : 0);
    if (!(r = db_exec_found(db, &st_create, p, err, "task %lld does not exist",
                            (long long)a->task_id)))
        goto out;
    if (db_is_null(r, 0, "approval")) {
        approvals_fence(r, a, err);
        goto out;
    }
    rc = approvals_read(db_get(r, 0, "approval"), out, err);
out:
    PQclear(r);
    free(input);
    return rc;
}

int approvals_get(struct db *db, int64_t id, json_t **out, struct err *err)
{
    char s[24];
    const char *p[1] = {s};
    PGresult *r;
    int rc;

    *out = NULL;
    snprintf(s, sizeof(s), "%lld", (long long)id);
    if (!(r = db_exec_found(db, &st_get, p, err, "approval %lld does not exist", (long long)id)))
        return -1;
    rc = approvals_read(PQgetvalue(r, 0, 0), out, err);
    PQclear(r);
    return rc;
}

int approvals_poll(struct db *db, int64_t id, int64_t task_id, int64_t epoch, json_t **out,
                   struct err *err)
{
    char s[24], t[24], e[24];
    const char *p[3] = {s, t, e};
    PGresult *r;
    int rc;

    *out = NULL;
    snprintf(s, sizeof(s), "%lld", (long long)id);
    snprintf(t, sizeof(t), "%lld", (long long)task_id);
    snprintf(e, sizeof(e), "%lld", (long long)epoch);
    if (!(r = db_exec_found(db, &st_poll, p, err,
                            "approval %lld is not one of task %lld under this lease", (long long)id,
                            (long long)task_id)))
        return -1;
    rc = approvals_read(PQgetvalue(r, 0, 0), out, err);
    PQclear(r);
    return rc;
}

int approvals_decide(struct db *db, int64_t id, bool approve, const char *who, const char *reason,
                     json_t **out, struct err *err)
{
    char s[24];
    const char *p[4] = {s, approve ? "true" : "false", who, reason};
    PGresult *r;
    int rc = -1;

    *out = NULL;
    snprintf(s, sizeof(s), "%lld", (long long)id);
    if (!(r = db_exec_found(db, &st_decide, p, err, "approval %lld does not exist", (long long)id)))
        return -1;
    if (!db_is_null(r, 0, "approval"))
        rc = approvals_read(db_get(r, 0, "approval"), out, err);
    else if (strcmp(db_get(r, 0, "state"), "pending") == 0)
        err_set(err, ERR_CONFLICT, "approval %lld timed out before the answer came", (long long)id);
    else
        err_set(err, ERR_CONFLICT, "approval %lld is %s already", (long long)id,
                db_get(r, 0, "state"));
    PQclear(r);
    return rc;
}

int approvals_expire(struct db *db, int *n, struct err *err)
{
    PGresult *r = db_exec(db, &st_expire, NULL, err);

    *n = 0;
    if (!r)
        return -1;
    *n = (int)db_get_ll(r, 0, "count");
    PQclear(r);
    return 0;
}

int approvals_list(struct db *db, const char *state, int64_t task_id, int limit, json_t **out,
                   struct err *err)
{
    char t[24], l[16];
    const char *p[3] = {state, t, l};
    PGresult *r;
    int rc;

    *out = NULL;
    snprintf(t, sizeof(t), "%lld", (long long)task_id);
    snprintf(l, sizeof(l), "%d", limit < 1 ? 1 : limit > 500 ? 500 : limit);
    if (!(r = db_exec(db, &st_list, p, err)))
        return -1;
    rc = approvals_read(PQgetvalue(r, 0, 0), out, err);
    PQclear(r);
    return rc;
}
