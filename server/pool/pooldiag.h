/*
 * What `droverd doctor` and GET /api/diagnostics check of the pod backend: that its settings
 * load (kubeconfig, the agent pod template, the process backend's agent command) and, for
 * Kubernetes, that the API answers and lets droverd list pods in its namespace. Opens a
 * backend instance of its own (the pool thread owns the loop's) and closes it. Blocks on the
 * Kubernetes API: slow workers or a subcommand only.
 */
#ifndef DROVER_POOL_POOLDIAG_H
#define DROVER_POOL_POOLDIAG_H

#include <jansson.h>

#include "pool/agentpool.h"

/*
 * Append the backend's checks to `checks` (an array of {name, status, detail, fix}; status
 * "ok" | "warn" | "fail").
 */
void pooldiag_check(const struct agentpool_cfg *c, json_t *checks);

#endif
