/*
 * create_pull_request: the pull (merge) request of a task the caller holds. Fence, open it on
 * the task's forge outside any transaction, record it with the fence re-checked. Worker threads.
 */
#ifndef DROVER_SVC_PULL_H
#define DROVER_SVC_PULL_H

#include <jansson.h>
#include <stdint.h>

#include "svc/svc.h"

struct svc_pull_req {
    const char *title; /* required, 1..MODEL_PR_TITLE_MAX characters */
    const char *body;  /* may be NULL; kept on the forge, not on the task */
    const char *head;  /* NULL = the task's branch */
    const char *base;  /* NULL = the task's base branch */
};

/*
 * Idempotent: a task that records one returns it (created false). A lease lost while the forge
 * worked gives the stale-lease error, and the pull request is still recorded.
 * *out = {"task_id", "pull_request": {title, head, base, state, url?, number?, forge?},
 * "created"} (owned).
 */
int svc_pull_create(struct svc_ctx *c, const char *agent_id, int64_t task_id, int64_t epoch,
                    const struct svc_pull_req *req, json_t **out, struct err *err);

#endif
