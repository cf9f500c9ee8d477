#!/usr/bin/env bash
# The v2 MCP TypeScript SDK client (@modelcontextprotocol/client, protocol 2026-07-28) over
# Streamable HTTP with a bearer token: the modern era pinned (every agent tool called, and the
# submitter tools with an admin token), 'auto' negotiation choosing the modern era, and the
# default legacy mode on the same endpoint
# (tests/protocol/sdk2-client.mjs); then the database must show what the calls did.
source "$(dirname "$0")/../protocol/lib.sh"

proto_sdk_start sdk2-e2e "sdk2 e2e"
submit_token=$(drover_token developer sdk2-dev)
"$PROTO_DROVERD" project add --name sdk2web --repo-url "$(proto_repo)" >/dev/null ||
  proto_fail "project add failed"

DROVER_URL=$PROTO_URL DROVER_TOKEN=$DROVER_TOKEN TASK_A=$SDK_TASK_A TASK_B=$SDK_TASK_B \
  SUBMIT_TOKEN=$submit_token PROJECT=sdk2web \
  DROVER_NPM_TOOLS=$PROTO_NPM timeout 120 "$PROTO_NODE" "$PROTO_ROOT/tests/protocol/sdk2-client.mjs" \
  >"$PROTO_TMP/sdk2.log" 2>&1 || proto_fail "v2 SDK client failed: $(cat "$PROTO_TMP/sdk2.log")"
cat "$PROTO_TMP/sdk2.log"

proto_sdk_check "sdk2 e2e"
# The modern era made no session; the legacy connect made one.
sessions=$(proto_psql -c "SELECT count(*) FROM mcp_sessions")
[ "$sessions" = 1 ] || proto_fail "$sessions sessions, want 1 (the legacy-mode connect only)"
got=$(proto_psql -F' ' -c "SELECT t.state, p.name, t.budget->>'tokens' FROM tasks t JOIN projects p ON p.id = t.project_id
                           WHERE t.description = 'sdk2 e2e: delegated work'")
[ "$got" = "cancelled sdk2web 1000" ] || proto_fail "submitted task: $got"
proto_log "PASS: v2 SDK client in the modern era (agent and submitter) and legacy mode"
