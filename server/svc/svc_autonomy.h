/*
 * Tiered autonomy (docs/autonomy.md): a project's policy decides each action its coding agent
 * asks about (through Claude Code's --permission-prompt-tool, carried by drover-agent) at once,
 * or parks it for a person; people answer over the API, the dashboard or droverctl; the agent
 * polls for the answer. Worker threads.
 *
 * An answer to the agent: {decision: "allow"|"deny"|"pending", action, rule, policy_version,
 * approval_id?, expires_at?, message?}; message (for a denial) is what the model is told.
 */
#ifndef DROVER_SVC_SVC_AUTONOMY_H
#define DROVER_SVC_SVC_AUTONOMY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "svc/svc.h"

/* Longest tool input kept on an approval; longer strings in it are cut (a Write's content). */
#define SVC_AUTONOMY_INPUT_MAX 65536

/*
 * The agent holding task_id's lease asks about one tool call: tool_name and input as Claude
 * Code sent them, cwd the repository's working tree (NULL: unknown). Fenced on the lease.
 */
int svc_autonomy_request(struct svc_ctx *c, const char *agent_id, int64_t task_id, int64_t epoch,
                         const char *tool_name, const json_t *input, const char *cwd,
                         json_t **answer, struct err *err);

/* The same agent asks again about a pending one: the answer as above. */
int svc_autonomy_poll(struct svc_ctx *c, const char *agent_id, int64_t task_id, int64_t epoch,
                      int64_t approval_id, json_t **answer, struct err *err);

/* A person approves or denies a pending approval; `who` is recorded. *out = the approval. */
int svc_autonomy_decide(struct svc_ctx *c, int64_t id, bool approve, const char *who,
                        const char *reason, json_t **out, struct err *err);

int svc_autonomy_get(struct svc_ctx *c, int64_t id, json_t **out, struct err *err);

/* state: NULL (all) or one of pending, approved, denied, expired (else ERR_INVALID). */
int svc_autonomy_list(struct svc_ctx *c, const char *state, int64_t task_id, int limit,
                      json_t **out, struct err *err);

/* The policy in force on project `ref` (id or name): ERR_NOT_FOUND when it has none. */
int svc_autonomy_policy_get(struct svc_ctx *c, const char *ref, json_t **out, struct err *err);

/* Check `policy` (core/autonomy.c) and add it as the project's next version. */
int svc_autonomy_policy_put(struct svc_ctx *c, const char *ref, const json_t *policy,
                            const char *who, json_t **out, struct err *err);

int svc_autonomy_policy_versions(struct svc_ctx *c, const char *ref, json_t **out, struct err *err);

/* The sweep's part: pending approvals whose time is up or whose lease is gone become denials. */
int svc_autonomy_sweep(struct svc_ctx *c, int *expired, struct err *err);

#endif
