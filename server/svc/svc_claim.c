/* The claim. Worker threads. */
#include "svc/svc_claim.h"
#include "core/clock.h"
#include "core/counters.h"
#include "store/queue.h"

int svc_claim(struct svc_ctx *c, const char *agent_id, json_t **task, struct err *err)
{
    double t0 = clock_s();

    *task = NULL;
    /* Shutting down: no task goes to an agent this droverd may not see finish. */
    if (c->env->claims_closed && atomic_load(c->env->claims_closed))
        return 0;
    if (queue_claim(c->db, &c->env->qo, agent_id, task, err) < 0)
        return -1;
    counters_claim(clock_s() - t0, *task != NULL);
    return 0;
}

int svc_claim_runnable(struct svc_ctx *c, int limit, int *n, struct err *err)
{
    return queue_runnable(c->db, limit, n, err);
}
