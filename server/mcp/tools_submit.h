/*
 * The submitter tools: how a developer's own agent (Claude Code on a laptop, any MCP client)
 * hands work to the pool and follows it: submit_task (a project or repository, a prompt,
 * priority, budget, fan-out), list_tasks, task_status, answer_task, cancel_task. In the legacy
 * era and for clients without the tasks extension they are ordinary tools returning the task
 * and its handle; in 2026-07-28 with io.modelcontextprotocol/tasks declared, submit_task
 * answers with a task handle instead (mcp_tasks.h). Worker threads.
 *
 * Who may submit is one check, tools_submit_allowed: today the admin scope (and everyone with
 * auth off, which is loopback-only); the `developer` scope of the review work takes its place
 * there and nowhere else.
 */
#ifndef DROVER_MCP_TOOLS_SUBMIT_H
#define DROVER_MCP_TOOLS_SUBMIT_H

#include <jansson.h>
#include <stdbool.h>

#include "core/err.h"
#include "core/principal.h"
#include "mcp/mcp.h"

/* True when `who` may use the submitter tools and the tasks methods (auth off: anyone). */
bool tools_submit_scope(const struct cfg *cfg, const struct principal *who);
bool tools_submit_allowed(const struct mcp_ctx *c);

/* Their definitions (a new array) and names. */
json_t *tools_submit_list(void);
bool tools_submit_known(const char *name);
/* The inputSchema of submitter tool `name` (borrowed, static), or NULL. */
const json_t *tools_submit_schema(const char *name);

/* Run one; *result as tools_call's (an isError result carries *err). */
void tools_submit_call(struct mcp_ctx *c, const char *name, const json_t *args, json_t **result,
                       struct err *err);

/* The Drover task `id` as the submitter tools show it: the task and its handle. */
json_t *tools_submit_view(struct mcp_ctx *c, json_t *task, struct err *err);

#endif
