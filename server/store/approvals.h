/*
 * Approvals (sql/043_autonomy.sql): the actions of a coding agent that its project's policy
 * denied at once or left to a person. Every write re-checks what it depends on in the same
 * statement (the lease for a new one, `pending` for an answer), and writes the task's activity
 * row with it. Blocking; worker threads only.
 *
 * An approval as JSON: {id, task_id, task_title, agent_id, lease_epoch, policy_version,
 * tool_name, tool_input, action, rule, state, decided_by, reason, created_at, expires_at,
 * decided_at}; state is pending, approved, denied or expired.
 */
#ifndef DROVER_STORE_APPROVALS_H
#define DROVER_STORE_APPROVALS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "store/db.h"

struct approvals_new {
    int64_t task_id, epoch;
    const char *agent_id;
    int policy_version;
    const char *tool_name;
    const json_t *tool_input;
    const char *action, *rule;
    bool pending;        /* false: denied by the policy at once */
    int timeout_seconds; /* pending: how long a person has to answer */
};

/*
 * Record one. The lease must still be held (the same fence as every agent write): otherwise
 * ERR_STALE_EPOCH, ERR_CONFLICT or ERR_FORBIDDEN and nothing is written. *out = the approval.
 */
int approvals_create(struct db *db, const struct approvals_new *a, json_t **out, struct err *err);

/* One approval: ERR_NOT_FOUND when there is none with that id. */
int approvals_get(struct db *db, int64_t id, json_t **out, struct err *err);

/*
 * What the agent that asked reads back: the approval, expired first when its time is up.
 * ERR_NOT_FOUND unless it belongs to `task_id` under lease `epoch`.
 */
int approvals_poll(struct db *db, int64_t id, int64_t task_id, int64_t epoch, json_t **out,
                   struct err *err);

/*
 * A person's answer. ERR_NOT_FOUND, or ERR_CONFLICT when it is no longer pending (answered,
 * or expired: then the message says which). *out = the approval as answered.
 */
int approvals_decide(struct db *db, int64_t id, bool approve, const char *who, const char *reason,
                     json_t **out, struct err *err);

/*
 * Expire pending approvals whose time is up, or whose lease is gone (the task moved on, was
 * cancelled or requeued): each becomes a denial. *n = how many. Any replica, any time.
 */
int approvals_expire(struct db *db, int *n, struct err *err);

/* Newest first, up to `limit` (1..500); `state` NULL for all, `task_id` 0 for every task. */
int approvals_list(struct db *db, const char *state, int64_t task_id, int limit, json_t **out,
                   struct err *err);

#endif
