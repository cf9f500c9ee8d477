/*
 * The MCP tools an agent calls: their definitions (tools/list) and their implementations, each
 * the protocol side of one use case of the service layer (svc/). Worker threads (the
 * implementations block on the database and, for branches and pull requests, the forge).
 */
#ifndef DROVER_MCP_TOOLS_H
#define DROVER_MCP_TOOLS_H

#include <jansson.h>
#include <stdbool.h>

#include "mcp/mcp.h"

/* The tools/list array (a new reference). */
json_t *tools_list(void);

/* The tools `c`'s caller may use (a new array): an agent's, a submitter's (tools_submit.h), or
 * both with auth off. */
json_t *tools_list_for(const struct mcp_ctx *c);

/* The inputSchema of tool `name` when it declares x-mcp-header properties (borrowed, read-only,
 * lives as long as the process); NULL for a tool without them (no Mcp-Param-* to check) or an
 * unknown one. */
const json_t *tools_header_schema(const char *name);

/* The x-mcp-header names the tools' inputSchemas declare (2026-07-28: mirrored into
 * Mcp-Param-{name} headers), into names[max] (borrowed, static); returns how many. Any thread. */
size_t tools_header_names(const char **names, size_t max);

/* True when `name` is one of the tools. */
bool tools_known(const char *name);

/*
 * True for a tool that calls an external service (a forge's API, git over the network, a
 * webhook) and may take as long as that service does: the transport runs it on workers of
 * its own, so a slow forge cannot hold up heartbeats and claims.
 */
bool tools_slow(const char *name);

/*
 * Run tool `name` with `args` (an object, may be NULL). *result is a CallToolResult; input and
 * business errors are isError results whose error is also in *err (its class tells a
 * transport that answers with an HTTP status which one; ERR_OK on success). For get_next_task
 * with nothing claimable and waiting allowed, *result is NULL and c->park_seconds is set.
 */
void tools_call(struct mcp_ctx *c, const char *name, const json_t *args, json_t **result,
                struct err *err);

/* get_next_task's claim alone, for re-running a held request: *result NULL = still nothing. */
void tools_claim(struct mcp_ctx *c, const char *agent_id, json_t **result);

/* A CallToolResult carrying `structured` (stolen) as structuredContent and content[0].text. */
json_t *tools_result(json_t *structured);

/* An isError CallToolResult: content[0].text = {"error":{"code": err_name(err), "message"}}. */
json_t *tools_error(const struct err *err);

/* The agent the caller acts as ("" when none). */
const char *tools_agent(const struct mcp_ctx *c);

#endif
