/*
 * The runner's own repository. The coding command controls its work tree and everything in
 * the `.git` it is given (hooks, config, fsmonitor, includeIf, remotes), so drover-agent never
 * runs git there with a credential. It clones into a directory of its own, outside the work
 * tree and hidden from the sandbox (GIT_DIR), checks the task's branch out into the work tree
 * (GIT_WORK_TREE), hands the command a fresh repository of its own holding the same commit,
 * and afterwards commits the work tree's content from its own repository — hooks off, global
 * configuration ignored, fsmonitor off, redirects never followed — and pushes to the URL
 * Drover gave for the task, with the credential scoped to that URL. Main thread.
 */
#ifndef DROVER_AGENT_RUNNER_PUBLISH_H
#define DROVER_AGENT_RUNNER_PUBLISH_H

#include <stdbool.h>

#include "core/err.h"
#include "runner.h"

/*
 * The environment for git in the runner's repository (owned; proc_env_free). `url`: the
 * task's repository (the credential is scoped to it; NULL: no credential). `token`: the
 * task's own credential (get_git_credential), or NULL for the agent's GIT_TOKEN. `gitdir` and
 * `worktree`: GIT_DIR and GIT_WORK_TREE, or NULL (the clone itself; a repository of the
 * command's that the runner prepares before the command runs).
 */
char **runner_publish_env(const struct runner_cfg *cfg, const char *url, const char *token,
                          const char *gitdir, const char *worktree);

/*
 * GIT_TOKEN goes to `url` only when it lies under DROVER_GIT_TOKEN_ALLOW (URL prefixes,
 * space or comma separated; unset: any task URL).
 */
bool runner_publish_token_allowed(const struct runner_cfg *cfg, const char *url);

/* The key the credential goes under: http.<url without user info>.extraHeader. Owned. */
char *runner_publish_header_key(const char *url);

/*
 * After `git clone --no-checkout` into gitdir's parent: from now on *env (replaced) runs git in
 * the runner's repository `gitdir` with `worktree` (created private) as its work tree, which
 * gets the clone's files. 0 or -1.
 */
int runner_publish_adopt(const struct runner_cfg *cfg, const char *url, const char *token,
                         const char *gitdir, const char *worktree, char ***env, struct err *err);

/*
 * get_git_credential for the task just claimed: *token (owned, secret) the project's
 * credential, or NULL when droverd has none for it (or predates the tool). 0, or -1 when the
 * call failed otherwise (e.g. the lease is gone).
 */
struct mcpc;
int runner_publish_fetch_credential(struct mcpc *m, long long task_id, long long epoch,
                                    char **token, struct err *err);

/*
 * Give the command its own repository in `worktree` (already checked out by the runner from
 * `gitdir` on `branch`): a fresh .git holding the branch's commit, origin = `safe_url`. 0 or -1.
 */
int runner_publish_handoff(const struct runner_cfg *cfg, const char *gitdir, const char *worktree,
                           const char *branch, const char *safe_url, struct err *err);

#endif
