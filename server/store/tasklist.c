/* Task read models over tasks and activity. Worker threads only. */
#include "store/tasklist.h"
#include "store/taskjson.h"
#include "core/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct db_stmt st_page = {
    "tasklist_page",
    "SELECT coalesce(jsonb_agg(x.j ORDER BY x.id DESC), '[]')::text AS tasks,"
    " min(x.id) AS last_id, count(*) AS n FROM ("
    " SELECT t.id, " TASKJSON_SQL " AS j FROM tasks t LEFT JOIN projects p ON p.id = t.project_id"
    " WHERE ($1::text IS NULL OR t.state = $1) AND ($2::bigint IS NULL OR t.project_id = $2)"
    " AND ($3::uuid IS NULL OR t.agent_id = $3) AND ($4::bigint IS NULL OR t.parent_id = $4)"
    " AND ($5::bigint IS NULL OR t.id < $5) ORDER BY t.id DESC LIMIT $6) x",
    6};

static const struct db_stmt st_more = {"tasklist_more",
                                       "SELECT EXISTS (SELECT 1 FROM tasks t"
                                       " WHERE ($1::text IS NULL OR t.state = $1)"
                                       " AND ($2::bigint IS NULL OR t.project_id = $2)"
                                       " AND ($3::uuid IS NULL OR t.agent_id = $3)"
                                       " AND ($4::bigint IS NULL OR t.parent_id = $4)"
                                       " AND t.id < $5) AS more",
                                       5};

static const struct db_stmt st_history = {
    "tasklist_history",
    "SELECT coalesce(jsonb_agg(jsonb_build_object('id', id, 'ts', ts, 'from',"
    " metadata->>'from', 'to', metadata->>'to', 'message', message, 'agent_id', agent_id,"
    " 'level', level, 'by', metadata->>'by') ORDER BY id), '[]')::text AS h FROM activity"
    " WHERE task_id = $1 AND kind = 'state'",
    1};

static const struct db_stmt st_logs = {
    "tasklist_logs",
    "SELECT coalesce(jsonb_agg(jsonb_build_object('id', id, 'ts', ts, 'kind', kind, 'level',"
    " level, 'message', message, 'metadata', metadata, 'agent_id', agent_id) ORDER BY id),"
    " '[]')::text AS l FROM (SELECT * FROM activity WHERE task_id = $1 AND id > $2"
    " ORDER BY id LIMIT $3) a",
    3};

static const struct db_stmt st_children = {
    "tasklist_children",
    "SELECT coalesce(jsonb_agg(jsonb_build_object('id', id, 'title', title, 'state', state,"
    " 'branch', branch, 'agent_id', agent_id, 'pull_request', pull_request) ORDER BY id),"
    " '[]')::text AS c FROM tasks WHERE parent_id = $1",
    1};

static json_t *tasklist_parse(const char *s, struct err *err)
{
    json_error_t je;
    json_t *j = s ? json_loads(s, 0, &je) : NULL;

    if (!j)
        err_set(err, ERR_INTERNAL, "database returned unreadable JSON");
    return j;
}

int tasklist_page(struct db *db, const struct model_task_filter *f, json_t **tasks,
                  int64_t *next_before, struct err *err)
{
    char proj[24], parent[24], before[24], lim[16], last[24];
    const char *params[6];
    PGresult *r = NULL;
    int rc = -1;

    *tasks = NULL;
    *next_before = 0;
    if (f->agent_id && !text_is_uuid(f->agent_id))
        return err_set(err, ERR_INVALID, "agent must be an agent id (a UUID)");
    snprintf(proj, sizeof(proj), "%lld", (long long)f->project_id);
    snprintf(parent, sizeof(parent), "%lld", (long long)f->parent_id);
    snprintf(before, sizeof(before), "%lld", (long long)f->before_id);
    snprintf(lim, sizeof(lim), "%d", f->limit > 0 && f->limit <= 200 ? f->limit : 50);
    params[0] = f->state;
    params[1] = f->project_id > 0 ? proj : NULL;
    params[2] = f->agent_id;
    params[3] = f->parent_id > 0 ? parent : NULL;
    params[4] = f->before_id > 0 ? before : NULL;
    params[5] = lim;
    r = db_exec(db, &st_page, params, err);
    if (!r)
        goto out;
    *tasks = tasklist_parse(db_get(r, 0, "tasks"), err);
    if (!*tasks)
        goto out;
    if (!db_is_null(r, 0, "last_id")) {
        snprintf(last, sizeof(last), "%s", db_get(r, 0, "last_id"));
        PQclear(r);
        params[4] = last;
        r = db_exec(db, &st_more, params, err);
        if (!r)
            goto out;
        if (strcmp(db_get(r, 0, "more"), "t") == 0)
            *next_before = strtoll(last, NULL, 10);
    }
    rc = 0;
out:
    PQclear(r);
    if (rc < 0) {
        json_decref(*tasks);
        *tasks = NULL;
    }
    return rc;
}

static int tasklist_one(struct db *db, const struct db_stmt *st, const char *const *params,
                        json_t **out, struct err *err)
{
    PGresult *r = db_exec(db, st, params, err);

    *out = NULL;
    if (!r)
        return -1;
    *out = tasklist_parse(PQgetvalue(r, 0, 0), err);
    PQclear(r);
    return *out ? 0 : -1;
}

int tasklist_history(struct db *db, int64_t task_id, json_t **history, struct err *err)
{
    char id[24];
    const char *params[1] = {id};

    snprintf(id, sizeof(id), "%lld", (long long)task_id);
    return tasklist_one(db, &st_history, params, history, err);
}

int tasklist_logs(struct db *db, int64_t task_id, int64_t after, int limit, json_t **entries,
                  struct err *err)
{
    char id[24], a[24], lim[16];
    const char *params[3] = {id, a, lim};

    snprintf(id, sizeof(id), "%lld", (long long)task_id);
    snprintf(a, sizeof(a), "%lld", (long long)(after > 0 ? after : 0));
    snprintf(lim, sizeof(lim), "%d", limit > 0 && limit <= 1000 ? limit : 200);
    return tasklist_one(db, &st_logs, params, entries, err);
}

int tasklist_children(struct db *db, int64_t parent_id, json_t **children, struct err *err)
{
    char id[24];
    const char *params[1] = {id};

    snprintf(id, sizeof(id), "%lld", (long long)parent_id);
    return tasklist_one(db, &st_children, params, children, err);
}
