/* The lease a seed call stands on. Worker threads. */
#include "svc/svc_seed.h"
#include "store/leases.h"

int svc_seed_epoch(struct svc_ctx *c, const char *agent_id, int64_t task_id, int64_t *epoch,
                   struct err *err)
{
    return leases_epoch(c->db, agent_id, task_id, epoch, err);
}

int svc_seed_current(struct svc_ctx *c, const char *agent_id, int64_t *task_id, int64_t *epoch,
                     struct err *err)
{
    return leases_current(c->db, agent_id, task_id, epoch, err);
}
