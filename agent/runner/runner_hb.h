/*
 * The heartbeat thread: every HEARTBEAT_INTERVAL seconds it reports idle/busy, the current
 * task and its usage on its own MCP connection; a reply that marks the current task cancelled
 * sets runner.cancelled, which the task thread polls to stop the coding command.
 */
#ifndef DROVER_AGENT_RUNNER_HB_H
#define DROVER_AGENT_RUNNER_HB_H

#include <pthread.h>

#include "mcpc.h"
#include "runner.h"

int runner_hb_start(struct runner *r, pthread_t *t, struct err *err);
/* Stop and join the thread. */
void runner_hb_stop(struct runner *r, pthread_t t);
/* Send one heartbeat with `status` ("idle" | "busy" | "offline") on `m`; applies the reply. */
int runner_hb_send(struct runner *r, struct mcpc *m, const char *status, struct err *err);

#endif
