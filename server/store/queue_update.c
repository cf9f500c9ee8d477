/*
 * update_task_status in one statement: lock the task, check the lease, set the state, write
 * the activity row and settle the agent as one autocommit round trip (CTEs), where the general
 * transition (queue_move.c) takes six (BEGIN, lock, set, activity, settle, COMMIT). The lease
 * checks run in SQL against the locked row; when they refuse, the same statement returns the
 * row as locked so the refusal is explained exactly as before, and nothing was written.
 * Worker threads only.
 */
#include "core/mem.h"
#include "core/model.h"
#include "store/queue.h"
#include "store/queue_int.h"
#include "store/taskjson.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/*
 * $1 task, $2 agent, $3 epoch, $4 requested state, $5 error (failed only), $6 question and
 * $7 reason (needs_input only), $8 result, $9 no_retry, $10/$11 back-off base/max seconds.
 * `failed` with attempts left goes back to backlog after base * 2^(attempt-1) s, capped.
 * tests/bench/drover_2tx.sql runs this text; keep the two in step.
 */
static const struct db_stmt st_agent_move = {
    "queue_agent_move",
    "WITH l AS (SELECT id, state, agent_id, lease_epoch, attempt, max_attempts,"
    "  lease_expires_at IS NOT NULL AND lease_expires_at <= now() AS expired"
    "  FROM tasks WHERE id = $1 FOR UPDATE),"
    " ok AS (SELECT l.*, CASE WHEN r.retry THEN 'backlog' ELSE $4 END AS to_state,"
    "  CASE WHEN r.retry THEN least($11::bigint, $10::bigint * power(2, least(greatest("
    "   l.attempt - 1, 0), 40))::bigint) ELSE 0 END AS delay"
    "  FROM l, LATERAL (SELECT $4 = 'failed' AND NOT $9::bool AND l.attempt < l.max_attempts"
    "   AS retry) r"
    "  WHERE l.state = 'in_progress' AND l.agent_id = $2::uuid AND l.lease_epoch = $3::bigint"
    "  AND NOT l.expired),"
    " u AS (UPDATE tasks t SET state = ok.to_state, updated_at = now(), lease_expires_at = NULL,"
    "  finished_at = CASE WHEN ok.to_state IN ('completed', 'failed', 'cancelled') THEN now() END,"
    "  last_error = coalesce($5, t.last_error),"
    "  question = CASE WHEN ok.to_state = 'needs_input' THEN $6 ELSE t.question END,"
    "  reason = CASE WHEN ok.to_state = 'needs_input' THEN coalesce($7, 'question') END,"
    "  result = coalesce($8::jsonb, t.result),"
    "  run_after = CASE WHEN ok.to_state = 'backlog'"
    "   THEN now() + make_interval(secs => ok.delay) ELSE t.run_after END"
    "  FROM ok WHERE t.id = ok.id"
    "  RETURNING t.*, ok.state AS from_state, ok.to_state, ok.delay, ok.lease_epoch AS old_epoch,"
    "   ok.attempt AS old_attempt),"
    " act AS (INSERT INTO activity (task_id, agent_id, kind, level, message, metadata)"
    "  SELECT u.id, $2::uuid, 'state', CASE WHEN u.to_state = 'failed' THEN 'error' ELSE 'info' "
    "END,"
    "   left(u.from_state || ' -> ' || u.to_state || coalesce(': ' || $5, ''), 4000),"
    "   jsonb_build_object('from', u.from_state, 'to', u.to_state, 'epoch', u.old_epoch,"
    "    'attempt', u.old_attempt)"
    "   || CASE WHEN $5 IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('error', $5) END"
    "   || CASE WHEN u.to_state = 'needs_input' THEN jsonb_build_object('reason',"
    "    coalesce($7, 'question')) ELSE '{}'::jsonb END"
    "   || CASE WHEN u.delay > 0 THEN jsonb_build_object('retry_in_seconds', u.delay)"
    "    ELSE '{}'::jsonb END FROM u),"
    " settle AS (" QUEUE_AGENT_SETTLE(
        "SELECT agent_id FROM u",
        "SELECT id FROM u") ")"
                            " SELECT l.state, l.agent_id, l.lease_epoch, l.expired,"
                            "  (SELECT " TASKJSON_SQL
                            "::text FROM u t LEFT JOIN projects p ON p.id = t.project_id)"
                            "  AS task FROM l",
    11};

/* Why the lease checks refused, from the row as it was locked: as queue_move.c words it. */
static int queue_update_refusal(PGresult *r, const char *agent_id, int64_t epoch, struct err *err)
{
    const char *agent = db_get(r, 0, "agent_id"), *state = db_get(r, 0, "state");
    long long cur = db_get_ll(r, 0, "lease_epoch");

    if (!agent || strcasecmp(agent, agent_id) != 0)
        return err_set(err, ERR_FORBIDDEN, "task is not leased to agent %s", agent_id);
    if (epoch != cur)
        return err_set(err, ERR_STALE_EPOCH,
                       "lease epoch %lld is stale (current %lld): the lease was lost",
                       (long long)epoch, cur);
    if (strcmp(state, "in_progress") != 0)
        return err_set(err, ERR_CONFLICT,
                       "task is %s, not in_progress: the lease is no longer held", state);
    if (strcmp(db_get(r, 0, "expired"), "t") == 0)
        return err_set(err, ERR_STALE_EPOCH, "the lease expired before this update arrived");
    return err_set(err, ERR_INTERNAL, "the task was not updated");
}

int queue_update_status(struct db *db, const struct queue_opts *o, const char *agent_id,
                        int64_t task_id, int64_t epoch, const char *to,
                        const struct model_outcome *oc, json_t **task, struct err *err)
{
    char id[24], ep[24], base[24], max[24];
    const char *error = NULL, *question = NULL, *reason = NULL;
    char *result_s = NULL;
    PGresult *r = NULL;
    int rc = -1;

    *task = NULL;
    if (queue_check_agent(agent_id, err) < 0)
        return -1;
    if (!model_state_valid(to))
        return err_set(
            err, ERR_INVALID,
            "unknown state '%.40s' (use ready_to_test, needs_input, completed or failed)",
            to ? to : "");
    if (oc && (queue_check_text("error", oc->error, MODEL_ERROR_MAX, false, err) < 0 ||
               queue_check_text("question", oc->question, MODEL_QUESTION_MAX, false, err) < 0 ||
               queue_check_text("reason", oc->reason, 50, false, err) < 0))
        return -1;
    if (oc && oc->result && !json_is_object(oc->result))
        return err_set(err, ERR_INVALID, "result must be an object");
    if (task_id <= 0)
        return err_set(err, ERR_INVALID, "task id must be a positive integer");
    if (strcmp(to, "in_progress") == 0 || strcmp(to, "backlog") == 0 ||
        strcmp(to, "cancelled") == 0 || !model_transition_allowed("in_progress", to) ||
        (strcmp(to, "failed") == 0 && !model_transition_allowed("in_progress", "backlog")))
        return err_set(err, ERR_CONFLICT, "an agent may not move its task to %s", to);
    if (strcmp(to, "failed") == 0) {
        error = oc && oc->error ? oc->error : "failed without an error message";
    } else if (strcmp(to, "needs_input") == 0) {
        question = oc ? oc->question : NULL;
        reason = oc && oc->reason ? oc->reason : "question";
        if (!question && strcmp(reason, "question") == 0)
            return err_set(err, ERR_INVALID, "needs_input needs a question");
    }
    if (oc && oc->result)
        result_s = json_dumps(oc->result, JSON_COMPACT);
    snprintf(id, sizeof(id), "%lld", (long long)task_id);
    snprintf(ep, sizeof(ep), "%lld", (long long)epoch);
    snprintf(base, sizeof(base), "%lld", (long long)o->backoff_base_seconds);
    snprintf(max, sizeof(max), "%lld", (long long)o->backoff_max_seconds);
    {
        const char *params[11] = {id,     agent_id, ep,
                                  to,     error,    question,
                                  reason, result_s, oc && oc->no_retry ? "true" : "false",
                                  base,   max};

        r = db_exec_found(db, &st_agent_move, params, err, "task %lld does not exist",
                          (long long)task_id);
    }
    if (!r)
        goto out;
    if (!db_get(r, 0, "task")) {
        queue_update_refusal(r, agent_id, epoch, err);
        goto out;
    }
    *task = queue_parse(db_get(r, 0, "task"), err);
    if (*task)
        rc = 0;
out:
    PQclear(r);
    free(result_s);
    return rc;
}
