/*
 * Tiered autonomy: a project's policy decides, for each tool call a coding agent (Claude Code)
 * is about to make, whether it runs (allow), waits for a person (ask) or is refused (deny).
 * Pure functions over jansson values; no I/O, no globals; any thread.
 *
 * A policy is a JSON object:
 *   allow, ask, deny          arrays of rules (at most 500 each), default []
 *   default                   "allow" | "ask" | "deny" for unmatched calls, default "ask"
 *   outside_repo              the same, for file-editing tools on a path outside the
 *                             repository, default "deny"
 *   network                   the same, for network commands and WebFetch/WebSearch,
 *                             default "ask"
 *   approval_timeout_seconds  integer 10..86400, default 600
 *   enabled                   boolean, default true (autonomy_decide does not read it: whether
 *                             the policy is consulted at all is the caller's business)
 *
 * Rules use Claude Code's permission-rule syntax: `Tool` matches every call of the tool,
 * `Tool(specifier)` narrows it. `Edit` also names MultiEdit, Write and NotebookEdit; `Read`
 * also names Glob, Grep and LS; `mcp__srv` and `mcp__srv__*` name every tool of MCP server
 * srv; any other name matches only itself.
 *   Bash(npm test:*)   prefix: the command is `npm test` or starts with `npm test `
 *   Bash(git * main)   `*` matches any characters; without `*` the match is exact
 *   Edit(*.env)        a gitignore-style glob on the repo-relative path: `*` matches within
 *                      one segment, `?` one character, a `**` segment any number of
 *                      segments (`a/` `**` `/b` matches a/b and a/x/y/b; `docs/` `**` is
 *                      everything under docs); a pattern without a slash, like this one,
 *                      matches that name in any directory; `/x` and `./x` are relative to
 *                      the repository too, `//x` is an absolute path, and `~/x` is accepted
 *                      but matches nothing (there is no home directory to resolve it)
 *   WebFetch(domain:example.com)  the url's host is example.com or a subdomain of it
 * Any other specifier is compared exactly with the call's url (WebFetch) or query
 * (WebSearch); on other tools (MCP tools, Task, ...) a rule with a specifier never matches.
 *
 * Precedence, first that applies:
 *   1. a matching deny rule                          -> deny
 *   2. a matching ask rule                           -> ask
 *   3. a category (outside_repo, network) that applies and is not "allow" -> its action
 *   4. a matching allow rule                         -> allow
 *   5. a category that applies and is "allow"        -> allow
 *   6. "default"
 * A Bash command is split into its sub-commands (on ; && || | & and newlines outside quotes);
 * each is decided and the most restrictive result wins (deny > ask > allow). A command that
 * hides what it runs ($(...), backticks, <(...), >(...), or a sub-command whose program is
 * eval, exec, source, ., sh/bash/zsh/dash/ksh -c, xargs, env with a command, sudo, nohup,
 * timeout, nice, command or builtin) is decided at least "ask"; a deny rule still denies.
 *
 * This matcher is best effort: shell syntax is richer than it understands, and a command can
 * always be written so that no rule sees what it does. The sandbox the agent runs in, not
 * this matcher, is the security boundary; the policy decides what a person is asked about.
 */
#ifndef DROVER_CORE_AUTONOMY_H
#define DROVER_CORE_AUTONOMY_H

#include <jansson.h>

#include "core/err.h"

enum autonomy_action { AUTONOMY_ALLOW, AUTONOMY_ASK, AUTONOMY_DENY };

#define AUTONOMY_MAX_RULES 500     /* per list */
#define AUTONOMY_MAX_RULE_LEN 1000 /* bytes */

/*
 * Check a policy. Returns 0 with *normalized (owned by the caller) set to a copy carrying
 * every key, defaults filled in; or -1 with ERR_INVALID naming the offending key or rule
 * ("ask[2]: unbalanced parentheses in 'Bash(ls'") and *normalized NULL.
 */
int autonomy_policy_check(const json_t *policy, json_t **normalized, struct err *err);

struct autonomy_decision {
    enum autonomy_action action;
    /* What decided: "deny: <rule>", "ask: <rule>", "allow: <rule>", or a category:
     * "outside_repo", "network", "opaque" (a command that hides what it runs), "default". */
    char rule[256];
    /* The call in words: "Bash(git push --force origin x)", "Edit(.github/workflows/ci.yml)"
     * (repo-relative inside the repository, absolute outside); "..." when truncated. */
    char action_text[512];
};

/*
 * Decide one tool call: `tool_name` with its `input` object (the tool's own arguments).
 * repo_root is the absolute path of the repository's working tree (the call's cwd), or NULL
 * when there is none (every path is then outside). `policy` must have passed
 * autonomy_policy_check (its original or normalized form). Never fails: missing or
 * non-string fields leave the call with an empty specifier, which only bare rules match.
 */
void autonomy_decide(const json_t *policy, const char *tool_name, const json_t *input,
                     const char *repo_root, struct autonomy_decision *d);

/* "allow", "ask" or "deny". */
const char *autonomy_action_name(enum autonomy_action a);

#endif
