/*
 * The event feed behind GET /api/events (and the dashboard): task transitions, log lines and
 * system notes (scale decisions among them) from `activity`, plus agent heartbeats from
 * `agents.last_heartbeat_at`. No table of its own: a cursor "<activity id>.<heartbeat ms>"
 * says how far a reader got in both, and is what SSE sends as each event's id, so a reconnect
 * with Last-Event-ID resumes exactly. Blocking; worker threads only.
 */
#ifndef DROVER_STORE_EVENTS_H
#define DROVER_STORE_EVENTS_H

#include <jansson.h>

#include "core/err.h"
#include "store/db.h"

#define EVENTS_CURSOR_MAX 64

/*
 * Events after `cursor` (NULL or "" = from now: only the cursor is returned, no history;
 * "0.0" = from the beginning), oldest first, at most `limit` of each kind. *events = array of
 * {id, event, data} (event: "task" | "log" | "system" | "scale" | "heartbeat"); `next`
 * receives the cursor after the last one (the input cursor when nothing is new).
 * ERR_INVALID for a malformed cursor.
 */
int events_poll(struct db *db, const char *cursor, int limit, json_t **events,
                char next[EVENTS_CURSOR_MAX], struct err *err);

/* Log lines of one task after activity id `after` as {id, event: "log", data}. */
int events_task_logs(struct db *db, long long task_id, long long after, int limit, json_t **events,
                     long long *last, struct err *err);

/*
 * Up to 500 activity rows with id > *after (of task `task_id`, or all when 0), oldest first, as
 * events {id, event: kind, data: {id, task_id, agent_id, ts, kind, level, message, metadata}};
 * *after advances to the last one.
 */
int events_activity(struct db *db, long long task_id, long long *after, json_t **events,
                    struct err *err);

#endif
