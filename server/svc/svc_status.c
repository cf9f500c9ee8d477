/* Status, log lines and heartbeats of a lease holder. Worker threads. */
#include "svc/svc_status.h"
#include "store/agents.h"
#include "store/budget.h"
#include "store/queue.h"
#include "svc/svc_hbbatch.h"
#include "svc/svc_hbmem.h"

#include <string.h>

int svc_status_update(struct svc_ctx *c, const char *agent_id, int64_t task_id, int64_t epoch,
                      const char *to, const struct model_outcome *oc, json_t **task,
                      struct err *err)
{
    /* The agent's heartbeats before this change land before it: their usage reaches the task
     * only while it is in_progress. */
    if (svc_hbmem_settle(c->env->hbmem, c->db, &c->env->qo, agent_id, err) < 0)
        return -1;
    return queue_update_status(c->db, &c->env->qo, agent_id, task_id, epoch, to, oc, task, err);
}

int svc_status_log(struct svc_ctx *c, const char *agent_id, int64_t task_id, const json_t *entries,
                   int *n, struct err *err)
{
    return queue_log(c->db, agent_id, task_id, entries, n, err);
}

int svc_status_heartbeat(struct svc_ctx *c, const char *agent_id, const char *status,
                         const char *reason, const json_t *task_ids, const json_t *usage,
                         json_t **out, struct err *err)
{
    struct svc_hbmem *m = c->env->hbmem;
    json_t *limits = NULL;
    uint64_t gen = 0;
    int over = 0;

    *out = NULL;
    /* Answered from memory when nothing it would say can have changed (svc_hbmem.h); an
     * unusable report only settles the agent's queued heartbeat, so it cannot be undone. */
    if (svc_hbmem_answer(m, agent_id, status, task_ids, usage, out, &gen))
        goto interval;
    if (status && strcmp(status, "unusable") == 0) {
        json_t *agent = NULL;

        if (agents_set_unusable(c->db, agent_id, reason, &agent, err) < 0)
            return -1;
        *out = json_pack("{s:o, s:[]}", "agent", agent, "tasks");
        goto interval;
    }
    /* Over-budget tasks stop before the reply is built, so it reports them cancelled. */
    if (budget_enforce(c->db, agent_id, usage, &over, err) < 0 ||
        svc_hbbatch_beat(c->env->hbbatch, c, agent_id, status, task_ids, usage, out,
                         m ? &limits : NULL, err) < 0)
        return -1;
    svc_hbmem_learn(m, agent_id, gen, task_ids, *out, limits);
    json_decref(limits);
interval:
    json_object_set_new(*out, "heartbeat_interval",
                        json_integer(c->env->cfg ? c->env->cfg->heartbeat_interval : 30));
    return 0;
}
