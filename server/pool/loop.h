/*
 * The pool thread's body: leader election (a session-level PostgreSQL advisory lock, one
 * leader per schema; another replica takes over within a second or two when the leader's
 * session ends), then every tick, within a second of a task becoming runnable (LISTEN
 * drover_task_ready) or of an admin change (LISTEN drover_pool), and within a second of load
 * dropping (LISTEN drover_task_done: a task left the backlog or finished; debounced):
 *   reap (expired leases, stale agents), enforce the start-up deadline, retire drained agents,
 *   reconcile pods against agent rows both ways, adopt agents requested through the API,
 *   evaluate the policy, record the decision in scale_events and apply it.
 * Runs on its own thread with its own connections; the backend's blocking calls happen here.
 */
#ifndef DROVER_POOL_LOOP_H
#define DROVER_POOL_LOOP_H

#include <stdbool.h>

#include "core/err.h"
#include "pool/agentpool.h"

struct loop;

/* Connect (the check happens here, so a bad DSN fails `droverd serve` at start-up). */
int loop_create(const struct agentpool_cfg *cfg, const char *dsn, struct loop **out,
                struct err *err);
/* Run until loop_request_stop(). */
void loop_run(struct loop *l);
/* Any thread. */
void loop_request_stop(struct loop *l);
/*
 * Shutdown, step one (any thread): stop scaling, ask the agents this replica started to stop
 * (process backend: SIGTERM, SIGKILL after `grace_seconds`; Kubernetes pods are left running,
 * they outlive a droverd restart) and reap them as they exit. loop_drained() turns true once
 * none of them runs (at once when there are none). Then loop_request_stop() as usual.
 */
void loop_request_drain(struct loop *l, int grace_seconds);
bool loop_drained(struct loop *l);
void loop_destroy(struct loop *l);

#endif
