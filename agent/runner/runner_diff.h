/*
 * The change a task made, for its reviewers: the files changed with their +/- line counts and
 * the unified diff (bounded), of the task's branch against its base branch as cloned
 * (refs/remotes/origin/<base>), so a rework shows the whole change, not only its own commit.
 * Blocking (git); the task thread.
 */
#ifndef DROVER_AGENT_RUNNER_DIFF_H
#define DROVER_AGENT_RUNNER_DIFF_H

#include <jansson.h>

/* At most this many bytes of unified diff are reported (then "truncated": true). */
#define RUNNER_DIFF_MAX 65536

/*
 * *files = [{"path", "added", "removed"}] (binary files: null counts), *diff = the unified diff
 * text, *truncated when it was cut. 0, or -1 when git failed (nothing set).
 */
int runner_diff(char **git_env, const char *repo, const char *base, json_t **files, char **diff,
                int *truncated);

#endif
