/*
 * Branch, pull-request and preview records on a task, fenced on the lease before and after the
 * forge call the service layer makes in between. Worker threads.
 */
#include "store/branches.h"
#include "core/mem.h"
#include "store/taskjson.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The fence's inputs, as one row: the holder, the epoch, the state, whether the lease expired. */
#define BRANCHES_FENCE_COLS                                                                        \
    "t.state, t.agent_id, t.lease_epoch,"                                                          \
    " t.lease_expires_at IS NOT NULL AND t.lease_expires_at <= now() AS expired"

/* The fence read: no lock, no transaction (the record below re-checks under the row lock). */
static const struct db_stmt st_fence = {
    "branches_fence",
    "SELECT " BRANCHES_FENCE_COLS ", coalesce(t.project_id, 0) AS project_id,"
    " coalesce(t.submitted_by, '') AS submitted_by, " TASKJSON_SQL
    "::text AS task FROM tasks t LEFT JOIN projects p ON p.id = t.project_id WHERE t.id = $1",
    1};

/* True in SQL when the lease $2 (agent) / $3 (epoch) still holds on the locked row `c`. */
#define BRANCHES_HELD                                                                              \
    "(c.agent_id = $2::uuid AND c.lease_epoch = $3::bigint AND c.state = 'in_progress'"            \
    " AND NOT c.expired)"

static const struct db_stmt st_record_branch = {
    "branches_record_branch",
    "WITH c AS (SELECT t.id, t.branch, " BRANCHES_FENCE_COLS
    "  FROM tasks t WHERE t.id = $1 FOR UPDATE),"
    " u AS (UPDATE tasks t SET branch = $4, updated_at = now() FROM c"
    "  WHERE t.id = c.id AND c.branch IS NULL RETURNING t.id),"
    " n AS (INSERT INTO activity (task_id, agent_id, kind, level, message, metadata)"
    "  SELECT c.id, $2::uuid, 'system', CASE WHEN EXISTS (SELECT 1 FROM u) THEN 'info'"
    "   ELSE 'warning' END,"
    "   CASE WHEN EXISTS (SELECT 1 FROM u) THEN 'branch created'"
    "    ELSE 'branch ' || $4 || ' was created on the forge, but the task keeps branch '"
    "     || c.branch END || CASE WHEN " BRANCHES_HELD " THEN ''"
    "    ELSE ' (recorded after the lease was lost)' END,"
    "   jsonb_build_object('branch', $4) FROM c"
    "  WHERE EXISTS (SELECT 1 FROM u) OR c.branch <> $4)"
    " SELECT c.state, c.agent_id, c.lease_epoch, c.expired,"
    "  EXISTS (SELECT 1 FROM u) OR c.branch = $4 AS recorded FROM c",
    4};

static const struct db_stmt st_record_pr = {
    "branches_record_pr",
    "WITH c AS (SELECT t.id, t.pull_request, " BRANCHES_FENCE_COLS
    "  FROM tasks t WHERE t.id = $1 FOR UPDATE),"
    " u AS (UPDATE tasks t SET pull_request = $4::jsonb, updated_at = now() FROM c"
    "  WHERE t.id = c.id AND c.pull_request IS NULL RETURNING t.pull_request),"
    " n AS (INSERT INTO activity (task_id, agent_id, kind, level, message, metadata)"
    "  SELECT c.id, $2::uuid, 'system', 'info', 'pull request recorded'"
    "   || CASE WHEN " BRANCHES_HELD " THEN '' ELSE ' (after the lease was lost)' END,"
    "   $4::jsonb FROM c WHERE EXISTS (SELECT 1 FROM u))"
    " SELECT c.state, c.agent_id, c.lease_epoch, c.expired, EXISTS (SELECT 1 FROM u) AS created,"
    "  coalesce((SELECT pull_request FROM u), c.pull_request)::text AS pr FROM c",
    4};

static const struct db_stmt st_record_preview = {
    "branches_record_preview",
    "WITH c AS (SELECT t.id, " BRANCHES_FENCE_COLS " FROM tasks t WHERE t.id = $1 FOR UPDATE),"
    " u AS (UPDATE tasks t SET preview_url = $4, updated_at = now() FROM c WHERE t.id = c.id"
    "  RETURNING t.id),"
    " n AS (INSERT INTO activity (task_id, agent_id, kind, level, message, metadata)"
    "  SELECT c.id, $2::uuid, 'system', 'info', 'preview deployed: ' || $4"
    "   || CASE WHEN " BRANCHES_HELD " THEN '' ELSE ' (after the lease was lost)' END,"
    "   jsonb_build_object('preview_url', $4) FROM c)"
    " SELECT c.state, c.agent_id, c.lease_epoch, c.expired FROM c",
    4};

/* The fence on one row of (state, agent_id, lease_epoch, expired): 0, or -1 with err set. */
static int branches_check(const PGresult *r, const char *agent_id, int64_t epoch, struct err *err)
{
    const char *agent = db_get(r, 0, "agent_id"), *state = db_get(r, 0, "state");

    if (!agent || strcasecmp(agent, agent_id) != 0)
        return err_set(err, ERR_FORBIDDEN, "task is not leased to agent %s", agent_id);
    if (db_get_ll(r, 0, "lease_epoch") != epoch)
        return err_set(err, ERR_STALE_EPOCH,
                       "lease epoch %lld is stale (current %lld): the lease was lost",
                       (long long)epoch, db_get_ll(r, 0, "lease_epoch"));
    if (strcmp(state, "in_progress") != 0)
        return err_set(err, ERR_CONFLICT,
                       "task is %s, not in_progress: the lease is no longer held", state);
    if (strcmp(db_get(r, 0, "expired"), "t") == 0)
        return err_set(err, ERR_STALE_EPOCH, "the lease expired before this request arrived");
    return 0;
}

void branches_lease_clear(struct branches_lease *l)
{
    json_decref(l->task);
    memset(l, 0, sizeof(*l));
}

int branches_fence(struct db *db, const char *agent_id, int64_t task_id, int64_t epoch,
                   struct branches_lease *l, struct err *err)
{
    char id[24];
    const char *p[1] = {id};
    json_error_t je;
    PGresult *r;
    int rc = -1;

    memset(l, 0, sizeof(*l));
    if (task_id <= 0)
        return err_set(err, ERR_INVALID, "task_id must be a positive integer");
    snprintf(id, sizeof(id), "%lld", (long long)task_id);
    r = db_exec_found(db, &st_fence, p, err, "task %lld does not exist", (long long)task_id);
    if (!r)
        return -1;
    if (branches_check(r, agent_id, epoch, err) < 0)
        goto out;
    l->task = json_loads(db_get(r, 0, "task"), 0, &je);
    if (!l->task) {
        err_set(err, ERR_INTERNAL, "database returned unreadable JSON");
        goto out;
    }
    l->project_id = db_get_ll(r, 0, "project_id");
    snprintf(l->submitter, sizeof(l->submitter), "%s", db_get(r, 0, "submitted_by"));
    l->branch = json_string_value(json_object_get(l->task, "branch"));
    l->title = json_string_value(json_object_get(l->task, "title"));
    l->base = json_string_value(json_object_get(l->task, "base_branch"));
    l->pr = json_object_get(l->task, "pull_request");
    if (json_is_null(l->pr))
        l->pr = NULL;
    if (!l->title)
        l->title = "";
    rc = 0;
out:
    PQclear(r);
    return rc;
}

/* Run one record statement; the fence outcome goes to *fence. The row is read into *out. */
static int branches_record(struct db *db, const struct db_stmt *st, const char *agent_id,
                           int64_t task_id, int64_t epoch, const char *value, PGresult **out,
                           struct err *fence, struct err *err)
{
    char id[24], ep[24];
    const char *p[4] = {id, agent_id, ep, value};
    PGresult *r;

    *out = NULL;
    err_clear(fence);
    snprintf(id, sizeof(id), "%lld", (long long)task_id);
    snprintf(ep, sizeof(ep), "%lld", (long long)epoch);
    r = db_exec_found(db, st, p, err, "task %lld does not exist", (long long)task_id);
    if (!r)
        return -1;
    branches_check(r, agent_id, epoch, fence);
    *out = r;
    return 0;
}

int branches_record_branch(struct db *db, const char *agent_id, int64_t task_id, int64_t epoch,
                           const char *name, bool *recorded, struct err *fence, struct err *err)
{
    PGresult *r;

    *recorded = false;
    if (branches_record(db, &st_record_branch, agent_id, task_id, epoch, name, &r, fence, err) < 0)
        return -1;
    *recorded = strcmp(db_get(r, 0, "recorded"), "t") == 0;
    PQclear(r);
    return 0;
}

int branches_record_pr(struct db *db, const char *agent_id, int64_t task_id, int64_t epoch,
                       const json_t *pr, json_t **out, struct err *fence, struct err *err)
{
    char *pr_s = json_dumps(pr, JSON_COMPACT);
    json_t *kept = NULL;
    json_error_t je;
    PGresult *r = NULL;
    int rc = -1;

    *out = NULL;
    if (branches_record(db, &st_record_pr, agent_id, task_id, epoch, pr_s, &r, fence, err) < 0)
        goto out;
    kept = db_get(r, 0, "pr") ? json_loads(db_get(r, 0, "pr"), 0, &je) : NULL;
    *out =
        json_pack("{s:I,s:o,s:b}", "task_id", (json_int_t)task_id, "pull_request",
                  kept ? kept : json_null(), "created", strcmp(db_get(r, 0, "created"), "t") == 0);
    rc = 0;
out:
    PQclear(r);
    free(pr_s);
    return rc;
}

int branches_record_preview(struct db *db, const char *agent_id, int64_t task_id, int64_t epoch,
                            const char *url, struct err *fence, struct err *err)
{
    PGresult *r;

    if (branches_record(db, &st_record_preview, agent_id, task_id, epoch, url, &r, fence, err) < 0)
        return -1;
    PQclear(r);
    return 0;
}
