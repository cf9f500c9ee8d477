/*
 * The seed design's calls carry no lease_epoch, and its log_activity no task id: on the seed
 * endpoints (POST /tools/call, /rpc, /heartbeat) the caller's identity and its current,
 * unexpired lease stand in for them. The call itself is still fenced on the epoch found here,
 * so a holder whose lease was lost (expired, reaped, taken by another agent) is still refused.
 * Worker threads.
 */
#ifndef DROVER_SVC_SEED_H
#define DROVER_SVC_SEED_H

#include <stdint.h>

#include "svc/svc.h"

/* The epoch of the live lease `agent_id` holds on `task_id`, or -1 with the reason it has none. */
int svc_seed_epoch(struct svc_ctx *c, const char *agent_id, int64_t task_id, int64_t *epoch,
                   struct err *err);

/* The task `agent_id` works on now (the one claimed last) and its epoch, or -1 (ERR_CONFLICT). */
int svc_seed_current(struct svc_ctx *c, const char *agent_id, int64_t *task_id, int64_t *epoch,
                     struct err *err);

#endif
