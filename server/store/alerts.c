/* Alertmanager group dedup. Worker threads only. */
#include "store/alerts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct db_stmt st_touch = {
    "alerts_touch",
    "INSERT INTO alert_groups (group_key, status, received) VALUES ($1, $2, 0)"
    " ON CONFLICT (group_key) DO NOTHING",
    2};

static const struct db_stmt st_lock = {
    "alerts_lock",
    "SELECT g.task_id, t.state IN ('backlog', 'in_progress', 'needs_input', 'ready_to_test')"
    " AS open FROM alert_groups g LEFT JOIN tasks t ON t.id = g.task_id"
    " WHERE g.group_key = $1 FOR UPDATE OF g",
    1};

static const struct db_stmt st_set = {
    "alerts_set",
    "UPDATE alert_groups SET task_id = coalesce($2, task_id), status = $3,"
    " received = received + 1, updated_at = now(),"
    " project_id = coalesce($4, project_id) WHERE group_key = $1",
    4};

static const struct db_stmt st_note = {
    "alerts_note",
    "INSERT INTO activity (task_id, kind, level, message, metadata)"
    " VALUES ($1, 'system', 'notice', 'Alertmanager reports the alert group resolved',"
    " jsonb_build_object('alert_status', 'resolved'))",
    1};

/* Lock the group row (creating it first); *task_id = its unfinished task or 0. */
static int alerts_lock(struct db *db, const char *key, const char *status, long long *task_id,
                       struct err *err)
{
    const char *p2[2] = {key, status};
    const char *p1[1] = {key};
    PGresult *r;

    *task_id = 0;
    if (!key || !*key || strlen(key) > 4096)
        return err_set(err, ERR_INVALID, "groupKey must be 1-4096 characters");
    r = db_exec(db, &st_touch, p2, err);
    if (!r)
        return -1;
    PQclear(r);
    r = db_exec(db, &st_lock, p1, err);
    if (!r)
        return -1;
    if (PQntuples(r) == 1 && !db_is_null(r, 0, "task_id") && strcmp(db_get(r, 0, "open"), "t") == 0)
        *task_id = db_get_ll(r, 0, "task_id");
    PQclear(r);
    return 0;
}

/*
 * The end of alerts_open's and alerts_resolve's transaction (the one alerts_lock took the row
 * in): when `rc` says the steps before went well, record the group's status (p4: group_key,
 * task_id, status, project_id) and commit; otherwise, or when that fails, roll back and leave
 * *task NULL. Returns the outcome.
 */
static int alerts_finish(struct db *db, int rc, const char *const p4[4], json_t **task,
                         struct err *err)
{
    PGresult *r = NULL;

    if (rc == 0) {
        r = db_exec(db, &st_set, p4, err);
        if (!r || db_commit(db, err) < 0)
            rc = -1;
    }
    PQclear(r);
    if (rc < 0) {
        db_rollback(db);
        json_decref(*task);
        *task = NULL;
    }
    return rc;
}

int alerts_open(struct db *db, const char *group_key, const struct model_task_new *t, json_t **task,
                bool *created, struct err *err)
{
    char tid[24], pid[24];
    const char *p4[4] = {group_key, NULL, "firing", NULL};
    long long open_id;
    int rc = -1;

    *task = NULL;
    *created = false;
    if (db_begin(db, err) < 0)
        return -1;
    if (alerts_lock(db, group_key, "firing", &open_id, err) < 0)
        goto out;
    if (open_id) {
        if (queue_get(db, open_id, task, err) < 0)
            goto out;
    } else {
        if (queue_enqueue(db, t, task, NULL, err) < 0)
            goto out;
        *created = true;
        snprintf(tid, sizeof(tid), "%lld",
                 (long long)json_integer_value(json_object_get(*task, "id")));
        p4[1] = tid;
    }
    if (t->project_id > 0) {
        snprintf(pid, sizeof(pid), "%lld", (long long)t->project_id);
        p4[3] = pid;
    }
    rc = 0;
out:
    rc = alerts_finish(db, rc, p4, task, err);
    if (rc < 0)
        *created = false;
    return rc;
}

int alerts_resolve(struct db *db, const char *group_key, json_t **task, struct err *err)
{
    char tid[24];
    const char *p1[1] = {tid};
    const char *p4[4] = {group_key, NULL, "resolved", NULL};
    long long open_id;
    PGresult *r;
    int rc = -1;

    *task = NULL;
    if (db_begin(db, err) < 0)
        return -1;
    if (alerts_lock(db, group_key, "resolved", &open_id, err) < 0)
        goto out;
    if (open_id) {
        snprintf(tid, sizeof(tid), "%lld", open_id);
        r = db_exec(db, &st_note, p1, err);
        if (!r)
            goto out;
        PQclear(r);
        if (queue_get(db, open_id, task, err) < 0)
            goto out;
    }
    rc = 0;
out:
    return alerts_finish(db, rc, p4, task, err);
}
