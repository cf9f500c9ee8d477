/*
 * The seed design's wire shapes on the seed endpoints (POST /tools/call, POST /rpc, POST
 * /heartbeat), translated to the tools' own: camelCase argument aliases (agentId, taskId as a
 * string or a number, leaseEpoch, branchName, taskIds), update_task_status's metadata.reason,
 * a call without lease_epoch fenced on the caller's current unexpired lease, log_activity
 * without a task id logging to the caller's current task, and branchName in create_branch's
 * result. Only these endpoints: /mcp and /ws speak MCP as the SDKs do. Worker threads.
 */
#ifndef DROVER_MCP_SEED_H
#define DROVER_MCP_SEED_H

#include <jansson.h>

#include "mcp/mcp.h"

/*
 * The arguments of tool `name` in the tools' own names: 0 with *out (a new reference), or -1
 * with err set (a lease the caller does not hold, a malformed alias). `args` is not changed.
 */
int seed_args(struct mcp_ctx *c, const char *name, const json_t *args, json_t **out,
              struct err *err);

/* Add the seed's names to a successful result of tool `name` (both structuredContent and the
 * text copy in content[0]). */
void seed_result(const char *name, json_t *result);

#endif
