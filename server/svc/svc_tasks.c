/* Submitting and reading tasks. Worker threads. */
#include "svc/svc_tasks.h"
#include "store/events.h"
#include "store/projects.h"
#include "store/queue.h"
#include "store/tasklist.h"

/* Children in creation order (pages are newest first). */
static int svc_tasks_children(struct svc_ctx *c, int64_t parent, json_t *task, struct err *err)
{
    struct model_task_filter f = {.parent_id = parent, .limit = 200};
    json_t *kids = NULL, *ordered;
    int64_t next;

    if (tasklist_page(c->db, &f, &kids, &next, err) < 0)
        return -1;
    ordered = json_array();
    for (size_t i = json_array_size(kids); i > 0; i--)
        json_array_append(ordered, json_array_get(kids, i - 1));
    json_decref(kids);
    json_object_set_new(task, "children", ordered);
    return 0;
}

int svc_tasks_submit(struct svc_ctx *c, const struct model_task_new *t, int count, json_t **task,
                     bool *created, struct err *err)
{
    int64_t parent;

    *task = NULL;
    /* Client keys and the keys the server derives (KEY#i, schedule:...) never meet. */
    if (model_idem_key_check(t->idempotency_key, err) < 0)
        return -1;
    if (count <= 1)
        return queue_enqueue(c->db, t, task, created, err);
    if (queue_enqueue_group(c->db, t, count, task, created, err) < 0)
        return -1;
    parent = json_integer_value(json_object_get(*task, "id"));
    json_decref(*task);
    *task = NULL;
    if (queue_get(c->db, parent, task, err) < 0 || svc_tasks_children(c, parent, *task, err) < 0) {
        json_decref(*task);
        *task = NULL;
        return -1;
    }
    return 0;
}

int svc_tasks_project(struct svc_ctx *c, const char *ref, int64_t *id, struct err *err)
{
    return projects_resolve(c->db, ref, id, err);
}

int svc_tasks_list(struct svc_ctx *c, const struct model_task_filter *f, json_t **tasks,
                   int64_t *next_before, struct err *err)
{
    return tasklist_page(c->db, f, tasks, next_before, err);
}

int svc_tasks_get(struct svc_ctx *c, int64_t id, json_t **task, struct err *err)
{
    return queue_get(c->db, id, task, err);
}

int svc_tasks_detail(struct svc_ctx *c, int64_t id, json_t **out, struct err *err)
{
    json_t *task = NULL, *hist = NULL;

    *out = NULL;
    if (queue_get(c->db, id, &task, err) < 0 || tasklist_history(c->db, id, &hist, err) < 0)
        goto fail;
    json_object_set_new(task, "history", hist);
    if (json_is_true(json_object_get(task, "is_group")) && svc_tasks_children(c, id, task, err) < 0)
        goto fail;
    *out = task;
    return 0;
fail:
    json_decref(task);
    return -1;
}

int svc_tasks_after_move(struct svc_ctx *c, int64_t id, int rc, json_t *moved, json_t **task,
                         struct err *err)
{
    json_decref(moved);
    if (rc < 0)
        return -1;
    return svc_tasks_detail(c, id, task, err);
}

int svc_tasks_logs(struct svc_ctx *c, int64_t id, int64_t after, int limit, json_t **entries,
                   struct err *err)
{
    return tasklist_logs(c->db, id, after, limit, entries, err);
}

int svc_tasks_logs_events(struct svc_ctx *c, int64_t id, long long *after, json_t **events,
                          struct err *err)
{
    return events_task_logs(c->db, id, *after, 500, events, after, err);
}
