/*
 * create_branch: the working branch of a task the caller holds. Fence (one read, no lock),
 * create it on the task's forge outside any transaction, then record it with the fence
 * re-checked (store/branches.h). Worker threads.
 */
#ifndef DROVER_SVC_BRANCH_H
#define DROVER_SVC_BRANCH_H

#include <jansson.h>
#include <stdint.h>

#include "svc/svc.h"

/*
 * `name` NULL = the default name (model_branch_default). `base` (may be NULL) is the branch
 * to start from when neither the task nor its project names one: the repository's default
 * branch as the agent found it (a `master` repository).  Calling again with the same name
 * returns the same result without touching the forge; a different name once one is recorded
 * is ERR_CONFLICT. A lease lost while the forge worked gives the stale-lease error, and the
 * branch is still recorded on the task. *out = {"task_id", "branch", "created"} (owned).
 */
int svc_branch_create(struct svc_ctx *c, const char *agent_id, int64_t task_id, int64_t epoch,
                      const char *name, const char *base, json_t **out, struct err *err);

#endif
