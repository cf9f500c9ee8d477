/*
 * The coding command's settings for one task, from the task and its project's settings.agent
 * (docs/agent.md, "Per project"): the model (the task's, else the project's default), the
 * built-in tools available (--tools), the permission allow-list (--allowedTools, under
 * permission mode dontAsk so anything else is refused, with Drover's own tools always
 * allowed) and the extra MCP servers for the coding CLI. Pure; any thread.
 *
 * Under an autonomy policy (the task's autonomy field) the policy decides instead: permission
 * mode default, only Drover's own tools allowed up front, every other action asked about
 * through Drover's approve_action (docs/autonomy.md); settings.agent.allowed_tools is then
 * not used, since it would let those tools past the policy.
 */
#ifndef DROVER_AGENT_RUNNER_PROJECT_H
#define DROVER_AGENT_RUNNER_PROJECT_H

#include <jansson.h>
#include <stdbool.h>

/* Drover's approve_action on the task's MCP server, named "drover" in its --mcp-config. */
#define RUNNER_PROJECT_PROMPT_TOOL "mcp__drover__approve_action"

struct runner_project {
    const char *model;         /* borrowed from the task, or NULL */
    char *tools;               /* "Bash,Read,..." or NULL */
    char *allowed;             /* "mcp__drover,Edit,Bash(make:*)" or NULL */
    const char *mode;          /* the permission mode, or NULL for the command's default */
    const json_t *mcp_servers; /* borrowed: {name: {type, url|command, ...}}, or NULL */
    /* The project has an autonomy policy: Claude Code asks this tool about every action its
     * permission mode does not settle (--permission-prompt-tool), or NULL. */
    const char *prompt_tool;
    long approval_timeout_s; /* with prompt_tool: how long a person may take to answer */
};

/* `root`: the agent runs as root (Claude Code then refuses bypassPermissions). */
void runner_project_settings(const json_t *task, bool root, struct runner_project *out);
void runner_project_clear(struct runner_project *p);

#endif
