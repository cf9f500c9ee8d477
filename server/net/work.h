/*
 * What a worker does with a job: authenticate, check the session, parse, dispatch (MCP, the
 * seed endpoints, the REST router, /ready, the sweep) and leave the reply in the job.
 * Worker threads; never touches lws.
 */
#ifndef DROVER_NET_WORK_H
#define DROVER_NET_WORK_H

#include <stdatomic.h>

#include "core/cfg.h"
#include "net/workers.h"
#include "store/queue.h"

struct work_env {
    const struct cfg *cfg;
    struct queue_opts qo;
    atomic_bool *claims_closed; /* set at shutdown: get_next_task hands out nothing; may be NULL */
};

/* The workers_run_fn of the server's pool; `arg` is the server, whose first member is the env. */
void work_run(struct workers_worker *w, struct job *j, void *arg);

/* Same, with the env given directly (tests). */
void work_exec(const struct work_env *env, struct db *db, struct job *j);

#endif
