/* Closing superseded siblings' pull requests: the queue rows. Worker threads. */
#include "store/prclose.h"
#include "core/buf.h"
#include "store/queue_int.h"

#include <stdio.h>
#include <stdlib.h>

static const struct db_stmt st_queue = {
    "prclose_queue",
    "WITH c AS (SELECT id, pull_request->>'url' AS url FROM tasks WHERE id = $1),"
    " s AS (SELECT id, pull_request AS pr, branch FROM tasks"
    "  WHERE id = ANY($2::bigint[]) AND jsonb_typeof(pull_request) = 'object'),"
    " q AS (INSERT INTO forge_comments (task_id, issue, body, kind)"
    "  SELECT s.id, (s.pr->>'number')::bigint, 'Superseded: fan-out sibling #' || c.id"
    "   || ' was accepted' || coalesce(' (' || c.url || ')', ''), 'pr_close' FROM s, c"
    "  WHERE (s.pr->>'number') IS NOT NULL AND coalesce(s.pr->>'state', 'open') IN"
    "   ('open', 'opened') RETURNING id)"
    " INSERT INTO activity (task_id, kind, level, message)"
    " SELECT s.id, 'system', 'info', 'superseded: no forge pull request to close (a plain git"
    " project); its branch ' || coalesce(s.branch, s.pr->>'head', '?') || ' is kept'"
    " FROM s WHERE (s.pr->>'number') IS NULL",
    2};

/* The lease of review_comments_take, narrowed to closings (of one accept's siblings). */
static const struct db_stmt st_take = {
    "prclose_take",
    "WITH due AS (SELECT f.id FROM forge_comments f WHERE f.state = 'pending'"
    "  AND f.kind = 'pr_close' AND f.next_attempt_at <= now() AND ($3::bigint = 0 OR"
    "  f.task_id IN (SELECT s.id FROM tasks c JOIN tasks s ON s.parent_id = c.parent_id"
    "   AND s.id <> c.id WHERE c.id = $3::bigint))"
    "  ORDER BY f.next_attempt_at, f.id FOR UPDATE OF f SKIP LOCKED LIMIT $1),"
    " u AS (UPDATE forge_comments c SET attempts = c.attempts + 1,"
    "  next_attempt_at = now() + make_interval(secs => $2) FROM due WHERE c.id = due.id"
    "  RETURNING c.*)"
    " SELECT coalesce(jsonb_agg(jsonb_build_object('id', u.id, 'task_id', u.task_id, 'issue',"
    " u.issue, 'body', u.body, 'attempts', u.attempts, 'project_id', t.project_id, 'kind',"
    " u.kind, 'commented', u.commented_at IS NOT NULL) ORDER BY u.id), '[]')::text"
    " FROM u JOIN tasks t ON t.id = u.task_id",
    3};

static const struct db_stmt st_commented = {
    "prclose_commented", "UPDATE forge_comments SET commented_at = now() WHERE id = $1", 1};

static const struct db_stmt st_done = {
    "prclose_done",
    "WITH f AS (UPDATE forge_comments SET state = 'posted', posted_at = now(), last_error = NULL"
    "  WHERE id = $1 RETURNING id),"
    " t AS (UPDATE tasks SET pull_request = pull_request || '{\"state\": \"closed\"}',"
    "  updated_at = now() WHERE id = $2 AND jsonb_typeof(pull_request) = 'object' RETURNING id)"
    " INSERT INTO activity (task_id, kind, level, message)"
    " SELECT $2, 'system', 'info', left($3, 2000) FROM f",
    3};

int prclose_queue(struct db *db, int64_t accepted_id, const PGresult *ids, struct err *err)
{
    char id[24], *arr;
    const char *p[2] = {id, NULL};
    struct buf b;
    int rc;

    if (PQntuples(ids) == 0)
        return 0;
    buf_init(&b, 1 << 20);
    buf_appendf(&b, "{");
    for (int i = 0; i < PQntuples(ids); i++)
        buf_appendf(&b, "%s%s", i ? "," : "", PQgetvalue(ids, i, 0));
    buf_appendf(&b, "}");
    arr = buf_take(&b, NULL);
    snprintf(id, sizeof(id), "%lld", (long long)accepted_id);
    p[1] = arr;
    rc = db_run(db, &st_queue, p, err);
    free(arr);
    return rc;
}

int prclose_take(struct db *db, int64_t accepted_id, int limit, int lease_s, json_t **out,
                 struct err *err)
{
    char l[16], s[16], a[24];
    const char *p[3] = {l, s, a};
    PGresult *r;

    *out = NULL;
    snprintf(l, sizeof(l), "%d", limit);
    snprintf(s, sizeof(s), "%d", lease_s);
    snprintf(a, sizeof(a), "%lld", (long long)accepted_id);
    r = db_exec(db, &st_take, p, err);
    if (!r)
        return -1;
    *out = queue_parse(PQgetvalue(r, 0, 0), err);
    PQclear(r);
    return *out ? 0 : -1;
}

int prclose_commented(struct db *db, int64_t id, struct err *err)
{
    char i[24];
    const char *p[1] = {i};

    snprintf(i, sizeof(i), "%lld", (long long)id);
    return db_run(db, &st_commented, p, err);
}

int prclose_done(struct db *db, int64_t id, int64_t task_id, const char *message, struct err *err)
{
    char i[24], t[24];
    const char *p[3] = {i, t, message};

    snprintf(i, sizeof(i), "%lld", (long long)id);
    snprintf(t, sizeof(t), "%lld", (long long)task_id);
    return db_run(db, &st_done, p, err);
}
