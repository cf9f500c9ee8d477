/*
 * The prompt drover-agent gives the coding command ($DROVER_TASK_PROMPT): the task's title and
 * description, the answers and notes from earlier attempts (a reviewer's rework as its
 * instructions, the review's summary and comments, and its inline comments grouped per file as
 * "path:line — comment (author)"), and what the runner does with the branch. Pure; any thread.
 */
#ifndef DROVER_AGENT_RUNNER_PROMPT_H
#define DROVER_AGENT_RUNNER_PROMPT_H

#include <jansson.h>

/* The prompt for `task` (a get_next_task "task") working on `branch`. Owned. */
char *runner_prompt_build(const json_t *task, const char *branch);

#endif
