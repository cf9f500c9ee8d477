/* People's transitions of a task. Worker threads. */
#include "svc/svc_actions.h"
#include "store/queue.h"
#include "svc/svc_tasks.h"

int svc_actions_cancel(struct svc_ctx *c, int64_t id, const char *actor, const char *why,
                       json_t **task, struct err *err)
{
    json_t *t = NULL;
    int rc = queue_cancel(c->db, id, actor, why, &t, err);

    return svc_tasks_after_move(c, id, rc, t, task, err);
}

int svc_actions_answer(struct svc_ctx *c, int64_t id, const char *actor, const char *answer,
                       json_t **task, struct err *err)
{
    json_t *t = NULL;
    int rc = queue_answer(c->db, id, actor, answer, &t, err);

    return svc_tasks_after_move(c, id, rc, t, task, err);
}

int svc_actions_retry(struct svc_ctx *c, int64_t id, const char *actor, json_t **task,
                      struct err *err)
{
    json_t *t = NULL;
    int rc = queue_retry(c->db, id, actor, &t, err);

    return svc_tasks_after_move(c, id, rc, t, task, err);
}
