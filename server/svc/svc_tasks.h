/*
 * Submitting and reading tasks: one task or a fan-out group, the paged list, one task with its
 * history (and a group's children), its log lines. Worker threads.
 */
#ifndef DROVER_SVC_TASKS_H
#define DROVER_SVC_TASKS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/model.h"
#include "svc/svc.h"

/*
 * Enqueue `t` (agent_count 1) or a fan-out group of `count` children. *task is the task, or
 * the group with its "children"; *created false when the idempotency key returned an
 * existing one.
 */
int svc_tasks_submit(struct svc_ctx *c, const struct model_task_new *t, int count, json_t **task,
                     bool *created, struct err *err);

/* The id of the project named or numbered `ref` (ERR_NOT_FOUND). */
int svc_tasks_project(struct svc_ctx *c, const char *ref, int64_t *id, struct err *err);

/* A page, newest first; *next_before 0 on the last page. */
int svc_tasks_list(struct svc_ctx *c, const struct model_task_filter *f, json_t **tasks,
                   int64_t *next_before, struct err *err);

/* The task (ERR_NOT_FOUND). */
int svc_tasks_get(struct svc_ctx *c, int64_t id, json_t **task, struct err *err);

/* The task with "history" and, for a group, "children" in creation order. */
int svc_tasks_detail(struct svc_ctx *c, int64_t id, json_t **task, struct err *err);

/*
 * After a person's transition of task `id` that returned `rc` and the moved row `moved` (owned,
 * released here): -1 when it failed, else svc_tasks_detail's answer.
 */
int svc_tasks_after_move(struct svc_ctx *c, int64_t id, int rc, json_t *moved, json_t **task,
                         struct err *err);

/* Activity rows with id > after, oldest first, at most `limit`. */
int svc_tasks_logs(struct svc_ctx *c, int64_t id, int64_t after, int limit, json_t **entries,
                   struct err *err);

/* The next events of a task's log stream past `*after` (advanced). */
int svc_tasks_logs_events(struct svc_ctx *c, int64_t id, long long *after, json_t **events,
                          struct err *err);

#endif
