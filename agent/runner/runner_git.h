/*
 * git for the task thread: running git, HEAD. The environment git runs with (credentials scoped
 * to the task's URL, the runner's own repository) is runner_publish.h's; a URL for messages is
 * core/text.h's text_url_redact.
 */
#ifndef DROVER_AGENT_RUNNER_GIT_H
#define DROVER_AGENT_RUNNER_GIT_H

#include "core/proc.h"
#include "runner.h"

/*
 * Run git with `args` (NULL-terminated, without "git") in `cwd`. Output lines go to `on_line`
 * (may be NULL). *status = exit code. 0, or -1 when git could not run.
 */
int runner_git(char **env, const char *cwd, const char *const *args,
               void (*on_line)(void *, const char *), void *ud, struct proc_result *res,
               struct err *err);

/*
 * The remote's default branch (`git ls-remote --symref <url> HEAD`: "ref: refs/heads/<b>\tHEAD")
 * into out. 0; -1 with err when git fails or the remote names none. Blocking.
 */
int runner_git_default_branch(char **env, const char *cwd, const char *url, char *out, size_t n,
                              struct err *err);

/* The branch name of a symref line, or NULL. Pure (the unit tests reach it). */
const char *runner_git_symref_branch(const char *line, size_t *len);

/* `git rev-parse HEAD` into sha (41 bytes). 0 or -1. */
int runner_git_head(char **env, const char *cwd, char sha[41], struct err *err);

#endif
