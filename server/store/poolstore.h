/*
 * The pool's rows: settings (min/max, pinned target) with an audit trail, the autoscaler's
 * decisions (scale_events), the leader record, and the agent queries the loop and the reaper
 * need. Blocking; worker threads and the pool thread only.
 */
#ifndef DROVER_STORE_POOLSTORE_H
#define DROVER_STORE_POOLSTORE_H

#include <jansson.h>
#include <stdbool.h>

#include "core/err.h"
#include "store/db.h"

/*
 * Leadership of the pool: a session-level advisory lock, one per schema. The session is the
 * lease: the lock goes when the connection does. *leading tells whether this session has it.
 */
int poolstore_lead_try(struct db *db, bool *leading, struct err *err);
int poolstore_lead_held(struct db *db, bool *leading, struct err *err);
void poolstore_lead_release(struct db *db);

struct poolstore_settings {
    int min_agents, max_agents;
    int pinned_target;   /* -1: none */
    double pinned_until; /* epoch seconds; 0 when not pinned */
    double now;          /* the database's clock when read (epoch seconds) */
};

int poolstore_settings_get(struct db *db, struct poolstore_settings *s, struct err *err);

/*
 * Set min/max. Validated 0 <= min <= max <= hard_cap (ERR_INVALID with a message saying which
 * bound failed, nothing changed). The old and new values are audited under `actor`.
 */
int poolstore_settings_set(struct db *db, const char *actor, int min_agents, int max_agents,
                           int hard_cap, struct err *err);

/* Pin the target to `count` (0..hard_cap) for `ttl_seconds` (0 = until unpinned; < 0 unpins). */
int poolstore_pin(struct db *db, const char *actor, int count, int ttl_seconds, int hard_cap,
                  struct err *err);

/* Append an audit row (start_agent, stop_agent). `detail` may be NULL. */
int poolstore_audit(struct db *db, const char *actor, const char *action, const json_t *detail,
                    struct err *err);

/* One decision; `inputs` and `deletes` are JSON (borrowed). */
struct poolstore_event {
    const char *replica, *trigger, *reason;
    const json_t *inputs, *deletes;
    int raw, target, current, creates;
    bool breaker_open;
};
int poolstore_record(struct db *db, const struct poolstore_event *e, struct err *err);

/* The latest `limit` decisions, newest first, as a JSON array (owned by the caller). */
int poolstore_events(struct db *db, int limit, json_t **out, struct err *err);

/* The audit trail, newest first. */
int poolstore_audit_list(struct db *db, int limit, json_t **out, struct err *err);

/* Record that `replica` leads (refreshes seen_at; `since` changes only with the replica). */
int poolstore_leader_set(struct db *db, const char *replica, struct err *err);
/* {replica, since, seen_at} or JSON null. */
int poolstore_leader_get(struct db *db, json_t **out, struct err *err);

/*
 * Live (not offline) agents as a JSON array of {id, status, backend, pod_name, pod_uid,
 * age_seconds, heartbeat_age_seconds (null before the first heartbeat), has_task}, newest first.
 */
int poolstore_agents_live(struct db *db, json_t **out, struct err *err);

/* Record the pod (or process) that runs an agent. */
int poolstore_agent_set_pod(struct db *db, const char *id, const char *pod_name,
                            const char *pod_uid, struct err *err);

/*
 * Mark every non-offline agent silent for `stale_seconds` offline (reason "stale: no heartbeat
 * for N s"), and expire the leases of the tasks they hold so queue_reap returns them to the
 * queue. Agents that never heartbeated are left to the start-up deadline. *ids receives a JSON
 * array of the agent ids marked offline (owned).
 */
int poolstore_reap_stale(struct db *db, int stale_seconds, json_t **ids, struct err *err);

/* Expire the leases of the tasks an agent holds (before its pod is deleted by force). */
int poolstore_expire_agent_leases(struct db *db, const char *id, struct err *err);

/*
 * Stop an agent (admin): idle/initializing agents become draining at once; a busy agent becomes
 * draining too and finishes its task first, unless `force`, in which case the leases of its
 * tasks are expired so the reaper returns them to the queue. The leader then deletes the pod of
 * every draining agent that holds no task. *before receives the previous status (16 bytes).
 * ERR_NOT_FOUND for an unknown agent, ERR_CONFLICT for one already offline.
 */
int poolstore_agent_stop(struct db *db, const char *id, bool force, char before[16],
                         struct err *err);

/* Request one more agent (admin): an `initializing` row with backend 'requested' that the
 * leader adopts (creates its token and pod). `id` receives the new agent's id. */
int poolstore_agent_request(struct db *db, const char *actor, char id[37], struct err *err);

/* Claim a requested agent row for `backend` (1 = claimed, 0 = none pending). */
int poolstore_agent_adopt(struct db *db, const char *backend, char id[37], struct err *err);

#endif
