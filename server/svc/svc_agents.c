/* Agents for operators. Worker threads. */
#include "svc/svc_agents.h"
#include "pool/agentpool.h"
#include "store/agents.h"

int svc_agents_list(struct svc_ctx *c, const char *status, bool all, json_t **agents,
                    struct err *err)
{
    return agents_list(c->db, status, all, agents, err);
}

int svc_agents_get(struct svc_ctx *c, const char *id, json_t **agent, struct err *err)
{
    return agents_get(c->db, id, agent, err);
}

bool svc_agents_have_logs(struct svc_ctx *c)
{
    return c->env->pool != NULL;
}

int svc_agents_logs(struct svc_ctx *c, const char *id, const char *pod_name, int tail, char **text,
                    size_t *len, struct err *err)
{
    if (!c->env->pool)
        return err_set(err, ERR_NOT_FOUND, "this server has no pod backend");
    return agentpool_logs(c->env->pool, id, pod_name, tail, text, len, err);
}
