/*
 * git for the task thread: running git, HEAD, URLs for messages. The environment git runs with
 * (credentials scoped to the task's URL, the runner's own repository) is runner_publish.h's.
 */
#ifndef DROVER_AGENT_RUNNER_GIT_H
#define DROVER_AGENT_RUNNER_GIT_H

#include "core/proc.h"
#include "runner.h"

/* `url` with any user:password@ replaced by ***@, for messages. Owned. */
char *runner_git_redact(const char *url);

/*
 * Run git with `args` (NULL-terminated, without "git") in `cwd`. Output lines go to `on_line`
 * (may be NULL). *status = exit code. 0, or -1 when git could not run.
 */
int runner_git(char **env, const char *cwd, const char *const *args,
               void (*on_line)(void *, const char *), void *ud, struct proc_result *res,
               struct err *err);

/* `git rev-parse HEAD` into sha (41 bytes). 0 or -1. */
int runner_git_head(char **env, const char *cwd, char sha[41], struct err *err);

#endif
