/* People's transitions of a task. Worker threads. */
#include "svc/svc_actions.h"
#include "store/queue.h"
#include "svc/svc_tasks.h"

/* After a transition: answer with the task as the detail view shows it. */
static int svc_actions_detail(struct svc_ctx *c, int64_t id, int rc, json_t *moved, json_t **task,
                              struct err *err)
{
    json_decref(moved);
    if (rc < 0)
        return -1;
    return svc_tasks_detail(c, id, task, err);
}

int svc_actions_cancel(struct svc_ctx *c, int64_t id, const char *actor, const char *why,
                       json_t **task, struct err *err)
{
    json_t *t = NULL;
    int rc = queue_cancel(c->db, id, actor, why, &t, err);

    return svc_actions_detail(c, id, rc, t, task, err);
}

int svc_actions_answer(struct svc_ctx *c, int64_t id, const char *actor, const char *answer,
                       json_t **task, struct err *err)
{
    json_t *t = NULL;
    int rc = queue_answer(c->db, id, actor, answer, &t, err);

    return svc_actions_detail(c, id, rc, t, task, err);
}

int svc_actions_retry(struct svc_ctx *c, int64_t id, const char *actor, json_t **task,
                      struct err *err)
{
    json_t *t = NULL;
    int rc = queue_retry(c->db, id, actor, &t, err);

    return svc_actions_detail(c, id, rc, t, task, err);
}
