/*
 * trigger_preview_deploy: the tool that asks the project's preview webhook to deploy a task's
 * branch and records the URL it answers. Worker threads (blocking HTTP and SQL).
 */
#ifndef DROVER_MCP_TOOLS_PREVIEW_H
#define DROVER_MCP_TOOLS_PREVIEW_H

#include <jansson.h>

#include "mcp/mcp.h"

/* The tools/list entry's input schema and description live in tools.c's table. */
void tools_preview_deploy(struct mcp_ctx *c, const json_t *args, json_t **result);

#endif
