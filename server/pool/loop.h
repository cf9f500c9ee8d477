/*
 * The pool thread's body: leader election (a session-level PostgreSQL advisory lock, one
 * leader per schema; another replica takes over within a second or two when the leader's
 * session ends), then every tick, within a second of a task becoming runnable (LISTEN
 * drover_task_ready) or of an admin change (LISTEN drover_pool):
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
void loop_destroy(struct loop *l);

#endif
