/*
 * Task transitions: people's (cancel, answer, accept, retry; the lease holder's
 * update_task_status is one statement of its own, queue_update.c), each checked against the model's
 * lifecycle (core/model.h) under the task's row lock, with its activity row, in one transaction;
 * and the same for a fan-out group as a whole. Worker threads only.
 */
#include "core/mem.h"
#include "store/queue.h"
#include "store/queue_int.h"
#include "store/taskjson.h"

/* The JSON every caller sees for a task `t` joined with its project `p`. */
#define TASK_JSON TASKJSON_SQL "::text"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct db_stmt st_lock_task = {
    "queue_lock_task",
    "SELECT state, agent_id, lease_epoch, attempt, max_attempts,"
    " lease_expires_at IS NOT NULL AND lease_expires_at <= now() AS expired"
    " FROM tasks WHERE id = $1 FOR UPDATE",
    1};

static const struct db_stmt st_set_state = {
    "queue_set_state",
    "WITH u AS (UPDATE tasks t SET state = $2, updated_at = now(),"
    "  lease_expires_at = CASE WHEN $2 = 'in_progress' THEN t.lease_expires_at END,"
    "  finished_at = CASE WHEN $2 IN ('completed', 'failed', 'cancelled') AND"
    "   t.state = 'ready_to_test' THEN coalesce(t.finished_at, now())"
    "   WHEN $2 IN ('completed', 'failed', 'cancelled', 'ready_to_test') THEN now() END,"
    "  last_error = coalesce($3, t.last_error),"
    "  question = CASE WHEN $2 = 'needs_input' THEN $4 ELSE t.question END,"
    "  reason = CASE WHEN $2 = 'needs_input' THEN coalesce($5, 'question') ELSE NULL END,"
    "  result = coalesce($6::jsonb, t.result),"
    "  run_after = CASE WHEN $2 = 'backlog' THEN now() + make_interval(secs => $7)"
    "   ELSE t.run_after END,"
    /* An answer carries the question it answers, so the next prompt can show both. */
    "  context = CASE WHEN $8::jsonb IS NULL THEN t.context ELSE t.context || (SELECT"
    "   jsonb_agg(CASE WHEN e->>'type' = 'answer' AND t.question IS NOT NULL"
    "   AND NOT e ? 'question' THEN e || jsonb_build_object('question', t.question) ELSE e END)"
    "   FROM jsonb_array_elements($8::jsonb) e) END,"
    /* A question answered is not a failed attempt: the attempt that asked is given back. */
    "  attempt = CASE WHEN $9 THEN 0 WHEN t.state = 'needs_input' AND $2 = 'backlog'"
    "   AND t.reason = 'question' THEN greatest(t.attempt - 1, 0) ELSE t.attempt END"
    "  WHERE t.id = $1 RETURNING t.*)"
    " SELECT " TASK_JSON " AS task FROM u t LEFT JOIN projects p ON p.id = t.project_id",
    9};

static const struct db_stmt st_activity = {
    "queue_activity",
    "INSERT INTO activity (task_id, agent_id, kind, level, message, metadata)"
    " VALUES ($1, $2, $3, $4, $5, $6::jsonb)",
    6};

static const struct db_stmt st_settle_agent = {
    "queue_settle_agent", QUEUE_AGENT_SETTLE("$1::uuid", "SELECT NULL::bigint WHERE false"), 1};

static int queue_write_activity(struct db *db, int64_t task_id, const char *agent_id,
                                const char *level, const char *message, json_t *meta,
                                struct err *err)
{
    char id[24];
    char *meta_s = meta ? json_dumps(meta, JSON_COMPACT) : NULL;
    const char *params[6] = {id, agent_id, "state", level, message, meta_s};
    PGresult *r;

    snprintf(id, sizeof(id), "%lld", (long long)task_id);
    r = db_exec(db, &st_activity, params, err);
    free(meta_s);
    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

/* Everything one transition needs to write, besides the target state. */
struct queue_change {
    const char *error, *question, *reason;
    const json_t *result;
    int delay_seconds;
    const json_t *context_add; /* array appended to context */
    bool reset_attempts;
};

/*
 * Lock the task, let `check` decide, write the new state and its activity row, settle the
 * agent. Runs in one transaction; any refusal rolls back and changes nothing.
 */
struct queue_locked {
    char state[32];
    char agent[40];
    long long epoch;
    int attempt, max_attempts;
    bool expired;
};

typedef int (*queue_check_fn)(const struct queue_locked *l, const void *arg, const char **to,
                              struct queue_change *ch, struct err *err);

/*
 * `own_tx`: begin and commit (roll back on refusal) here; false: the caller's transaction is
 * open and the caller commits or rolls back (a group moved as a whole).
 */
static int queue_transition(struct db *db, bool own_tx, int64_t task_id, const char *actor_agent,
                            const char *actor, queue_check_fn check, const void *arg, json_t **task,
                            struct err *err)
{
    char id[24], delay[16];
    const char *p1[1] = {id};
    const char *to = NULL;
    struct queue_locked l;
    struct queue_change ch;
    char *result_s = NULL, *ctx_s = NULL, *msg = NULL;
    PGresult *r = NULL;
    json_t *meta = NULL;
    int rc = -1;

    *task = NULL;
    memset(&ch, 0, sizeof(ch));
    memset(&l, 0, sizeof(l));
    snprintf(id, sizeof(id), "%lld", (long long)task_id);
    if (task_id <= 0)
        return err_set(err, ERR_INVALID, "task id must be a positive integer");
    if (own_tx && db_begin(db, err) < 0)
        return -1;
    r = db_exec_found(db, &st_lock_task, p1, err, "task %lld does not exist", (long long)task_id);
    if (!r)
        goto out;
    snprintf(l.state, sizeof(l.state), "%s", db_get(r, 0, "state"));
    snprintf(l.agent, sizeof(l.agent), "%s",
             db_get(r, 0, "agent_id") ? db_get(r, 0, "agent_id") : "");
    l.epoch = db_get_ll(r, 0, "lease_epoch");
    l.attempt = (int)db_get_ll(r, 0, "attempt");
    l.max_attempts = (int)db_get_ll(r, 0, "max_attempts");
    l.expired = strcmp(db_get(r, 0, "expired"), "t") == 0;
    PQclear(r);
    r = NULL;
    if (check(&l, arg, &to, &ch, err) < 0)
        goto out;
    if (!model_transition_allowed(l.state, to)) {
        err_set(err, ERR_CONFLICT, "task %lld is %s; %s -> %s is not allowed", (long long)task_id,
                l.state, l.state, to);
        goto out;
    }
    if (ch.result)
        result_s = json_dumps(ch.result, JSON_COMPACT);
    if (ch.context_add)
        ctx_s = json_dumps(ch.context_add, JSON_COMPACT);
    snprintf(delay, sizeof(delay), "%d", ch.delay_seconds);
    {
        const char *params[9] = {id,          to,        ch.error,
                                 ch.question, ch.reason, result_s,
                                 delay,       ctx_s,     ch.reset_attempts ? "true" : "false"};

        r = db_exec(db, &st_set_state, params, err);
    }
    if (!r)
        goto out;
    *task = queue_parse(db_get(r, 0, "task"), err);
    PQclear(r);
    r = NULL;
    if (!*task)
        goto out;
    meta = json_pack("{s:s,s:s,s:I,s:i}", "from", l.state, "to", to, "epoch", (json_int_t)l.epoch,
                     "attempt", l.attempt);
    if (actor)
        json_object_set_new(meta, "by", json_string(actor));
    if (ch.error)
        json_object_set_new(meta, "error", json_string(ch.error));
    if (ch.reason)
        json_object_set_new(meta, "reason", json_string(ch.reason));
    if (ch.delay_seconds)
        json_object_set_new(meta, "retry_in_seconds", json_integer(ch.delay_seconds));
    msg = mem_printf("%s -> %s%s%s", l.state, to, ch.error ? ": " : "", ch.error ? ch.error : "");
    if (strlen(msg) > 4000)
        msg[4000] = '\0';
    if (queue_write_activity(db, task_id, actor_agent ? actor_agent : (l.agent[0] ? l.agent : NULL),
                             strcmp(to, "failed") == 0 ? "error" : "info", msg, meta, err) < 0)
        goto out;
    if (l.agent[0] && strcmp(l.state, "in_progress") == 0) {
        const char *pa[1] = {l.agent};

        r = db_exec(db, &st_settle_agent, pa, err);
        if (!r)
            goto out;
        PQclear(r);
        r = NULL;
    }
    if (own_tx && db_commit(db, err) < 0)
        goto out;
    rc = 0;
out:
    if (rc < 0) {
        if (own_tx)
            db_rollback(db);
        json_decref(*task);
        *task = NULL;
    }
    PQclear(r);
    json_decref(meta);
    free(result_s);
    free(ctx_s);
    free(msg);
    return rc;
}

/* A person's move is data (struct queue_person_move); this is how queue_transition reads it. */
static int queue_check_admin(const struct queue_locked *l, const void *argp, const char **to,
                             struct queue_change *ch, struct err *err)
{
    const struct queue_person_move *a = argp;

    if (a->from && strcmp(l->state, a->from) != 0)
        return err_set(err, ERR_CONFLICT, "task is %s, not %s", l->state, a->from);
    *to = a->to;
    ch->error = a->why;
    ch->context_add = a->context;
    ch->reset_attempts = a->reset;
    return 0;
}

/* The open children of a fan-out group, locked: ids in creation order. */
static const struct db_stmt st_children_lock = {
    "queue_children_lock",
    "SELECT id FROM tasks WHERE parent_id = $1 AND state NOT IN ('completed', 'failed',"
    " 'cancelled') ORDER BY id FOR UPDATE",
    1};

int queue_cancel(struct db *db, int64_t task_id, const char *actor, const char *why, json_t **task,
                 struct err *err)
{
    struct queue_person_move a = {"cancelled", NULL, NULL, NULL, false};
    const struct queue_person_move child = {"cancelled", NULL, "its fan-out group was cancelled",
                                            NULL, false};
    char id[24], *msg = NULL;
    const char *p1[1] = {id};
    PGresult *r = NULL;
    int rc = -1;

    *task = NULL;
    if (queue_check_text("reason", why, 2000, false, err) < 0)
        return -1;
    msg = mem_printf("cancelled by %s%s%s", actor ? actor : "an admin", why ? ": " : "",
                     why ? why : "");
    a.why = msg;
    snprintf(id, sizeof(id), "%lld", (long long)task_id);
    /* A group and its open children end together, or nothing changes. The children are
     * locked before the group: a child's own transition locks the child, then (sql/022's
     * trigger) the group, so the same order here cannot deadlock against it. */
    if (db_begin(db, err) < 0)
        goto out;
    r = db_exec(db, &st_children_lock, p1, err);
    if (!r)
        goto out;
    if (queue_transition(db, false, task_id, NULL, actor, queue_check_admin, &a, task, err) < 0 ||
        queue_move_each(db, r, actor, &child, err) < 0)
        goto out;
    rc = 0;
out:
    rc = queue_move_finish(db, rc, task, err);
    PQclear(r);
    free(msg);
    return rc;
}

int queue_answer(struct db *db, int64_t task_id, const char *actor, const char *answer,
                 json_t **task, struct err *err)
{
    struct queue_person_move a = {"backlog", NULL, NULL, NULL, false};
    int rc;

    if (queue_check_text("answer", answer, MODEL_ANSWER_MAX, true, err) < 0)
        return -1;
    json_t *ctx = json_pack("[{s:s,s:s,s:s}]", "type", "answer", "text", answer, "by",
                            actor ? actor : "admin");

    a.context = ctx;
    rc = queue_transition(db, true, task_id, NULL, actor, queue_check_admin, &a, task, err);
    json_decref(ctx);
    return rc;
}

static const struct db_stmt st_is_group = {
    "queue_is_group", "SELECT is_group FROM tasks WHERE id = $1 FOR UPDATE", 1};

/* The children of a group that a retry puts back in the backlog, locked, in creation order. */
static const struct db_stmt st_children_retry = {
    "queue_children_retry",
    "SELECT id FROM tasks WHERE parent_id = $1 AND state IN ('failed', 'cancelled')"
    " ORDER BY id FOR UPDATE",
    1};

static const struct db_stmt st_group_reopen = {
    "queue_group_reopen",
    "WITH u AS (UPDATE tasks SET state = 'in_progress', run_after = now(), updated_at = now()"
    "  WHERE id = $1 AND is_group AND state = 'backlog' RETURNING id)"
    " INSERT INTO activity (task_id, kind, message, metadata)"
    " SELECT id, 'state', 'backlog -> in_progress: fan-out group retried, ' || $2 ||"
    "  ' children re-queued', jsonb_build_object('from', 'backlog', 'to', 'in_progress',"
    "  'requeued', $2::int) FROM u RETURNING task_id",
    2};

/*
 * Retry. A fan-out group is never claimed (it is its children), so retrying one re-opens the
 * group and puts its failed and cancelled children back in the backlog, all in one
 * transaction; before, the parent itself went to the backlog and an agent worked it as an
 * ordinary task while the children stayed cancelled.
 */
int queue_retry(struct db *db, int64_t task_id, const char *actor, json_t **task, struct err *err)
{
    const struct queue_person_move a = {"backlog", NULL, NULL, NULL, true};
    char id[24], n[16];
    const char *p1[1] = {id};
    PGresult *r = NULL, *kids = NULL;
    int rc = -1;

    *task = NULL;
    if (task_id <= 0)
        return err_set(err, ERR_INVALID, "task id must be a positive integer");
    snprintf(id, sizeof(id), "%lld", (long long)task_id);
    if (db_begin(db, err) < 0)
        return -1;
    r = db_exec_found(db, &st_is_group, p1, err, "task %lld does not exist", (long long)task_id);
    if (!r)
        goto out;
    if (queue_transition(db, false, task_id, NULL, actor, queue_check_admin, &a, task, err) < 0)
        goto out;
    if (strcmp(PQgetvalue(r, 0, 0), "t") == 0) {
        kids = db_exec(db, &st_children_retry, p1, err);
        if (!kids || queue_move_each(db, kids, actor, &a, err) < 0)
            goto out;
        snprintf(n, sizeof(n), "%d", PQntuples(kids));
        {
            const char *p2[2] = {id, n};

            PQclear(r);
            r = db_exec(db, &st_group_reopen, p2, err);
            if (!r)
                goto out;
        }
        json_decref(*task);
        *task = NULL;
        if (queue_get(db, task_id, task, err) < 0)
            goto out;
    }
    rc = 0;
out:
    rc = queue_move_finish(db, rc, task, err);
    PQclear(r);
    PQclear(kids);
    return rc;
}

int queue_move_person(struct db *db, bool own_tx, int64_t task_id, const char *actor,
                      const struct queue_person_move *m, json_t **task, struct err *err)
{
    if (queue_check_text("reason", m->why, 4000, false, err) < 0)
        return -1;
    return queue_transition(db, own_tx, task_id, NULL, actor, queue_check_admin, m, task, err);
}

int queue_move_each(struct db *db, const PGresult *ids, const char *actor,
                    const struct queue_person_move *m, struct err *err)
{
    if (queue_check_text("reason", m->why, 4000, false, err) < 0)
        return -1;
    for (int i = 0; i < PQntuples(ids); i++) {
        json_t *t = NULL;
        int rc = queue_transition(db, false, strtoll(PQgetvalue(ids, i, 0), NULL, 10), NULL, actor,
                                  queue_check_admin, m, &t, err);

        json_decref(t);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int queue_move_finish(struct db *db, int rc, json_t **task, struct err *err)
{
    if (rc == 0 && db_commit(db, err) == 0)
        return 0;
    db_rollback(db);
    json_decref(*task);
    *task = NULL;
    return -1;
}
