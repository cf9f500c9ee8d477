/* The event feed over activity and agent heartbeats. Worker threads only. */
#include "store/events.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct db_stmt st_head = {
    "events_head",
    "SELECT coalesce((SELECT max(id) FROM activity), 0) AS a,"
    " coalesce((SELECT (extract(epoch FROM max(last_heartbeat_at)) * 1000000)::bigint"
    "  FROM agents), 0) AS h, coalesce((SELECT max(id) FROM scale_events), 0) AS s",
    0};

static const struct db_stmt st_activity = {
    "events_activity",
    "SELECT id, CASE WHEN kind = 'state' THEN 'task' WHEN kind = 'log' THEN 'log'"
    "  WHEN metadata->>'type' = 'scale' THEN 'scale' ELSE 'system' END AS event,"
    " jsonb_build_object('id', id, 'task_id', task_id, 'agent_id', agent_id, 'ts', ts,"
    "  'kind', kind, 'level', level, 'message', message, 'metadata', metadata,"
    "  'state', (SELECT state FROM tasks t WHERE t.id = a.task_id))::text AS data"
    " FROM activity a WHERE id > $1 ORDER BY id LIMIT $2",
    2};

/* Microseconds (timestamptz's own resolution, compared as exact integers), so a beat is
 * emitted once and never skipped. */
static const struct db_stmt st_beats = {
    "events_beats",
    "SELECT (extract(epoch FROM last_heartbeat_at) * 1000000)::bigint AS us,"
    " jsonb_build_object('agent_id', id, 'status', status, 'last_heartbeat_at',"
    "  last_heartbeat_at, 'pod_name', pod_name, 'current_task', (SELECT min(t.id) FROM tasks t"
    "  WHERE t.agent_id = a.id AND t.state = 'in_progress'))::text AS data"
    " FROM agents a WHERE (extract(epoch FROM last_heartbeat_at) * 1000000)::bigint > $1"
    " ORDER BY last_heartbeat_at, id LIMIT $2",
    2};

/* The autoscaler's decisions (pool/, migration 003). */
static const struct db_stmt st_scale = {
    "events_scale",
    "SELECT id, jsonb_build_object('id', id, 'ts', ts, 'replica', replica, 'trigger', trigger,"
    " 'raw', raw, 'target', target, 'current', current, 'creates', creates, 'deletes', deletes,"
    " 'breaker_open', breaker_open, 'reason', reason)::text AS data"
    " FROM scale_events WHERE id > $1 ORDER BY id LIMIT $2",
    2};

static const struct db_stmt st_task_logs = {
    "events_task_logs",
    "SELECT id, jsonb_build_object('id', id, 'ts', ts, 'kind', kind, 'level', level,"
    " 'message', message, 'metadata', metadata, 'agent_id', agent_id)::text AS data"
    " FROM activity WHERE task_id = $1 AND id > $2 ORDER BY id LIMIT $3",
    3};

/* Every activity row, or a task's, after an id (GET /api/stream/activity). */
static const struct db_stmt st_activity_after = {
    "events_activity_after",
    "SELECT coalesce(json_agg(json_build_object('id', a.id, 'event', a.kind, 'data',"
    "  json_build_object('id', a.id, 'task_id', a.task_id, 'agent_id', a.agent_id, 'ts', a.ts,"
    "   'kind', a.kind, 'level', a.level, 'message', a.message, 'metadata', a.metadata))"
    "  ORDER BY a.id), '[]')::text AS events, max(a.id) AS last"
    " FROM (SELECT * FROM activity WHERE id > $1::bigint"
    "  AND ($2::bigint IS NULL OR task_id = $2::bigint) ORDER BY id LIMIT 500) a",
    2};

/* "a.h" (before scale events were part of the feed) or "a.h.s". */
static int events_parse_cursor(const char *c, long long *a, long long *h, long long *s)
{
    char *end;

    *s = 0;
    *a = strtoll(c, &end, 10);
    if (end == c || *end != '.' || *a < 0)
        return -1;
    c = end + 1;
    *h = strtoll(c, &end, 10);
    if (end == c || *h < 0 || (*end && *end != '.'))
        return -1;
    if (!*end)
        return 0;
    c = end + 1;
    *s = strtoll(c, &end, 10);
    if (end == c || *end || *s < 0)
        return -1;
    return 0;
}

static void events_add(json_t *arr, const char *id, const char *event, const char *data)
{
    json_error_t je;
    json_t *d = json_loads(data, 0, &je);

    json_array_append_new(
        arr, json_pack("{s:s,s:s,s:o}", "id", id, "event", event, "data", d ? d : json_null()));
}

/* The feed's sources in cursor order ("a.h.s"), each read after its own part of the cursor. */
static const struct {
    const struct db_stmt *st;
    const char *pos;   /* the column that is this source's part of the cursor */
    const char *event; /* the event's name; NULL: the row's own "event" column */
} events_feeds[3] = {
    {&st_activity, "id", NULL}, {&st_beats, "us", "heartbeat"}, {&st_scale, "id", "scale"}};

int events_poll(struct db *db, const char *cursor, int limit, json_t **events,
                char next[EVENTS_CURSOR_MAX], struct err *err)
{
    char lim[16], id[EVENTS_CURSOR_MAX];
    long long c[3];
    PGresult *r = NULL;
    int rc = -1;

    *events = json_array();
    snprintf(lim, sizeof(lim), "%d", limit > 0 && limit <= 1000 ? limit : 200);
    if (!cursor || !*cursor) {
        r = db_exec(db, &st_head, NULL, err);
        if (!r)
            goto out;
        snprintf(next, EVENTS_CURSOR_MAX, "%lld.%lld", db_get_ll(r, 0, "a"), db_get_ll(r, 0, "h"));
        rc = 0;
        goto out;
    }
    if (strlen(cursor) >= EVENTS_CURSOR_MAX ||
        events_parse_cursor(cursor, &c[0], &c[1], &c[2]) < 0) {
        err_set(err, ERR_INVALID,
                "event cursor '%.48s' is malformed: pass back an id this stream sent", cursor);
        goto out;
    }
    for (size_t f = 0; f < sizeof(events_feeds) / sizeof(events_feeds[0]); f++) {
        char after[24];
        const char *params[2] = {after, lim};

        snprintf(after, sizeof(after), "%lld", c[f]);
        PQclear(r);
        r = db_exec(db, events_feeds[f].st, params, err);
        if (!r)
            goto out;
        for (int i = 0; i < PQntuples(r); i++) {
            c[f] = db_get_ll(r, i, events_feeds[f].pos);
            snprintf(id, sizeof(id), "%lld.%lld.%lld", c[0], c[1], c[2]);
            events_add(*events, id,
                       events_feeds[f].event ? events_feeds[f].event : db_get(r, i, "event"),
                       db_get(r, i, "data"));
        }
    }
    snprintf(next, EVENTS_CURSOR_MAX, "%lld.%lld.%lld", c[0], c[1], c[2]);
    rc = 0;
out:
    PQclear(r);
    if (rc < 0) {
        json_decref(*events);
        *events = NULL;
    }
    return rc;
}

int events_task_logs(struct db *db, long long task_id, long long after, int limit, json_t **events,
                     long long *last, struct err *err)
{
    char t[24], a[24], lim[16], id[24];
    const char *params[3] = {t, a, lim};
    PGresult *r;

    *events = NULL;
    *last = after;
    snprintf(t, sizeof(t), "%lld", task_id);
    snprintf(a, sizeof(a), "%lld", after > 0 ? after : 0);
    snprintf(lim, sizeof(lim), "%d", limit > 0 && limit <= 1000 ? limit : 200);
    r = db_exec(db, &st_task_logs, params, err);
    if (!r)
        return -1;
    *events = json_array();
    for (int i = 0; i < PQntuples(r); i++) {
        *last = db_get_ll(r, i, "id");
        snprintf(id, sizeof(id), "%lld", *last);
        events_add(*events, id, "log", db_get(r, i, "data"));
    }
    PQclear(r);
    return 0;
}

int events_activity(struct db *db, long long task_id, long long *after, json_t **events,
                    struct err *err)
{
    char a[24], t[24];
    const char *p[2] = {a, task_id > 0 ? t : NULL};
    PGresult *r;

    *events = NULL;
    snprintf(a, sizeof(a), "%lld", *after);
    snprintf(t, sizeof(t), "%lld", task_id);
    r = db_exec(db, &st_activity_after, p, err);
    if (!r)
        return -1;
    *events = json_loads(db_get(r, 0, "events"), 0, NULL);
    if (db_get(r, 0, "last"))
        *after = db_get_ll(r, 0, "last");
    PQclear(r);
    if (!*events)
        return err_set(err, ERR_INTERNAL, "activity rows did not serialise");
    return 0;
}
