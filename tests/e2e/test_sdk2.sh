#!/usr/bin/env bash
# The v2 MCP TypeScript SDK client (@modelcontextprotocol/client, protocol 2026-07-28) over
# Streamable HTTP with a bearer token: the modern era pinned (every agent tool called, and the
# submitter tools with an admin token), 'auto' negotiation choosing the modern era, and the
# default legacy mode on the same endpoint
# (tests/protocol/sdk2-client.mjs); then the database must show what the calls did.
source "$(dirname "$0")/../protocol/lib.sh"

proto_npm_tools
proto_db
proto_serve
proto_agent_token sdk2-e2e
task_a=$(proto_enqueue "sdk2 e2e task A" "first" 5)
task_b=$(proto_enqueue "sdk2 e2e task B" "second" 1)
submit_token=$(drover_token admin sdk2-dev)
"$PROTO_DROVERD" project add --name sdk2web --repo-url "$(proto_repo)" >/dev/null ||
  proto_fail "project add failed"

DROVER_URL=$PROTO_URL DROVER_TOKEN=$DROVER_TOKEN TASK_A=$task_a TASK_B=$task_b \
  SUBMIT_TOKEN=$submit_token PROJECT=sdk2web \
  DROVER_NPM_TOOLS=$PROTO_NPM timeout 120 "$PROTO_NODE" "$PROTO_ROOT/tests/protocol/sdk2-client.mjs" \
  >"$PROTO_TMP/sdk2.log" 2>&1 || proto_fail "v2 SDK client failed: $(cat "$PROTO_TMP/sdk2.log")"
cat "$PROTO_TMP/sdk2.log"

got=$(proto_psql -F' ' -c "SELECT state, agent_id, branch IS NOT NULL FROM tasks WHERE id = $task_a")
[ "$got" = "completed $AGENT_ID t" ] || proto_fail "task A: $got"
logs=$(proto_psql -c "SELECT count(*) FROM activity WHERE task_id = $task_a AND kind = 'log'
                      AND message LIKE 'sdk2 e2e:%'")
[ "$logs" = 3 ] || proto_fail "task A has $logs log rows, want 3"
got=$(proto_psql -F' ' -c "SELECT state, question IS NOT NULL, pull_request IS NOT NULL
                           FROM tasks WHERE id = $task_b")
[ "$got" = "needs_input t t" ] || proto_fail "task B: $got"
# The modern era made no session; the legacy connect made one.
sessions=$(proto_psql -c "SELECT count(*) FROM mcp_sessions")
[ "$sessions" = 1 ] || proto_fail "$sessions sessions, want 1 (the legacy-mode connect only)"
got=$(proto_psql -F' ' -c "SELECT t.state, p.name, t.budget->>'tokens' FROM tasks t JOIN projects p ON p.id = t.project_id
                           WHERE t.description = 'sdk2 e2e: delegated work'")
[ "$got" = "cancelled sdk2web 1000" ] || proto_fail "submitted task: $got"
proto_log "PASS: v2 SDK client in the modern era (agent and submitter) and legacy mode"
