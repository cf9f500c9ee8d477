/* Scheduled tasks. Worker threads only. */
#include "store/schedules.h"
#include "core/cron.h"
#include "core/log.h"
#include "store/projects.h"
#include "store/queue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCHEDULE_JSON                                                                              \
    "jsonb_build_object('id', s.id, 'name', s.name, 'project_id', s.project_id, 'cron', s.cron,"   \
    " 'title', s.title, 'prompt', s.prompt, 'priority', s.priority, 'enabled', s.enabled,"         \
    " 'created_at', s.created_at, 'last_slot', (SELECT max(slot) FROM schedule_fires f"            \
    "  WHERE f.schedule_id = s.id))"

static const struct db_stmt st_create = {
    "schedules_create",
    "INSERT INTO schedules (name, project_id, cron, title, prompt, priority, enabled)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    7};

static const struct db_stmt st_get = {
    "schedules_get", "SELECT " SCHEDULE_JSON "::text FROM schedules s WHERE s.id = $1", 1};

static const struct db_stmt st_list = {
    "schedules_list",
    "SELECT coalesce(jsonb_agg(" SCHEDULE_JSON " ORDER BY s.id), '[]')::text FROM schedules s", 0};

static const struct db_stmt st_delete = {"schedules_delete",
                                         "DELETE FROM schedules WHERE id = $1 RETURNING id", 1};

static const struct db_stmt st_due = {
    "schedules_due",
    "SELECT s.id, s.project_id, s.cron, s.title, s.prompt, s.priority,"
    " extract(epoch FROM s.created_at)::bigint AS created,"
    " coalesce(extract(epoch FROM (SELECT max(slot) FROM schedule_fires f"
    "  WHERE f.schedule_id = s.id))::bigint, 0) AS last"
    " FROM schedules s WHERE s.enabled ORDER BY s.id",
    0};

static const struct db_stmt st_claim_slot = {
    "schedules_claim_slot",
    "INSERT INTO schedule_fires (schedule_id, slot) VALUES ($1, to_timestamp($2))"
    " ON CONFLICT DO NOTHING RETURNING schedule_id",
    2};

static const struct db_stmt st_set_task = {
    "schedules_set_task",
    "UPDATE schedule_fires SET task_id = $3 WHERE schedule_id = $1 AND slot = to_timestamp($2)", 3};

static json_t *schedules_parse(const char *s, struct err *err)
{
    json_error_t je;
    json_t *j = s ? json_loads(s, 0, &je) : NULL;

    if (!j)
        err_set(err, ERR_INTERNAL, "database returned unreadable JSON");
    return j;
}

static const char *schedules_str(const json_t *in, const char *k)
{
    json_t *v = json_object_get(in, k);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

int schedules_create(struct db *db, const json_t *in, json_t **schedule, struct err *err)
{
    const char *name = schedules_str(in, "name"), *cron = schedules_str(in, "cron");
    const char *title = schedules_str(in, "title"), *prompt = schedules_str(in, "prompt");
    json_t *proj = json_object_get(in, "project"), *prio = json_object_get(in, "priority");
    json_t *en = json_object_get(in, "enabled");
    char projbuf[32], pid[24], pr[16];
    const char *params[7];
    int64_t project_id;
    struct cron c;
    PGresult *r;

    *schedule = NULL;
    if (!name || !cron || !prompt || !*prompt)
        return err_set(err, ERR_INVALID, "a schedule needs name, project, cron and prompt");
    if (json_is_integer(proj))
        snprintf(projbuf, sizeof(projbuf), "%lld", (long long)json_integer_value(proj));
    else if (json_is_string(proj))
        snprintf(projbuf, sizeof(projbuf), "%.31s", json_string_value(proj));
    else
        return err_set(err, ERR_INVALID, "project must name a project by id or name");
    if (prio && !json_is_integer(prio))
        return err_set(err, ERR_INVALID, "priority must be an integer");
    if (en && !json_is_boolean(en))
        return err_set(err, ERR_INVALID, "enabled must be true or false");
    if (cron_parse(cron, &c, err) < 0)
        return -1;
    if (projects_resolve(db, projbuf, &project_id, err) < 0)
        return -1;
    snprintf(pid, sizeof(pid), "%lld", (long long)project_id);
    snprintf(pr, sizeof(pr), "%lld", prio ? (long long)json_integer_value(prio) : 0LL);
    params[0] = name;
    params[1] = pid;
    params[2] = cron;
    params[3] = title && *title ? title : name;
    params[4] = prompt;
    params[5] = pr;
    params[6] = en && json_is_false(en) ? "false" : "true";
    r = db_exec(db, &st_create, params, err);
    if (!r) {
        if (strcmp(db_last_sqlstate(), "23505") == 0)
            err_set(err, ERR_CONFLICT, "a schedule named '%.100s' exists already", name);
        return -1;
    }
    snprintf(pid, sizeof(pid), "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    params[0] = pid;
    r = db_exec(db, &st_get, params, err);
    if (!r)
        return -1;
    *schedule = schedules_parse(PQgetvalue(r, 0, 0), err);
    PQclear(r);
    return *schedule ? 0 : -1;
}

int schedules_list(struct db *db, time_t now, json_t **schedules, struct err *err)
{
    PGresult *r = db_exec(db, &st_list, NULL, err);
    size_t i;
    json_t *s;

    *schedules = NULL;
    if (!r)
        return -1;
    *schedules = schedules_parse(PQgetvalue(r, 0, 0), err);
    PQclear(r);
    if (!*schedules)
        return -1;
    json_array_foreach(*schedules, i, s)
    {
        struct cron c;
        time_t next;
        char buf[32];

        if (cron_parse(json_string_value(json_object_get(s, "cron")), &c, NULL) == 0 &&
            cron_next(&c, now, &next) == 0) {
            struct tm tm;

            gmtime_r(&next, &tm);
            strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
            json_object_set_new(s, "next_run_at", json_string(buf));
        } else {
            json_object_set_new(s, "next_run_at", json_null());
        }
    }
    return 0;
}

int schedules_delete(struct db *db, int64_t id, struct err *err)
{
    char idbuf[24];
    const char *params[1] = {idbuf};

    snprintf(idbuf, sizeof(idbuf), "%lld", (long long)id);
    return db_run_found(db, &st_delete, params, err, "schedule %lld does not exist", (long long)id);
}

/* The latest slot in (from, now], or 0 when there is none. */
static time_t schedules_latest_slot(const struct cron *c, time_t from, time_t now)
{
    time_t t = from, next, found = 0;

    while (cron_next(c, t, &next) == 0 && next <= now) {
        found = next;
        t = next;
    }
    return found;
}

/* Claim one slot and enqueue its task in one transaction. *fired = 1 when this call did. */
static int schedules_fire_one(struct db *db, PGresult *due, int row, time_t slot, int *fired,
                              struct err *err)
{
    char slotbuf[24], key[80], tid[24];
    const char *sid = db_get(due, row, "id");
    const char *p2[2] = {sid, slotbuf};
    const char *p3[3] = {sid, slotbuf, tid};
    struct model_task_new t = {0};
    json_t *task = NULL;
    PGresult *r = NULL;
    int rc = -1;

    *fired = 0;
    snprintf(slotbuf, sizeof(slotbuf), "%lld", (long long)slot);
    snprintf(key, sizeof(key), "schedule:%s:%lld", sid, (long long)slot);
    if (db_begin(db, err) < 0)
        return -1;
    r = db_exec(db, &st_claim_slot, p2, err);
    if (!r)
        goto out;
    if (PQntuples(r) == 0) { /* another replica fired this slot */
        rc = 0;
        goto out;
    }
    t.title = db_get(due, row, "title");
    t.description = db_get(due, row, "prompt");
    t.priority = (int)db_get_ll(due, row, "priority");
    t.project_id = db_get_ll(due, row, "project_id");
    t.idempotency_key = key;
    if (queue_enqueue(db, &t, &task, NULL, err) < 0)
        goto out;
    snprintf(tid, sizeof(tid), "%lld", (long long)json_integer_value(json_object_get(task, "id")));
    PQclear(r);
    r = db_exec(db, &st_set_task, p3, err);
    if (!r || db_commit(db, err) < 0)
        goto out;
    *fired = 1;
    rc = 0;
out:
    if (rc < 0 || !*fired)
        db_rollback(db);
    PQclear(r);
    json_decref(task);
    return rc;
}

int schedules_fire_due(struct db *db, time_t now, int *fired, struct err *err)
{
    PGresult *due = db_exec(db, &st_due, NULL, err);
    int rc = 0;

    *fired = 0;
    if (!due)
        return -1;
    for (int i = 0; i < PQntuples(due); i++) {
        time_t from = (time_t)db_get_ll(due, i, "created");
        time_t last = (time_t)db_get_ll(due, i, "last");
        time_t slot;
        struct cron c;
        struct err e = {0};
        int one = 0;

        if (last > from)
            from = last;
        if (from < now - 86400) /* bound the walk; older missed slots are not replayed */
            from = now - 86400;
        if (cron_parse(db_get(due, i, "cron"), &c, &e) < 0) {
            log_warn("schedules", "schedule=%s msg=\"%s\"", db_get(due, i, "id"), e.msg);
            continue;
        }
        slot = schedules_latest_slot(&c, from, now);
        if (!slot)
            continue;
        if (schedules_fire_one(db, due, i, slot, &one, &e) < 0) {
            log_warn("schedules", "schedule=%s msg=\"firing failed: %s\"", db_get(due, i, "id"),
                     e.msg);
            *err = e;
            rc = -1;
            continue;
        }
        *fired += one;
    }
    PQclear(due);
    return rc;
}
