/*
 * The lease-based task queue: enqueue, claim, heartbeat, fenced transitions, retry with
 * back-off, the reaper and the timeout sweep, and the counts the autoscaler reads.
 * Every function runs prepared statements on a `struct db` and blocks: worker threads only
 * (or tools and tests that own their connection).
 *
 * Tasks come back as jansson objects (owned by the caller) with the shape the MCP tools and
 * the REST API return: {id, title, description, state, priority, model, attempt, max_attempts,
 * lease_epoch, lease_expires_at, branch, agent_id, project: {id, name, repoUrl,
 * defaultBranch}, ...}.
 *
 * Every state change also appends an `activity` row; a task that becomes runnable sends a
 * NOTIFY on QUEUE_CHANNEL_READY (from a trigger, so no path can forget it).
 */
#ifndef DROVER_STORE_QUEUE_H
#define DROVER_STORE_QUEUE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "core/model.h"
#include "store/db.h"

#define QUEUE_CHANNEL_READY "drover_task_ready"
#define QUEUE_CHANNEL_ACTIVITY "drover_activity"
/* A task left the backlog or in_progress for good (sql/006): the autoscaler's load-drop hint. */
#define QUEUE_CHANNEL_DONE "drover_task_done"
/* Payload an agent id: its cached heartbeat answer may be stale (sql/046, svc_hbmem). */
#define QUEUE_CHANNEL_HB_AGENT "drover_hb_agent"

/* How long the last holder of a task may still append log lines after it left in_progress. */
#define QUEUE_LOG_GRACE_SECONDS 30

struct queue_opts {
    int lease_seconds;        /* a claim or heartbeat extends the lease this far; default 120 */
    int backoff_base_seconds; /* first retry delay; doubles per attempt; default 10 */
    int backoff_max_seconds;  /* cap of the retry delay; default 3600 */
    int max_tasks_per_agent;  /* tasks one agent may hold in_progress at once; default 1 */
};

/* Fills in the defaults above. */
void queue_opts_default(struct queue_opts *o);

/*
 * Insert a task in `backlog`. With an idempotency key that already exists, returns the existing
 * task and *created = false. Returns 0 with *task owned by the caller, or -1 (ERR_INVALID for
 * bad fields, ERR_NOT_FOUND for an unknown project or parent).
 */
int queue_enqueue(struct db *db, const struct model_task_new *t, json_t **task, bool *created,
                  struct err *err);

/*
 * A fan-out group: the parent (never claimable: it is the group) and `count` children that
 * agents claim, all in one transaction. The children get the titles "<title> [i/count]" and,
 * with an idempotency key, "<key>#i". A key that exists returns the existing group (*created
 * false). *parent owned.
 */
int queue_enqueue_group(struct db *db, const struct model_task_new *t, int count, json_t **parent,
                        bool *created, struct err *err);

/*
 * Claim the most urgent runnable task for `agent_id` (one statement, FOR UPDATE SKIP LOCKED),
 * skipping projects at their settings.max_in_progress (never over it under concurrency: sql/021):
 * in_progress, attempt + 1, a new lease epoch, a lease of opts->lease_seconds; the agent
 * becomes busy. *task is NULL when nothing is runnable, or when the agent already holds
 * opts->max_tasks_per_agent tasks (never a fan-out group). An unknown agent is ERR_NOT_FOUND; a
 * draining or offline agent is ERR_CONFLICT and claims nothing.
 */
int queue_claim(struct db *db, const struct queue_opts *o, const char *agent_id, json_t **task,
                struct err *err);

/*
 * Record a heartbeat: the agent's last_heartbeat_at, its status (busy when it holds a task,
 * else idle; `reported` = "offline" marks it offline, and a draining agent stays draining), and
 * the leases of all its in_progress tasks extended. `task_ids` (may be NULL) are the tasks the
 * agent believes it holds. *out = {"agent": {...}, "tasks": [{"id", "state", "cancelled",
 * "lease_expires_at"}]} where cancelled is true for a task the agent must stop: cancelled by an
 * admin, timed out, or no longer leased to it.
 */
int queue_heartbeat(struct db *db, const struct queue_opts *o, const char *agent_id,
                    const char *reported, const json_t *task_ids, const json_t *usage, json_t **out,
                    struct err *err);

/*
 * The lease holder moves its task: in_progress -> ready_to_test | needs_input | completed |
 * failed. Refused, changing nothing, when the task is unknown (ERR_NOT_FOUND), leased to
 * another agent (ERR_FORBIDDEN), the epoch is not the current one or the lease expired
 * (ERR_STALE_EPOCH), the task is not in_progress or the target is not allowed (ERR_CONFLICT),
 * or the state name is unknown (ERR_INVALID). `failed` with attempts left goes back to
 * backlog with exponential back-off instead.
 */
int queue_update_status(struct db *db, const struct queue_opts *o, const char *agent_id,
                        int64_t task_id, int64_t epoch, const char *to,
                        const struct model_outcome *oc, json_t **task, struct err *err);

/*
 * Admin/operator transitions. `actor` names who did it (recorded in activity). Cancelling a
 * fan-out group cancels its open children in the same transaction.
 */
int queue_cancel(struct db *db, int64_t task_id, const char *actor, const char *why, json_t **task,
                 struct err *err);
/* needs_input -> backlog, the answer appended to the task's context. */
int queue_answer(struct db *db, int64_t task_id, const char *actor, const char *answer,
                 json_t **task, struct err *err);
/* (ready_to_test -> completed, -> backlog and -> cancelled by a reviewer: store/review.h.) */
/* failed | cancelled -> backlog with a fresh attempt budget. */
int queue_retry(struct db *db, int64_t task_id, const char *actor, json_t **task, struct err *err);

/*
 * Return up to `limit` tasks whose lease expired to backlog (or to failed at max attempts) and
 * mark their agents offline. Safe on several replicas at once. *n = how many.
 */
int queue_reap(struct db *db, int limit, int *n, struct err *err);

/*
 * How many backlog tasks are claimable now, counting at most `limit` (*n). Cheap (the partial
 * claim index): droverd asks this periodically instead of re-running every held claim.
 */
int queue_runnable(struct db *db, int limit, int *n, struct err *err);

/* Move up to `limit` in_progress tasks past their timeout to needs_input (reason timeout). */
int queue_expire_timeouts(struct db *db, int limit, int *n, struct err *err);

/*
 * Append log lines to a task's activity. `entries` is one object or an array of objects with
 * "message" (required), "level" (debug|info|notice|warning|error, default info) and
 * "metadata" (object). With `agent_id` set, the task must be leased to that agent. *n = rows.
 */
int queue_log(struct db *db, const char *agent_id, int64_t task_id, const json_t *entries, int *n,
              struct err *err);

/* The task as JSON, or ERR_NOT_FOUND. */
int queue_get(struct db *db, int64_t task_id, json_t **task, struct err *err);

struct queue_counts {
    long long backlog; /* claimable now (a limited project's counts up to its free slots) */
    long long delayed; /* backlog waiting for run_after */
    long long in_progress;
    long long needs_input;
    long long busy, idle, starting, draining; /* agents */
    double oldest_backlog_age;                /* seconds; 0 when empty */
    long long expired_leases;
    long long held; /* runnable but held back by a project's max_in_progress */
};

/* All counts from one statement, so they are one consistent snapshot. */
int queue_counts(struct db *db, struct queue_counts *c, struct err *err);

#endif
