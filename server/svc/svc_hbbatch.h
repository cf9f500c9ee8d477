/*
 * Group commit for heartbeats. Worker threads that answer heartbeats at the same time join
 * one batch: the first to find a batch slot free (two run at once) takes every waiting
 * heartbeat (distinct agents, none in a running batch, at most `max`), runs them as one
 * statement on its own connection (store/hbbatch) and hands each its answer; those that
 * arrived meanwhile form the next batch. Nothing waits for a timer: an idle server runs
 * batches of one (queue_heartbeat's own statement), a busy one batches of what queued up while
 * the previous statements ran. Every heartbeat is answered only after its batch committed, so
 * a crash loses only heartbeats nobody was told had landed (their agents retry on the next
 * interval, far inside the lease). Any thread; one per svc_env.
 */
#ifndef DROVER_SVC_HBBATCH_H
#define DROVER_SVC_HBBATCH_H

#include <jansson.h>

#include "core/err.h"

struct svc_ctx;
struct svc_hbbatch;

/* Default largest batch (--heartbeat-batch). */
#define SVC_HBBATCH_DEFAULT 64

/* max 0 or 1: no batching (every heartbeat its own statement). */
struct svc_hbbatch *svc_hbbatch_new(int max);
void svc_hbbatch_set_max(struct svc_hbbatch *b, int max);
void svc_hbbatch_free(struct svc_hbbatch *b);

/*
 * One heartbeat through the batch (queue_heartbeat's arguments and answer). When the batch's
 * statement fails as a whole (a lost connection, a deadlock with another replica's batch),
 * each of its heartbeats is retried alone on its caller's own connection. `limits` (NULL: not
 * wanted) gets hbbatch_req.limits, the budgets svc_hbmem checks usage against (owned).
 */
int svc_hbbatch_beat(struct svc_hbbatch *b, struct svc_ctx *c, const char *agent_id,
                     const char *status, const json_t *task_ids, const json_t *usage, json_t **out,
                     json_t **limits, struct err *err);

/* Batches run and heartbeats they carried, since the start (for /metrics and tests). */
void svc_hbbatch_stats(struct svc_hbbatch *b, long long *batches, long long *beats);

#endif
