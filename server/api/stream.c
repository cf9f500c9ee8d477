/*
 * GET /api/stream/activity[?task_id=N][&after=ID]: every activity row (state changes, log
 * lines, system notes) as server-sent events, `id:` = the activity id, so Last-Event-ID
 * resumes exactly. The reference user of the transport's SSE facility (api.h). Worker threads.
 */
#include "api/stream.h"
#include "api/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct db_stmt st_after = {
    "stream_activity_after",
    "SELECT coalesce(json_agg(json_build_object('id', a.id, 'event', a.kind, 'data',"
    "  json_build_object('id', a.id, 'task_id', a.task_id, 'agent_id', a.agent_id, 'ts', a.ts,"
    "   'kind', a.kind, 'level', a.level, 'message', a.message, 'metadata', a.metadata))"
    "  ORDER BY a.id), '[]')::text AS events, max(a.id) AS last"
    " FROM (SELECT * FROM activity WHERE id > $1::bigint"
    "  AND ($2::bigint IS NULL OR task_id = $2::bigint) ORDER BY id LIMIT 500) a",
    2};

int stream_activity_fetch(struct db *db, const char *arg, char cursor[API_STREAM_CURSOR_MAX],
                          json_t **events, struct err *err)
{
    const char *p[2] = {cursor, *arg ? arg : NULL};
    PGresult *r = db_exec(db, &st_after, p, err);

    *events = NULL;
    if (!r)
        return -1;
    *events = json_loads(db_get(r, 0, "events"), 0, NULL);
    if (db_get(r, 0, "last"))
        snprintf(cursor, API_STREAM_CURSOR_MAX, "%s", db_get(r, 0, "last"));
    PQclear(r);
    if (!*events)
        return err_set(err, ERR_INTERNAL, "activity rows did not serialise");
    return 0;
}

/* The value of `key` in a query string (digits only), or "" when absent. -1 when malformed. */
static int stream_query_id(const char *q, const char *key, char *out, size_t outsz)
{
    size_t kl = strlen(key);

    out[0] = '\0';
    for (const char *s = q; s && *s; s = strchr(s, '&') ? strchr(s, '&') + 1 : NULL) {
        if (strncmp(s, key, kl) == 0 && s[kl] == '=') {
            size_t n = strspn(s + kl + 1, "0123456789");
            if (n == 0 || n >= outsz || n > 18 || (s[kl + 1 + n] && s[kl + 1 + n] != '&'))
                return -1;
            memcpy(out, s + kl + 1, n);
            out[n] = '\0';
        }
    }
    return 0;
}

static int stream_activity(const struct api_request *req, const char *const *params, size_t nparams,
                           struct api_response *resp)
{
    char task[24], after[24];
    const char *lei = req->last_event_id;

    (void)params;
    (void)nparams;
    if (stream_query_id(req->query, "task_id", task, sizeof(task)) < 0 ||
        stream_query_id(req->query, "after", after, sizeof(after)) < 0) {
        router_error(resp, 400, "invalid_argument", "task_id and after must be integers");
        return 0;
    }
    if (lei && *lei) {
        if (strspn(lei, "0123456789") != strlen(lei) || strlen(lei) > 18) {
            router_error(resp, 400, "invalid_argument", "Last-Event-ID must be an activity id");
            return 0;
        }
        snprintf(after, sizeof(after), "%s", lei);
    }
    resp->status = 200;
    resp->stream.fetch = stream_activity_fetch;
    snprintf(resp->stream.arg, sizeof(resp->stream.arg), "%s", task);
    snprintf(resp->stream.cursor, sizeof(resp->stream.cursor), "%s", *after ? after : "0");
    return 0;
}

const struct api_route stream_routes[] = {
    {"GET", "/api/stream/activity", TOKENS_SCOPE_OPERATOR, stream_activity},
    {NULL, NULL, TOKENS_SCOPE_NONE, NULL},
};
