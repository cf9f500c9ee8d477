/*
 * The coding command's settings for one task, from the task and its project's settings.agent
 * (docs/agent.md, "Per project"): the model (the task's, else the project's default), the
 * built-in tools available (--tools), the permission allow-list (--allowedTools, under
 * permission mode dontAsk so anything else is refused, with Drover's own tools always
 * allowed) and the extra MCP servers for the coding CLI. Pure; any thread.
 */
#ifndef DROVER_AGENT_RUNNER_PROJECT_H
#define DROVER_AGENT_RUNNER_PROJECT_H

#include <jansson.h>
#include <stdbool.h>

struct runner_project {
    const char *model;         /* borrowed from the task, or NULL */
    char *tools;               /* "Bash,Read,..." or NULL */
    char *allowed;             /* "mcp__drover,Edit,Bash(make:*)" or NULL */
    const char *mode;          /* the permission mode, or NULL for the command's default */
    const json_t *mcp_servers; /* borrowed: {name: {type, url|command, ...}}, or NULL */
};

/* `root`: the agent runs as root (Claude Code then refuses bypassPermissions). */
void runner_project_settings(const json_t *task, bool root, struct runner_project *out);
void runner_project_clear(struct runner_project *p);

#endif
