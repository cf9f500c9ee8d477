/*
 * The hook through which create_branch and create_pull_request reach a git forge (Gitea,
 * GitLab, GitHub). The forge module (another part of the server) installs its functions in
 * `forge_hooks` at start-up, before any worker runs; with no hook installed the tools only
 * record the branch / pull request on the task. Hooks run on worker threads, inside the
 * transaction that records the result, so a forge failure changes nothing.
 */
#ifndef DROVER_FORGE_FORGE_H
#define DROVER_FORGE_FORGE_H

#include <jansson.h>

#include "core/err.h"
#include "store/db.h"

struct forge_hooks {
    /*
     * Create `branch` from the task's base branch. `task` is the task JSON (project, repoUrl,
     * base_branch...). Must be idempotent (an existing branch is success). 0 or -1.
     */
    int (*create_branch)(struct db *db, const json_t *task, const char *branch, struct err *err);
    /*
     * Open (or find the already open) pull request. `pr` holds {title, body, head, base};
     * the hook adds "url" and "number" when the forge returns them. 0 or -1.
     */
    int (*create_pull_request)(struct db *db, const json_t *task, json_t *pr, struct err *err);
};

/* Zero (record only) unless the forge module fills it in at start-up. */
extern struct forge_hooks forge_hooks;

#endif
