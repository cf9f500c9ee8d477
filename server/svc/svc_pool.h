/*
 * The pool as admins steer it: its settings (min/max, the hard cap), a pinned target, starting
 * and stopping agents. These only write the database and wake the leader (NOTIFY drover_pool,
 * from the rows' triggers); the leader's pool thread does the backend work. Worker threads.
 */
#ifndef DROVER_SVC_POOL_H
#define DROVER_SVC_POOL_H

#include <jansson.h>
#include <stdbool.h>

#include "svc/svc.h"

/*
 * {"settings": {min_agents, max_agents, hard_cap, pinned_target, pinned_until}, "counts":
 * {backlog, delayed, in_progress, busy, idle, starting, draining}, "leader", "decisions",
 * "audit"} (owned).
 */
int svc_pool_get(struct svc_ctx *c, json_t **out, struct err *err);

/* Set min and/or max (NULL = keep): 0 <= min <= max <= hard cap, audited under `actor`. */
int svc_pool_set(struct svc_ctx *c, const char *actor, const int *min_agents, const int *max_agents,
                 struct err *err);

/* Pin the pool at `count` for `ttl_seconds` (0 = until unpinned); unpin when `unpin`. */
int svc_pool_pin(struct svc_ctx *c, const char *actor, bool unpin, int count, int ttl_seconds,
                 struct err *err);

/* The hard cap: no setting or pin may exceed it. */
int svc_pool_hard_cap(struct svc_ctx *c);

/* Ask the leader for one more agent; `id` receives the new agent's id. */
int svc_pool_agent_start(struct svc_ctx *c, const char *actor, char id[37], struct err *err);

/*
 * Stop an agent: it drains (a busy one finishes its task first) unless `force`, which hands its
 * task back to the queue at once. *before = its previous status.
 */
int svc_pool_agent_stop(struct svc_ctx *c, const char *actor, const char *id, bool force,
                        char before[16], struct err *err);

#endif
