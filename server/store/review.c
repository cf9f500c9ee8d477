/*
 * Review moves, submitters, review comments and forge deliveries. Worker threads only.
 */
#include "store/review.h"
#include "core/mem.h"
#include "store/prclose.h"
#include "store/queue_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct db_stmt st_lock = {
    "review_lock",
    "SELECT state, branch, result::text AS result, pull_request::text AS pr FROM tasks"
    " WHERE id = $1 FOR UPDATE",
    1};

static const struct db_stmt st_open_comments = {
    "review_open_comments",
    "SELECT coalesce(jsonb_agg(jsonb_strip_nulls(jsonb_build_object('author', author, 'kind',"
    " kind, 'body', body, 'path', path, 'line', line, 'diff_hunk', diff_hunk, 'url', url))"
    " ORDER BY id), '[]')::text AS c,"
    " count(*) AS n FROM review_comments WHERE task_id = $1 AND consumed_at IS NULL",
    1};

static const struct db_stmt st_consume = {
    "review_consume",
    "UPDATE review_comments SET consumed_at = now() WHERE task_id = $1 AND consumed_at IS NULL", 1};

static const struct db_stmt st_submitter = {
    "review_submitter",
    "UPDATE tasks SET submitted_by = $2, submitted_by_token = $3::bigint"
    " WHERE id = $1 OR parent_id = $1",
    3};

static const struct db_stmt st_owner = {
    "review_owner",
    "SELECT coalesce(t.submitted_by_token, 0) AS tok,"
    " coalesce(p.settings->>'developer_access', 'own') AS access"
    " FROM tasks t LEFT JOIN projects p ON p.id = t.project_id WHERE t.id = $1",
    1};

static const struct db_stmt st_add_comment = {
    "review_add_comment",
    "INSERT INTO review_comments (task_id, kind, author, body, path, line, forge_id, diff_hunk,"
    " position, url) VALUES ($1, $2, $3, $4, $5, $6::integer, $7, $8, $9::integer, $10)"
    " ON CONFLICT (task_id, forge_id) WHERE forge_id IS NOT NULL DO NOTHING",
    10};

static const struct db_stmt st_find = {
    "review_find",
    "SELECT id FROM tasks WHERE project_id = $1 AND (($2::bigint > 0 AND"
    " (pull_request->>'number')::bigint = $2::bigint) OR ($3::text IS NOT NULL AND branch = $3))"
    " ORDER BY ($2::bigint > 0 AND (pull_request->>'number')::bigint = $2::bigint) DESC, id DESC"
    " LIMIT 1",
    3};

static const struct db_stmt st_pr_update = {
    "review_pr_update",
    "UPDATE tasks SET pull_request = coalesce(pull_request, '{}') || $2::jsonb,"
    " updated_at = now() WHERE id = $1",
    2};

static const struct db_stmt st_delivery = {
    "review_delivery",
    "INSERT INTO forge_deliveries (project_id, forge, delivery_id, body_sha256, event, outcome)"
    " VALUES ($1, $2, $3, $4, $5, 'received') ON CONFLICT DO NOTHING RETURNING id",
    5};

static const struct db_stmt st_delivery_done = {
    "review_delivery_done",
    "UPDATE forge_deliveries SET outcome = $3, task_id = nullif($2, '0')::bigint WHERE id = $1", 3};

static const struct db_stmt st_delivery_forget = {"review_delivery_forget",
                                                  "DELETE FROM forge_deliveries WHERE id = $1", 1};

static const struct db_stmt st_deliveries = {
    "review_deliveries",
    "SELECT coalesce(jsonb_agg(jsonb_build_object('id', id, 'forge', forge, 'delivery_id',"
    " delivery_id, 'event', event, 'task_id', task_id, 'outcome', outcome, 'received_at',"
    " received_at) ORDER BY id DESC), '[]')::text FROM (SELECT * FROM forge_deliveries"
    " WHERE project_id = $1 ORDER BY id DESC LIMIT $2) d",
    2};

/* The open siblings of a fan-out child, locked, when its project closes them on accept. */
static const struct db_stmt st_siblings = {
    "review_siblings",
    "SELECT s.id FROM tasks c JOIN tasks s ON s.parent_id = c.parent_id AND s.id <> c.id"
    " LEFT JOIN projects p ON p.id = c.project_id WHERE c.id = $1"
    " AND coalesce(p.settings->>'fanout_close_siblings', 'true') <> 'false'"
    " AND s.state IN ('backlog', 'in_progress', 'needs_input', 'ready_to_test')"
    " ORDER BY s.id FOR UPDATE OF s",
    1};

int review_accept(struct db *db, int64_t task_id, const char *actor, const char *comment,
                  json_t **task, struct err *err)
{
    struct queue_person_move m = {"completed", "ready_to_test", NULL, NULL, false};
    struct queue_person_move sibling = {"cancelled", NULL, NULL, NULL, false};
    char id[24], *why = NULL;
    const char *p1[1] = {id};
    json_t *ctx = NULL;
    PGresult *r = NULL;
    int rc = -1;

    *task = NULL;
    if (queue_check_text("comment", comment, REVIEW_TEXT_MAX, false, err) < 0)
        return -1;
    if (comment && *comment)
        ctx = json_pack("[{s:s,s:s,s:s}]", "type", "accepted", "by", actor ? actor : "admin",
                        "comment", comment);
    m.context = ctx;
    snprintf(id, sizeof(id), "%lld", (long long)task_id);
    /* The accepted child and the siblings it supersedes move together, or nothing does. */
    if (db_begin(db, err) < 0)
        goto out;
    if (queue_move_person(db, false, task_id, actor, &m, task, err) < 0)
        goto out;
    r = db_exec(db, &st_siblings, p1, err);
    if (!r)
        goto out;
    why = mem_printf("superseded: its fan-out sibling #%lld was accepted by %s", (long long)task_id,
                     actor ? actor : "admin");
    sibling.why = why;
    if (queue_move_each(db, r, actor, &sibling, err) < 0)
        goto out;
    /* Their pull requests are closed once this commits (svc/svc_prclose.c); queued here. */
    if (prclose_queue(db, task_id, r, err) < 0)
        goto out;
    rc = 0;
out:
    rc = queue_move_finish(db, rc, task, err);
    PQclear(r);
    json_decref(ctx);
    free(why);
    return rc;
}

int review_rework(struct db *db, int64_t task_id, const char *actor, const char *instructions,
                  json_t **task, struct err *err)
{
    struct queue_person_move m = {"backlog", "ready_to_test", NULL, NULL, true};
    char id[24];
    const char *p1[1] = {id};
    PGresult *r = NULL;
    json_t *entry = NULL, *ctx = NULL, *review = NULL;
    int rc = -1;

    *task = NULL;
    if (task_id <= 0)
        return err_set(err, ERR_INVALID, "task id must be a positive integer");
    if (queue_check_text("instructions", instructions, REVIEW_TEXT_MAX, false, err) < 0)
        return -1;
    snprintf(id, sizeof(id), "%lld", (long long)task_id);
    if (db_begin(db, err) < 0)
        return -1;
    r = db_exec_found(db, &st_lock, p1, err, "task %lld does not exist", (long long)task_id);
    if (!r)
        goto out;
    entry = json_pack("{s:s,s:s}", "type", "rework", "by", actor ? actor : "admin");
    if (instructions && *instructions)
        json_object_set_new(entry, "instructions", json_string(instructions));
    if (!db_is_null(r, 0, "branch"))
        json_object_set_new(entry, "branch", json_string(db_get(r, 0, "branch")));
    if (!db_is_null(r, 0, "result"))
        json_object_set_new(entry, "previous_result", json_loads(db_get(r, 0, "result"), 0, NULL));
    if (!db_is_null(r, 0, "pr"))
        json_object_set_new(entry, "pull_request", json_loads(db_get(r, 0, "pr"), 0, NULL));
    PQclear(r);
    r = db_exec(db, &st_open_comments, p1, err);
    if (!r)
        goto out;
    review = json_loads(db_get(r, 0, "c"), 0, NULL);
    if (json_array_size(review))
        json_object_set(entry, "review", review);
    if ((!instructions || !*instructions) && !json_array_size(review)) {
        err_set(err, ERR_INVALID, "say what to change: send {\"instructions\": \"...\"}");
        goto out;
    }
    if (db_run(db, &st_consume, p1, err) < 0)
        goto out;
    ctx = json_pack("[O]", entry);
    m.context = ctx;
    if (queue_move_person(db, false, task_id, actor, &m, task, err) < 0)
        goto out;
    rc = 0;
out:
    rc = queue_move_finish(db, rc, task, err);
    PQclear(r);
    json_decref(entry);
    json_decref(ctx);
    json_decref(review);
    return rc;
}

int review_reject(struct db *db, int64_t task_id, const char *actor, const char *why, json_t **task,
                  struct err *err)
{
    struct queue_person_move m = {"cancelled", "ready_to_test", NULL, NULL, false};
    char *msg;
    int rc;

    if (queue_check_text("reason", why, 2000, false, err) < 0)
        return -1;
    msg = mem_printf("rejected by %s%s%s", actor ? actor : "admin", why && *why ? ": " : "",
                     why && *why ? why : "");
    m.why = msg;
    rc = queue_move_person(db, true, task_id, actor, &m, task, err);
    free(msg);
    return rc;
}

int review_set_submitter(struct db *db, int64_t task_id, const char *name, long long token_id,
                         struct err *err)
{
    char id[24], tok[24];
    const char *p[3] = {id, name, tok};

    snprintf(id, sizeof(id), "%lld", (long long)task_id);
    snprintf(tok, sizeof(tok), "%lld", token_id);
    if (token_id <= 0)
        p[2] = NULL;
    return db_run(db, &st_submitter, p, err);
}

int review_owner(struct db *db, int64_t task_id, long long *token_id, char access[16],
                 struct err *err)
{
    char id[24];
    const char *p[1] = {id};
    PGresult *r;

    snprintf(id, sizeof(id), "%lld", (long long)task_id);
    r = db_exec_found(db, &st_owner, p, err, "task %lld does not exist", (long long)task_id);
    if (!r)
        return -1;
    *token_id = db_get_ll(r, 0, "tok");
    snprintf(access, 16, "%s", db_get(r, 0, "access"));
    PQclear(r);
    return 0;
}

int review_add_comment(struct db *db, int64_t task_id, const struct review_comment *c,
                       struct err *err)
{
    char id[24], ln[24], pos[24];
    const char *p[10] = {id,          c->kind,      c->author,
                         c->body,     c->path,      c->line > 0 ? ln : NULL,
                         c->forge_id, c->diff_hunk, c->position > 0 ? pos : NULL,
                         c->url};

    if (queue_check_text("comment", c->body, REVIEW_TEXT_MAX, true, err) < 0 ||
        queue_check_text("author", c->author, 200, false, err) < 0 ||
        queue_check_text("path", c->path, 4096, false, err) < 0 ||
        queue_check_text("forge comment id", c->forge_id, 200, false, err) < 0 ||
        queue_check_text("diff hunk", c->diff_hunk, 65536, false, err) < 0 ||
        queue_check_text("url", c->url, 2000, false, err) < 0)
        return -1;
    snprintf(id, sizeof(id), "%lld", (long long)task_id);
    snprintf(ln, sizeof(ln), "%lld", c->line);
    snprintf(pos, sizeof(pos), "%lld", c->position);
    if (c->forge_id && !*c->forge_id)
        p[6] = NULL;
    return db_run(db, &st_add_comment, p, err);
}

int review_find_task(struct db *db, int64_t project_id, long long number, const char *branch,
                     int64_t *task_id, struct err *err)
{
    char pid[24], num[24];
    const char *p[3] = {pid, num, branch && *branch ? branch : NULL};
    PGresult *r;

    *task_id = 0;
    snprintf(pid, sizeof(pid), "%lld", (long long)project_id);
    snprintf(num, sizeof(num), "%lld", number);
    r = db_exec(db, &st_find, p, err);
    if (!r)
        return -1;
    if (PQntuples(r) > 0)
        *task_id = db_get_ll(r, 0, "id");
    PQclear(r);
    return 0;
}

int review_pr_update(struct db *db, int64_t task_id, const json_t *fields, struct err *err)
{
    char id[24], *f = json_dumps(fields, JSON_COMPACT);
    const char *p[2] = {id, f};
    int rc;

    snprintf(id, sizeof(id), "%lld", (long long)task_id);
    rc = db_run(db, &st_pr_update, p, err);
    free(f);
    return rc;
}

int review_delivery_claim(struct db *db, int64_t project_id, const char *forge,
                          const char *delivery_id, const char *body_sha256, const char *event,
                          int64_t *row_id, bool *fresh, struct err *err)
{
    char pid[24];
    const char *p[5] = {pid, forge, delivery_id, body_sha256, event};
    PGresult *r;

    *fresh = false;
    *row_id = 0;
    snprintf(pid, sizeof(pid), "%lld", (long long)project_id);
    if (queue_check_text("delivery id", delivery_id, 200, true, err) < 0 ||
        queue_check_text("event", event, 200, true, err) < 0)
        return -1;
    r = db_exec(db, &st_delivery, p, err);
    if (!r)
        return -1;
    if (PQntuples(r) > 0) {
        *fresh = true;
        *row_id = db_get_ll(r, 0, "id");
    }
    PQclear(r);
    return 0;
}

int review_delivery_done(struct db *db, int64_t row_id, int64_t task_id, const char *outcome,
                         struct err *err)
{
    char id[24], tid[24], oc[201];
    const char *p[3] = {id, tid, oc};

    snprintf(id, sizeof(id), "%lld", (long long)row_id);
    snprintf(tid, sizeof(tid), "%lld", (long long)task_id);
    snprintf(oc, sizeof(oc), "%s", outcome);
    return db_run(db, &st_delivery_done, p, err);
}

void review_delivery_forget(struct db *db, int64_t row_id)
{
    char id[24];
    const char *p[1] = {id};
    struct err e = {0};

    snprintf(id, sizeof(id), "%lld", (long long)row_id);
    db_run(db, &st_delivery_forget, p, &e);
}

int review_deliveries(struct db *db, int64_t project_id, int limit, json_t **out, struct err *err)
{
    char pid[24], lim[16];
    const char *p[2] = {pid, lim};
    PGresult *r;

    *out = NULL;
    snprintf(pid, sizeof(pid), "%lld", (long long)project_id);
    snprintf(lim, sizeof(lim), "%d", limit);
    r = db_exec(db, &st_deliveries, p, err);
    if (!r)
        return -1;
    *out = queue_parse(PQgetvalue(r, 0, 0), err);
    PQclear(r);
    return *out ? 0 : -1;
}

static const struct db_stmt st_issue_link = {
    "review_issue_link",
    "WITH u AS (UPDATE tasks SET forge_issue = $2, forge_author = nullif(left($4, 200), ''),"
    "  forge_requester = nullif(left($5, 200), '') WHERE id = $1 AND forge_issue IS NULL"
    "  RETURNING id)"
    " INSERT INTO forge_comments (task_id, issue, body) SELECT id, $2, $3 FROM u",
    5};

static const struct db_stmt st_requester = {
    "review_requester",
    "UPDATE tasks SET forge_requester = left($2, 200) WHERE id = $1 AND $2 <> ''", 2};

static const struct db_stmt st_comments_take = {
    "review_comments_take",
    "WITH due AS (SELECT id FROM forge_comments WHERE state = 'pending'"
    "  AND next_attempt_at <= now() ORDER BY next_attempt_at, id FOR UPDATE SKIP LOCKED"
    "  LIMIT $1),"
    " u AS (UPDATE forge_comments c SET attempts = c.attempts + 1,"
    "  next_attempt_at = now() + make_interval(secs => $2) FROM due WHERE c.id = due.id"
    "  RETURNING c.*)"
    " SELECT coalesce(jsonb_agg(jsonb_build_object('id', u.id, 'task_id', u.task_id, 'issue',"
    " u.issue, 'body', u.body, 'attempts', u.attempts, 'project_id', t.project_id, 'kind',"
    " u.kind, 'commented', u.commented_at IS NOT NULL)"
    " ORDER BY u.id), '[]')::text FROM u JOIN tasks t ON t.id = u.task_id",
    2};

static const struct db_stmt st_comment_settle = {
    "review_comment_settle",
    "UPDATE forge_comments SET state = CASE WHEN $2 THEN 'posted' WHEN $3 THEN 'dead'"
    " ELSE 'pending' END, posted_at = CASE WHEN $2 THEN now() END,"
    " next_attempt_at = CASE WHEN $2 OR $3 THEN next_attempt_at"
    "  ELSE now() + make_interval(secs => $4) END, last_error = left($5, 1000) WHERE id = $1",
    5};

int review_issue_link(struct db *db, int64_t task_id, long long issue, const char *author,
                      const char *requester, const char *body, struct err *err)
{
    char id[24], n[24];
    const char *p[5] = {id, n, body, author ? author : "", requester ? requester : ""};

    snprintf(id, sizeof(id), "%lld", (long long)task_id);
    snprintf(n, sizeof(n), "%lld", issue);
    return db_run(db, &st_issue_link, p, err);
}

int review_set_requester(struct db *db, int64_t task_id, const char *login, struct err *err)
{
    char id[24];
    const char *p[2] = {id, login ? login : ""};

    snprintf(id, sizeof(id), "%lld", (long long)task_id);
    return db_run(db, &st_requester, p, err);
}

int review_comments_take(struct db *db, int limit, int lease_s, json_t **out, struct err *err)
{
    char l[16], s[16];
    const char *p[2] = {l, s};
    PGresult *r;

    *out = NULL;
    snprintf(l, sizeof(l), "%d", limit);
    snprintf(s, sizeof(s), "%d", lease_s);
    r = db_exec(db, &st_comments_take, p, err);
    if (!r)
        return -1;
    *out = queue_parse(PQgetvalue(r, 0, 0), err);
    PQclear(r);
    return *out ? 0 : -1;
}

int review_comment_settle(struct db *db, int64_t id, bool posted, bool dead, int retry_s,
                          const char *error, struct err *err)
{
    char i[24], r[16];
    const char *p[5] = {i, posted ? "true" : "false", dead ? "true" : "false", r, error};

    snprintf(i, sizeof(i), "%lld", (long long)id);
    snprintf(r, sizeof(r), "%d", retry_s);
    return db_run(db, &st_comment_settle, p, err);
}

static const struct db_stmt st_note = {
    "review_note",
    "INSERT INTO activity (task_id, kind, level, message, metadata)"
    " VALUES ($1, 'system', 'warning', left($2, 2000), $3::jsonb)",
    3};

int review_note(struct db *db, int64_t task_id, const char *message, const json_t *metadata,
                struct err *err)
{
    char id[24], *meta = metadata ? json_dumps(metadata, JSON_COMPACT) : NULL;
    const char *p[3] = {id, message, meta ? meta : "{}"};
    int rc;

    snprintf(id, sizeof(id), "%lld", (long long)task_id);
    rc = db_run(db, &st_note, p, err);
    free(meta);
    return rc;
}
