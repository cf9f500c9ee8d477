/*
 * What the queue's files (queue.c, queue_move.c, and review.c's people's moves) share and
 * nothing outside store/ uses. SQL text and small checks; the threads of their callers.
 */
#ifndef DROVER_STORE_QUEUE_INT_H
#define DROVER_STORE_QUEUE_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "store/db.h"

/* Recompute an agent's status from what it holds; draining and offline stay as they are. */
#define QUEUE_AGENT_SETTLE(ids, excluding)                                                         \
    "UPDATE agents a SET status = CASE WHEN EXISTS (SELECT 1 FROM tasks x WHERE"                   \
    " x.agent_id = a.id AND x.state = 'in_progress' AND x.id NOT IN (" excluding "))"              \
    " THEN 'busy' ELSE 'idle' END, updated_at = now()"                                             \
    " WHERE a.id IN (" ids ") AND a.status IN ('idle', 'busy', 'initializing')"

/* A caller-supplied string: valid UTF-8 and at most `max` characters (ERR_TOO_LARGE beyond). */
int queue_check_text(const char *field, const char *s, size_t max, bool required, struct err *err);
/* An agent id: a UUID. */
int queue_check_agent(const char *agent_id, struct err *err);
/* The JSON text of a row, parsed (owned), or NULL with ERR_INTERNAL. */
json_t *queue_parse(const char *text, struct err *err);

/*
 * A person's (or a forge's) move of a task: to `to`, only from `from` when set, checked against
 * the model's lifecycle under the row lock; `why` becomes the activity message's tail and the
 * task's last_error; `context` (an array) is appended to the task's context; `reset` gives a
 * fresh attempt budget. `actor` is recorded as "by". own_tx false: the caller's transaction.
 */
struct queue_person_move {
    const char *to, *from, *why;
    const json_t *context;
    bool reset;
};
int queue_move_person(struct db *db, bool own_tx, int64_t task_id, const char *actor,
                      const struct queue_person_move *m, json_t **task, struct err *err);

/*
 * Move each task whose id is column 0 of a row of `ids` (locked by the caller) by `m`, in the
 * caller's transaction: a group's children or a fan-out child's siblings.
 */
int queue_move_each(struct db *db, const PGresult *ids, const char *actor,
                    const struct queue_person_move *m, struct err *err);

/*
 * End the transaction of a move that returned *task: commit when rc is 0; otherwise, or when
 * the commit fails, roll back and drop *task. Returns 0 or -1.
 */
int queue_move_finish(struct db *db, int rc, json_t **task, struct err *err);

#endif
