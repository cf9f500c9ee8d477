/* Notification endpoints and the outbox. Worker threads and the outbox thread. */
#include "store/outbox.h"
#include "store/queue_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An endpoint as the API shows it: the URL's path and query cut (a Slack-style incoming webhook
 * URL is itself the secret; operators may list endpoints), and credentials in its authority
 * (https://user:password@host) masked, so that only the origin's host and port show. */
#define OUTBOX_EP_JSON(e)                                                                          \
    "(to_jsonb(" e ") - 'url' || jsonb_build_object('url', regexp_replace(CASE WHEN " e ".url ~"   \
    " '^https?://[^/?#]+[/?#].' THEN substring(" e ".url FROM '^https?://[^/?#]+') || '/...'"      \
    " ELSE " e ".url END, '^(https?://)[^/?#]*@', '\\1***@')))"

static const struct db_stmt st_ep_create = {
    "outbox_ep_create",
    "INSERT INTO notify_endpoints (name, url, format, events, project_id, created_by)"
    " VALUES ($1, $2, coalesce($3, 'generic'),"
    "  coalesce((SELECT array_agg(x) FROM jsonb_array_elements_text($4::jsonb) x),"
    "  '{needs_input,ready_to_test,failed,completed,budget,approval}'), nullif($5, '0')::bigint,"
    "  $6)"
    " RETURNING " OUTBOX_EP_JSON("notify_endpoints") "::text",
    6};

static const struct db_stmt st_ep_list = {
    "outbox_ep_list",
    "SELECT coalesce(jsonb_agg(" OUTBOX_EP_JSON("e") " ORDER BY id), '[]')::text"
                                                     " FROM notify_endpoints e",
    0};

static const struct db_stmt st_ep_delete = {
    "outbox_ep_delete", "DELETE FROM notify_endpoints WHERE id = $1 RETURNING id", 1};

static const struct db_stmt st_take = {
    "outbox_take",
    "WITH due AS (SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= now()"
    "  ORDER BY next_attempt_at, id FOR UPDATE SKIP LOCKED LIMIT $1),"
    " u AS (UPDATE outbox o SET attempts = o.attempts + 1,"
    "  next_attempt_at = now() + make_interval(secs => $2) FROM due WHERE o.id = due.id"
    "  RETURNING o.*)"
    " SELECT coalesce(jsonb_agg(jsonb_build_object('id', u.id, 'endpoint', e.name, 'url', e.url,"
    " 'format', e.format, 'event', u.event, 'payload', u.payload, 'attempts', u.attempts,"
    " 'task_id', u.task_id) ORDER BY u.id), '[]')::text"
    " FROM u JOIN notify_endpoints e ON e.id = u.endpoint_id",
    2};

static const struct db_stmt st_settle = {
    "outbox_settle",
    "UPDATE outbox SET state = CASE WHEN $2 THEN 'delivered' WHEN $3 THEN 'dead'"
    "  ELSE 'pending' END,"
    " delivered_at = CASE WHEN $2 THEN now() END,"
    " next_attempt_at = CASE WHEN $2 OR $3 THEN next_attempt_at"
    "  ELSE now() + make_interval(secs => $4) END,"
    " last_status = nullif($5, '0')::integer, last_error = left($6, 1000) WHERE id = $1",
    6};

static const struct db_stmt st_history = {
    "outbox_history",
    "SELECT coalesce(jsonb_agg(jsonb_build_object('id', o.id, 'endpoint', e.name, 'event',"
    " o.event, 'task_id', o.task_id, 'state', o.state, 'attempts', o.attempts,"
    " 'next_attempt_at', o.next_attempt_at, 'last_status', o.last_status, 'last_error',"
    " o.last_error, 'created_at', o.created_at, 'delivered_at', o.delivered_at)"
    " ORDER BY o.id DESC), '[]')::text FROM (SELECT * FROM outbox WHERE $1::bigint = 0"
    " OR task_id = $1::bigint ORDER BY id DESC LIMIT $2) o"
    " JOIN notify_endpoints e ON e.id = o.endpoint_id",
    2};

/* One row, one JSON text column, parsed. */
static int outbox_one(struct db *db, const struct db_stmt *st, const char *const *p, json_t **out,
                      struct err *err)
{
    PGresult *r = db_exec(db, st, p, err);

    *out = NULL;
    if (!r)
        return -1;
    *out = queue_parse(PQgetvalue(r, 0, 0), err);
    PQclear(r);
    return *out ? 0 : -1;
}

int outbox_endpoint_create(struct db *db, const char *name, const char *url, const char *format,
                           const json_t *events, int64_t project_id, const char *by, json_t **out,
                           struct err *err)
{
    char pid[24], *ev = events ? json_dumps(events, JSON_COMPACT) : NULL;
    const char *p[6] = {name, url, format, ev, pid, by};
    int rc;

    snprintf(pid, sizeof(pid), "%lld", (long long)project_id);
    rc = outbox_one(db, &st_ep_create, p, out, err);
    if (rc < 0 && !*out && strcmp(db_last_sqlstate(), "23505") == 0)
        err_set(err, ERR_CONFLICT, "a notification endpoint named '%.100s' exists already", name);
    free(ev);
    return rc;
}

int outbox_endpoint_list(struct db *db, json_t **out, struct err *err)
{
    return outbox_one(db, &st_ep_list, NULL, out, err);
}

int outbox_endpoint_delete(struct db *db, int64_t id, struct err *err)
{
    char s[24];
    const char *p[1] = {s};

    snprintf(s, sizeof(s), "%lld", (long long)id);
    return db_run_found(db, &st_ep_delete, p, err, "notification endpoint %lld does not exist",
                        (long long)id);
}

int outbox_take(struct db *db, int limit, int lease_s, json_t **out, struct err *err)
{
    char l[16], s[16];
    const char *p[2] = {l, s};

    snprintf(l, sizeof(l), "%d", limit);
    snprintf(s, sizeof(s), "%d", lease_s);
    return outbox_one(db, &st_take, p, out, err);
}

int outbox_settle(struct db *db, int64_t id, bool delivered, bool dead, int retry_s, long status,
                  const char *error, struct err *err)
{
    char i[24], r[16], st[16];
    const char *p[6] = {i, delivered ? "true" : "false", dead ? "true" : "false", r, st, error};
    PGresult *res;

    snprintf(i, sizeof(i), "%lld", (long long)id);
    snprintf(r, sizeof(r), "%d", retry_s);
    snprintf(st, sizeof(st), "%ld", status);
    res = db_exec(db, &st_settle, p, err);
    if (!res)
        return -1;
    PQclear(res);
    return 0;
}

int outbox_history(struct db *db, int64_t task_id, int limit, json_t **out, struct err *err)
{
    char t[24], l[16];
    const char *p[2] = {t, l};

    snprintf(t, sizeof(t), "%lld", (long long)task_id);
    snprintf(l, sizeof(l), "%d", limit);
    return outbox_one(db, &st_history, p, out, err);
}
