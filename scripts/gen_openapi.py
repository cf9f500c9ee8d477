#!/usr/bin/env python3
# Writes server/api/openapi.json, the REST API's OpenAPI 3 document. The document is kept
# in the repository (droverd embeds it); tests/unit/check_openapi.c checks that it names every
# route in the route tables and nothing else, and scripts/gen_api_md.py renders docs/api.md.
import json
def err(): return {"$ref": "#/components/responses/Error"}
def ok(desc, schema=None, code="200", ctype="application/json"):
    r = {"description": desc}
    if schema is not None: r["content"] = {ctype: {"schema": schema}}
    return {code: r}
def ref(n): return {"$ref": "#/components/schemas/" + n}
def q(name, desc, typ="string", **kw):
    s = {"type": typ}; s.update(kw)
    return {"name": name, "in": "query", "required": False, "description": desc, "schema": s}
pid = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
def op(summary, scope, responses, params=None, body=None, desc=None, tags=None):
    o = {"summary": summary, "x-drover-scope": scope, "responses": {}}
    if desc: o["description"] = desc
    if tags: o["tags"] = tags
    if params: o["parameters"] = params
    if body: o["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    for r in responses: o["responses"].update(r)
    o["responses"]["default"] = err()
    if scope == "public": o["security"] = []
    return o
sse = {"text/event-stream": {"schema": {"type": "string"}}}
paths = {
 "/api/tasks": {
  "post": op("Create a task (or a fan-out group of agent_count tasks)", "developer", [ok("The task (created: false when the Idempotency-Key was seen before)", ref("Task"), "202")],
     params=[{"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string", "maxLength": 180}, "description": "Repeat a request safely: the same key returns the same task(s)."}],
     body=ref("NewTask"), tags=["tasks"]),
  "get": op("List tasks, newest first, in cursor pages", "operator", [ok("A page of tasks", ref("TaskPage"))],
     params=[q("state", "Only tasks in this state", enum=["backlog","in_progress","ready_to_test","needs_input","completed","failed","cancelled"]),
             q("project", "Project id or name"), q("agent", "Agent id (UUID)"), q("parent", "Fan-out parent task id", "integer"),
             q("limit", "Page size, 1-200 (default 50)", "integer"), q("cursor", "next_cursor of the previous page")], tags=["tasks"])},
 "/api/tasks/{id}": {"get": op("One task with its history, duration and fan-out children", "operator", [ok("The task", ref("Task"))], params=[pid], tags=["tasks"])},
 "/api/tasks/{id}/cancel": {"post": op("Cancel a task (and the open children of a fan-out group)", "developer", [ok("The task", ref("Task"))], params=[pid],
     desc="Optional body {\"reason\": \"...\"}. 409 invalid_transition when the task already finished.", tags=["tasks"])},
 "/api/tasks/{id}/answer": {"post": op("Answer a needs_input task: it returns to the backlog with the answer in its context", "developer", [ok("The task", ref("Task"))], params=[pid],
     body={"type": "object", "required": ["answer"], "properties": {"answer": {"type": "string", "minLength": 1}}}, tags=["tasks"])},
 "/api/tasks/{id}/retry": {"post": op("Retry a failed or cancelled task with a fresh attempt budget", "developer", [ok("The task", ref("Task"))], params=[pid], tags=["tasks"])},
 "/api/tasks/{id}/accept": {"post": op("Accept a ready_to_test task: it is completed", "developer", [ok("The task", ref("Task"))], params=[pid],
     desc="Optional body {\"comment\": \"...\"}, kept in the task's context. 409 invalid_transition unless the task is ready_to_test. A developer may accept its own tasks (or a project's, with the project setting developer_access: project).", tags=["review"])},
 "/api/tasks/{id}/rework": {"post": op("Send a ready_to_test task back for another attempt on the same branch", "developer", [ok("The task, in backlog", ref("Task"))], params=[pid],
     desc="The next attempt's prompt carries the instructions, the earlier result and every review comment a forge webhook delivered since the last rework, with a review's inline comments (read from the forge's REST API: path, line, comment, author) grouped per file. The attempt budget starts afresh: a rework is not a failure.",
     body={"type": "object", "required": ["instructions"], "properties": {"instructions": {"type": "string", "minLength": 1, "maxLength": 20000}}}, tags=["review"])},
 "/api/tasks/{id}/reject": {"post": op("Reject a ready_to_test task: it is cancelled", "developer", [ok("The task", ref("Task"))], params=[pid],
     desc="Optional body {\"reason\": \"...\"}; recorded as \"rejected by <who>: <reason>\".", tags=["review"])},
 "/api/tasks/{id}/logs": {"get": op("A task's activity (log lines and state changes), paged by activity id; follow=1 streams it as server-sent events", "operator",
     [{"200": {"description": "A page of entries, or an event stream with follow=1", "content": {"application/json": {"schema": ref("LogPage")}, **sse}}}],
     params=[pid, q("after", "Only entries with a larger id", "integer"), q("limit", "1-1000 (default 200)", "integer"), q("follow", "1 = stream as SSE (Last-Event-ID resumes)", "integer")], tags=["tasks"])},
 "/api/hooks/forge/gitea/{project}": {"post": op("A Gitea or Forgejo webhook delivery for a project", "public", [ok("Applied (or acknowledged)", ref("HookResult")), ok("A task was created for an issue", ref("HookResult"), "202")], params=[{"name": "project", "in": "path", "required": True, "schema": {"type": "string"}}],
     desc="Public: authenticated by the forge's own proof instead of a bearer token, against $DROVER_WEBHOOK_SECRET_<PROJECT> (else $DROVER_WEBHOOK_SECRET). Headers: X-Gitea-Signature or X-Forgejo-Signature (hex HMAC-SHA256 of the body), X-Gitea-Event-Type, X-Gitea-Delivery. Replays (the same delivery id, or the same body under a new one) answer 200 {\"result\": \"duplicate\"} and change nothing; unknown events answer 200 {\"result\": \"ignored\"}; a bad or missing signature is 401 bad_signature and changes nothing. result is one of pong, ignored, no_task, duplicate, completed, merged_noted, cancelled, closed_noted, pr_state, comment_kept, rework, task_created, task_exists. See docs/operations.md, \"Forge webhooks\".", body={"type": "object"}, tags=["webhooks"])},
 "/api/hooks/forge/gitlab/{project}": {"post": op("A GitLab webhook delivery for a project", "public", [ok("Applied (or acknowledged)", ref("HookResult")), ok("A task was created for an issue", ref("HookResult"), "202")], params=[{"name": "project", "in": "path", "required": True, "schema": {"type": "string"}}],
     desc="Public: authenticated by the forge's own proof instead of a bearer token, against $DROVER_WEBHOOK_SECRET_<PROJECT> (else $DROVER_WEBHOOK_SECRET). Headers: X-Gitlab-Token (the secret), or with a whsec_ secret the Standard Webhooks webhook-id / webhook-timestamp / webhook-signature; X-Gitlab-Event; Idempotency-Key. Replays (the same delivery id, or the same body under a new one) answer 200 {\"result\": \"duplicate\"} and change nothing; unknown events answer 200 {\"result\": \"ignored\"}; a bad or missing signature is 401 bad_signature and changes nothing. result is one of pong, ignored, no_task, duplicate, completed, merged_noted, cancelled, closed_noted, pr_state, comment_kept, rework, task_created, task_exists. See docs/operations.md, \"Forge webhooks\".", body={"type": "object"}, tags=["webhooks"])},
 "/api/hooks/forge/github/{project}": {"post": op("A GitHub webhook delivery for a project", "public", [ok("Applied (or acknowledged)", ref("HookResult")), ok("A task was created for an issue", ref("HookResult"), "202")], params=[{"name": "project", "in": "path", "required": True, "schema": {"type": "string"}}],
     desc="Public: authenticated by the forge's own proof instead of a bearer token, against $DROVER_WEBHOOK_SECRET_<PROJECT> (else $DROVER_WEBHOOK_SECRET). Headers: X-Hub-Signature-256 (sha256= hex HMAC-SHA256 of the body), X-GitHub-Event, X-GitHub-Delivery. Replays (the same delivery id, or the same body under a new one) answer 200 {\"result\": \"duplicate\"} and change nothing; unknown events answer 200 {\"result\": \"ignored\"}; a bad or missing signature is 401 bad_signature and changes nothing. result is one of pong, ignored, no_task, duplicate, completed, merged_noted, cancelled, closed_noted, pr_state, comment_kept, rework, task_created, task_exists. See docs/operations.md, \"Forge webhooks\".", body={"type": "object"}, tags=["webhooks"])},
 "/api/projects/{id}/webhook-deliveries": {"get": op("The forge webhook deliveries a project received, newest first", "operator", [ok("The deliveries", {"type": "object", "properties": {"deliveries": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "integer"}, "forge": {"type": "string"}, "delivery_id": {"type": "string"}, "event": {"type": "string"}, "task_id": {"type": ["integer", "null"]}, "outcome": {"type": "string"}, "received_at": {"type": "string"}}}}}})],
     params=[pid, q("limit", "1-500 (default 50)", "integer")], tags=["webhooks"])},
 "/api/notifications/endpoints": {
  "get": op("Where task notifications go", "operator", [ok("The endpoints", {"type": "object", "properties": {"endpoints": {"type": "array", "items": ref("NotifyEndpoint")}}})], tags=["notifications"]),
  "post": op("Send task notifications to a URL", "admin", [ok("The endpoint", ref("NotifyEndpoint"), "201")],
     desc="Task events (needs_input, ready_to_test, failed, completed, budget = a budget stop, cancelled) are written to a durable outbox in the task's own transaction and delivered by droverd's outbox thread: format generic is {\"type\": \"task.<event>\", \"timestamp\", \"data\": {\"task\": {...}}} signed the Standard Webhooks way (webhook-id msg_<n>, stable across retries; webhook-timestamp; webhook-signature v1,<base64 HMAC-SHA256 of id.timestamp.body> with $DROVER_NOTIFY_SECRET_<NAME> else $DROVER_NOTIFY_SECRET, a whsec_ secret base64-decoded); format slack is {\"text\": ...} for a Slack incoming webhook. A 2xx delivers; other answers are retried after 5 s doubling to 1 h; 410 or the 12th failure gives up.",
     body={"type": "object", "required": ["name", "url"], "properties": {"name": {"type": "string"}, "url": {"type": "string", "format": "uri"}, "format": {"type": "string", "enum": ["generic", "slack"]}, "events": {"type": "array", "items": {"type": "string", "enum": ["needs_input", "ready_to_test", "failed", "completed", "budget", "cancelled"]}}, "project": {"type": "string", "description": "Only this project's tasks (id or name); default all"}}}, tags=["notifications"])},
 "/api/notifications/endpoints/{id}": {"delete": op("Stop sending to an endpoint (its pending messages go with it)", "admin", [ok("Deleted", ref("Deleted"))], params=[pid], tags=["notifications"])},
 "/api/notifications/deliveries": {"get": op("The outbox: each message, its state (pending, delivered, dead), attempts and last answer, newest first", "operator", [ok("The deliveries", {"type": "object", "properties": {"deliveries": {"type": "array", "items": {"type": "object"}}}})],
     params=[q("task", "Only this task's messages", "integer"), q("limit", "1-500 (default 50)", "integer")], tags=["notifications"])},
 "/api/agents": {"post": op("Start an agent (a new pod)", "admin", [ok("The agent", ref("Agent"), "201")], tags=["pool"]),
  "get": op("Agents with status, pod, last heartbeat and its age, current task and uptime", "operator", [ok("The agents", {"type": "object", "properties": {"agents": {"type": "array", "items": ref("Agent")}}})],
     params=[q("status", "Only agents in this status", enum=["initializing","idle","busy","draining","offline","unusable"]), q("all", "1 = include agents offline for over an hour")], tags=["agents"])},
 "/api/agents/{id}/logs": {"get": op("The agent pod's own output, from the pod backend; follow=1 streams it as server-sent events", "operator",
     [{"200": {"description": "Plain text, or an event stream with follow=1", "content": {"text/plain": {"schema": {"type": "string"}}, **sse}}}],
     params=[pid, q("tail", "Lines from the end, 1-10000 (default 200)", "integer"), q("follow", "1 = stream as SSE", "integer")], tags=["agents"])},
 "/api/projects": {
  "get": op("List projects", "operator", [ok("The projects", {"type": "object", "properties": {"projects": {"type": "array", "items": ref("Project")}}})], tags=["projects"]),
  "post": op("Create a project", "admin", [ok("The project", ref("Project"), "201")], body=ref("ProjectInput"), tags=["projects"])},
 "/api/projects/{id}": {
  "get": op("One project (by id or name)", "operator", [ok("The project", ref("Project"))], params=[pid], tags=["projects"]),
  "put": op("Change a project's fields (absent fields stay)", "admin", [ok("The project", ref("Project"))], params=[pid], body=ref("ProjectInput"), tags=["projects"]),
  "delete": op("Delete a project without tasks", "admin", [ok("Deleted", ref("Deleted"))], params=[pid], tags=["projects"])},
 "/api/schedules": {
  "get": op("Scheduled tasks with their next run", "operator", [ok("The schedules", {"type": "object", "properties": {"schedules": {"type": "array", "items": ref("Schedule")}}})], tags=["triggers"]),
  "post": op("Create a scheduled task (5-field cron, UTC)", "admin", [ok("The schedule", ref("Schedule"), "201")],
     body={"type": "object", "required": ["name", "project", "cron", "prompt"], "properties": {"name": {"type": "string"}, "project": {"oneOf": [{"type": "string"}, {"type": "integer"}]}, "cron": {"type": "string", "example": "0 3 * * 1-5"}, "title": {"type": "string"}, "prompt": {"type": "string"}, "priority": {"type": "integer"}, "enabled": {"type": "boolean"}}}, tags=["triggers"])},
 "/api/schedules/{id}": {"delete": op("Delete a schedule", "admin", [ok("Deleted", ref("Deleted"))], params=[pid], tags=["triggers"])},
 "/api/hooks/alertmanager": {"post": op("Alertmanager webhook (version 4): one task per firing alert group, deduplicated by groupKey", "admin",
     [ok("Deduplicated into the group's open task, or resolved", ref("HookResult")), ok("A task was created", ref("HookResult"), "202")],
     params=[q("project", "The project the alerts are for"),
             q("projects", "Comma-separated projects a drover_project label may choose (when ?project is not given); a label naming another is 403"),
             q("project_label", "`any`: let the drover_project label choose any project (label values can come from scraped targets)")],
     body={"type": "object", "required": ["version", "groupKey", "status", "alerts"], "properties": {"version": {"type": "string", "enum": ["4"]}, "groupKey": {"type": "string"}, "status": {"type": "string", "enum": ["firing", "resolved"]}, "receiver": {"type": "string"}, "groupLabels": {"type": "object"}, "commonLabels": {"type": "object"}, "commonAnnotations": {"type": "object"}, "externalURL": {"type": "string"}, "alerts": {"type": "array", "items": {"type": "object"}}}}, tags=["triggers"])},
 "/api/events": {"get": op("Heartbeats, task transitions, log lines and scale decisions; follow=1 streams them as server-sent events", "operator",
     [{"200": {"description": "A page of events, or an event stream with follow=1 (each event's id is a cursor; Last-Event-ID resumes)", "content": {"application/json": {"schema": ref("EventPage")}, **sse}}}],
     params=[q("after", "Cursor: the id of the last event seen; 0.0 or absent = from the start, now = only the current cursor"), q("limit", "1-1000 (default 200)", "integer"), q("follow", "1 = stream as SSE", "integer")], tags=["events"])},
 "/api/tokens": {
  "get": op("List API tokens (never their secrets)", "admin", [ok("The tokens", {"type": "object", "properties": {"tokens": {"type": "array", "items": {"type": "object"}}}})], tags=["tokens"]),
  "post": op("Create a token; the secret is in this response only", "admin", [ok("The token", {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "scope": {"type": "string"}, "token": {"type": "string"}}}, "201")],
     body={"type": "object", "required": ["name", "scope"], "properties": {"name": {"type": "string"}, "scope": {"type": "string", "enum": ["agent", "developer", "operator", "admin"]}, "agent_id": {"type": "string", "format": "uuid"}}}, tags=["tokens"])},
 "/api/tokens/{id}": {"delete": op("Revoke a token", "admin", [ok("Revoked", {"type": "object"})], params=[pid], tags=["tokens"])},
 "/api/pool": {
  "get": op("Pool settings and state: min/max/target/actual, pinned target, leader replica, recent scale decisions", "operator", [ok("The pool", {"type": "object"})], tags=["pool"]),
  "put": op("Change min_agents / max_agents", "admin", [ok("The pool", {"type": "object"})], body={"type": "object", "properties": {"min_agents": {"type": "integer", "minimum": 0}, "max_agents": {"type": "integer", "minimum": 0}}}, tags=["pool"])},
 "/api/pool/scale": {"post": op("Pin the pool to a target size (for a while), or unpin", "admin", [ok("The pool", {"type": "object"})], body={"type": "object", "required": ["count"], "properties": {"count": {"type": ["integer", "null"], "minimum": 0, "description": "null unpins"}, "ttl_seconds": {"type": "integer", "minimum": 1, "description": "how long the pin lasts"}}}, tags=["pool"])},
 "/api/agents/{id}": {"get": op("One agent", "operator", [ok("The agent", ref("Agent"))], params=[pid], tags=["agents"]),
  "delete": op("Drain an agent (it finishes its task, then its pod is deleted)", "admin", [ok("The agent", ref("Agent"))], params=[pid], tags=["pool"])},
 "/api/stream/activity": {"get": op("Every activity row as server-sent events (id = activity id; Last-Event-ID resumes)", "operator",
     [{"200": {"description": "An event stream", "content": sse}}],
     params=[q("task_id", "Only this task's rows", "integer"), q("after", "Only rows with a larger id", "integer")], tags=["events"])},
 "/api/whoami": {"get": op("Who the presented token is: scope, name and token id", "operator", [ok("The caller", {"type": "object", "properties": {"scope": {"type": "string"}, "name": {"type": "string"}, "token_id": {"type": "integer"}}})], tags=["meta"])},
 "/api/openapi.json": {"get": op("This document", "public", [ok("OpenAPI 3 document", {"type": "object"})], tags=["meta"])},
 "/metrics": {"get": op("Prometheus metrics (text format 0.0.4), names prefixed drover_", "public", [ok("Metrics", {"type": "string"}, "200", "text/plain")], tags=["meta"])},
}
schemas = {
 "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {"code": {"type": "string", "description": "Stable, snake_case"}, "message": {"type": "string", "description": "What to fix"}}}}},
 "NewTask": {"type": "object", "description": "prompt (or task / description) is required, and a project or a repository; with neither, droverd --default-project names the project (the seed's {\"task\": \"...\"}), else the answer is 400 naming \"project\".", "properties": {
    "prompt": {"type": "string", "minLength": 1}, "task": {"type": "string", "description": "Alias of prompt"}, "title": {"type": "string", "maxLength": 500}, "description": {"type": "string"},
    "project": {"oneOf": [{"type": "string"}, {"type": "integer"}]}, "repository": {"type": "string"}, "branch": {"type": "string", "description": "Base branch"},
    "priority": {"type": "integer", "minimum": -1000, "maximum": 1000}, "model": {"type": "string"}, "max_attempts": {"type": "integer", "minimum": 1, "maximum": 100},
    "timeout_seconds": {"type": "integer", "minimum": 1, "maximum": 604800},
    "budget": {"type": "object", "properties": {"tokens": {"type": "integer", "minimum": 1}, "usd": {"type": "number", "exclusiveMinimum": 0}}},
    "agent_count": {"type": "integer", "minimum": 1, "maximum": 10, "description": "Fan-out: one prompt worked by N agents, each its own task and branch, grouped under a parent"}}},
 "HookResult": {"type": "object", "properties": {"result": {"type": "string"}, "event": {"type": "string"}, "task_id": {"type": "integer"}}},
 "NotifyEndpoint": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "url": {"type": "string"}, "format": {"type": "string"}, "events": {"type": "array", "items": {"type": "string"}}, "project_id": {"type": ["integer", "null"]}}},
 "Task": {"type": "object", "properties": {"id": {"type": "integer"}, "title": {"type": "string"}, "description": {"type": "string"}, "state": {"type": "string"}, "priority": {"type": "integer"}, "branch": {"type": ["string", "null"]}, "agent_id": {"type": ["string", "null"]}, "parent_id": {"type": ["integer", "null"]}, "question": {"type": ["string", "null"]}, "pull_request": {}, "is_group": {"type": "boolean"}, "duration_seconds": {"type": ["number", "null"]}, "history": {"type": "array", "items": {"type": "object"}}, "children": {"type": "array", "items": {"type": "object"}}, "project": {"type": "object"}}},
 "TaskPage": {"type": "object", "properties": {"tasks": {"type": "array", "items": ref("Task")}, "next_cursor": {"type": ["string", "null"]}}},
 "LogPage": {"type": "object", "properties": {"task_id": {"type": "integer"}, "entries": {"type": "array", "items": {"type": "object"}}, "next_after": {"type": "integer"}}},
 "Agent": {"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "status": {"type": "string", "enum": ["initializing", "idle", "busy", "draining", "offline", "unusable"]}, "unusable_reason": {"type": ["string", "null"], "description": "why the agent takes no task (no coding command, no model credentials)"}, "offline_reason": {"type": ["string", "null"]}, "pod_name": {"type": ["string", "null"]}, "last_heartbeat_at": {"type": ["string", "null"]}, "heartbeat_age_seconds": {"type": ["number", "null"]}, "uptime_seconds": {"type": "number"}, "current_task": {}}},
 "Project": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "repository": {"type": "string"}, "default_branch": {"type": "string"}, "forge_kind": {"type": "string"}, "forge_api_url": {"type": ["string", "null"]}, "forge_repo_path": {"type": ["string", "null"]}, "settings": {"type": "object"}}},
 "ProjectInput": {"type": "object", "properties": {"name": {"type": "string"}, "repository": {"type": "string"}, "default_branch": {"type": "string"}, "forge_kind": {"type": "string", "enum": ["git", "gitea", "gitlab", "github"]}, "forge_api_url": {"type": "string"}, "forge_repo_path": {"type": "string"}, "settings": {"type": "object", "description": "Free-form; alert_template is the Alertmanager prompt template"}}},
 "Schedule": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "cron": {"type": "string"}, "next_run_at": {"type": ["string", "null"]}, "last_slot": {"type": ["string", "null"]}}},
 "HookResult": {"type": "object", "properties": {"result": {"type": "string", "enum": ["created", "deduplicated", "resolved"]}, "groupKey": {"type": "string"}, "task": {}}},
 "EventPage": {"type": "object", "properties": {"events": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string"}, "event": {"type": "string", "enum": ["task", "log", "system", "scale", "heartbeat"]}, "data": {"type": "object"}}}}, "next": {"type": "string"}}},
 "Deleted": {"type": "object", "properties": {"id": {"type": "integer"}, "deleted": {"type": "boolean"}}},
}
doc = {"openapi": "3.1.0", "info": {"title": "Drover REST API", "version": "0.1.0",
  "description": "Tasks, agents, projects, triggers and events for operators (read) and admins (write). Authenticate with Authorization: Bearer <token>; agent tokens are refused. Every error is {\"error\": {\"code\", \"message\"}}."},
  "servers": [{"url": "/"}], "security": [{"bearer": []}],
  "paths": paths,
  "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}, "schemas": schemas,
     "responses": {"Error": {"description": "An error (400 bad input, 401 no/bad token, 403 scope, 404 unknown, 409 conflict, 503 database)", "content": {"application/json": {"schema": ref("Error")}}}}}}
import os, sys
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
with open(os.path.join(root, "server/api/openapi.json"), "w") as f:
    json.dump(doc, f, indent=1)
    f.write("\n")
