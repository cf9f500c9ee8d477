/*
 * get_git_credential: the git credential of a task's project, for the agent that holds the
 * task (the one fence: holder, epoch, in_progress, lease not expired), so a pool serving many
 * projects on many forges needs no agent-wide GIT_TOKEN. Once per lease (store/gitcred.h): the
 * agent fetches it before any repository code runs, and a later call is refused. Per project: a
 * GitHub App installation token (short-lived, narrowed to the repository, contents write only) when
 * the project names an installation and droverd has an App; else DROVER_GIT_TOKEN_<PROJECT> (or a
 * "<project> <token>" line of DROVER_GIT_SECRETS). The credential is bound to the task's
 * repository URL (forge_cred_check) and never logged. Worker threads (slow: may call GitHub).
 */
#ifndef DROVER_SVC_GITCRED_H
#define DROVER_SVC_GITCRED_H

#include <jansson.h>
#include <stdint.h>

#include "svc/svc.h"

/*
 * *out = {"task_id", "url", "username", "token", "expires_at"} (owned; token and expires_at
 * null when the project has no credential for agents).
 */
int svc_gitcred_get(struct svc_ctx *c, const char *agent_id, int64_t task_id, int64_t epoch,
                    json_t **out, struct err *err);

#endif
