/*
 * The JSON every reader returns for a task row `t` joined with its project `p` (as
 * `... FROM tasks t LEFT JOIN projects p ON p.id = t.project_id`): one definition, so the MCP
 * tools, the queue functions and the REST API cannot drift apart. SQL text only. The project's
 * giteaRepoUrl repeats repoUrl under the seed design's name, so the seed's scripts run as they are.
 */
#ifndef DROVER_STORE_TASKJSON_H
#define DROVER_STORE_TASKJSON_H

#include "core/model.h"

/* The base branch of a task: its own, its project's, else the model's default. */
#define TASKJSON_BASE "coalesce(t.base_branch, p.default_branch, '" MODEL_DEFAULT_BRANCH "')"

#define TASKJSON_SQL                                                                               \
    "jsonb_build_object('id', t.id, 'title', t.title, 'description', t.description,"               \
    " 'state', t.state, 'priority', t.priority, 'model', t.model, 'attempt', t.attempt,"           \
    " 'max_attempts', t.max_attempts, 'lease_epoch', t.lease_epoch,"                               \
    " 'lease_expires_at', t.lease_expires_at, 'run_after', t.run_after, 'branch', t.branch,"       \
    " 'base_branch', " TASKJSON_BASE ","                                                           \
    " 'base_given', (coalesce(t.base_branch, p.default_branch) IS NOT NULL),"                      \
    " 'agent_id', t.agent_id, 'parent_id', t.parent_id, 'timeout_seconds', t.timeout_seconds,"     \
    " 'reason', t.reason, 'question', t.question, 'context', t.context,"                           \
    " 'last_error', t.last_error, 'pull_request', t.pull_request, 'result', t.result,"             \
    " 'budget', t.budget, 'usage', t.usage, 'idempotency_key', t.idempotency_key,"                 \
    " 'created_at', t.created_at, 'started_at', t.started_at, 'finished_at', t.finished_at,"       \
    " 'updated_at', t.updated_at, 'is_group', t.is_group,"                                         \
    " 'forge_author', t.forge_author, 'forge_requester', t.forge_requester,"                       \
    " 'approval', (SELECT jsonb_build_object('id', a.id, 'action', a.action, 'rule', a.rule,"      \
    "   'tool_name', a.tool_name, 'created_at', a.created_at, 'expires_at', a.expires_at)"         \
    "  FROM approvals a WHERE a.task_id = t.id AND a.state = 'pending'"                            \
    "   AND a.lease_epoch = t.lease_epoch AND t.state = 'in_progress' ORDER BY a.id LIMIT 1),"     \
    " 'autonomy', (SELECT CASE WHEN v.enabled THEN jsonb_build_object('version', v.version,"       \
    "   'approval_timeout_seconds', v.approval_timeout_seconds) END FROM project_policies v"       \
    "  WHERE v.project_id = t.project_id ORDER BY v.version DESC LIMIT 1),"                        \
    " 'duration_seconds', CASE WHEN t.started_at IS NULL THEN NULL ELSE"                           \
    "   extract(epoch FROM coalesce(t.finished_at, now()) - t.started_at) END,"                    \
    " 'project', jsonb_build_object('id', p.id, 'name', p.name,"                                   \
    "   'repoUrl', coalesce(t.repo_url, p.repo_url), 'agent', p.settings->'agent',"                \
    "   'giteaRepoUrl', coalesce(t.repo_url, p.repo_url),"                                         \
    "   'defaultBranch', " TASKJSON_BASE "))"

#endif
