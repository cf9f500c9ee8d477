/*
 * get_next_task's claim: hand the most urgent runnable task to an agent (one statement, FOR
 * UPDATE SKIP LOCKED: store/queue.c), unless droverd is shutting down. And the count of
 * claimable tasks that tells droverd how many held long-polls to wake. Worker threads.
 */
#ifndef DROVER_SVC_CLAIM_H
#define DROVER_SVC_CLAIM_H

#include <jansson.h>

#include "svc/svc.h"

/*
 * Claim for `agent_id`: *task is the claimed task with its lease_epoch, or NULL when nothing is
 * claimable (or claims are closed for shutdown). ERR_NOT_FOUND for an unknown agent,
 * ERR_CONFLICT for a draining or offline one.
 */
int svc_claim(struct svc_ctx *c, const char *agent_id, json_t **task, struct err *err);

/* How many tasks are claimable now, counting at most `limit`. */
int svc_claim_runnable(struct svc_ctx *c, int limit, int *n, struct err *err);

#endif
