/*
 * One task from claim to hand-off, as a sequence of steps: workspace, clone, branch (named by
 * the server), the coding command's environment, agent-setup.sh, the coding command (output
 * streamed to log_activity, usage tracked), commit and push, final status (with the pull
 * request), cleanup. Main thread.
 */
#ifndef DROVER_AGENT_RUNNER_TASK_H
#define DROVER_AGENT_RUNNER_TASK_H

#include <jansson.h>

#include "mcpc.h"
#include "runner.h"

/* Work `task` (a get_next_task result's "task"). Failures are reported to the server; returns
 * -1 only when the server could not be told (the lease then runs out and the reaper requeues). */
int runner_task_run(struct runner *r, struct mcpc *m, const json_t *task, struct err *err);

#endif
