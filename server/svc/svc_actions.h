/*
 * What people do to a task: cancel it (a fan-out group with its open children, in one
 * transaction), answer its question (needs_input -> backlog, not a failed attempt), retry it
 * (failed | cancelled -> backlog with a fresh attempt budget). `actor` names who, recorded in the
 * task's history. *task = the task with its history afterwards (svc_tasks_detail). Worker threads.
 */
#ifndef DROVER_SVC_ACTIONS_H
#define DROVER_SVC_ACTIONS_H

#include <jansson.h>
#include <stdint.h>

#include "svc/svc.h"

int svc_actions_cancel(struct svc_ctx *c, int64_t id, const char *actor, const char *why,
                       json_t **task, struct err *err);
int svc_actions_answer(struct svc_ctx *c, int64_t id, const char *actor, const char *answer,
                       json_t **task, struct err *err);
int svc_actions_retry(struct svc_ctx *c, int64_t id, const char *actor, json_t **task,
                      struct err *err);

#endif
