/*
 * What a worker does with a job: hand it, as plain data, to the protocol layer it belongs to
 * (mcp/mcp_serve.h for the MCP endpoints and held claims, api/router.h for REST and /ready
 * and the periodic jobs) and copy the answer back into the job. Worker threads; never
 * touches lws.
 */
#ifndef DROVER_NET_WORK_H
#define DROVER_NET_WORK_H

#include "net/workers.h"

struct svc_ctx;

/* The workers_run_fn of the server's pool: `w->ctx` is the worker's struct svc_ctx. */
void work_run(struct workers_worker *w, struct job *j, void *arg);

/* The same, with the context given directly (tests). */
void work_exec(struct svc_ctx *svc, struct job *j);

#endif
