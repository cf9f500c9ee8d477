#!/usr/bin/env bash
# The official MCP TypeScript SDK client over Streamable HTTP and WebSocket, with a bearer
# token, lists the tools and calls every one (tests/protocol/sdk-client.mjs); then the database
# must show what the calls did.
source "$(dirname "$0")/../protocol/lib.sh"

proto_npm_tools
proto_db
proto_serve
proto_agent_token sdk-e2e
task_a=$(proto_enqueue "sdk e2e task A" "first" 5)
task_b=$(proto_enqueue "sdk e2e task B" "second" 1)

DROVER_URL=$PROTO_URL DROVER_TOKEN=$DROVER_TOKEN AGENT_ID=$AGENT_ID TASK_A=$task_a TASK_B=$task_b \
  DROVER_NPM_TOOLS=$PROTO_NPM timeout 120 "$PROTO_NODE" "$PROTO_ROOT/tests/protocol/sdk-client.mjs" \
  >"$PROTO_TMP/sdk.log" 2>&1 || proto_fail "SDK client failed: $(cat "$PROTO_TMP/sdk.log")"
cat "$PROTO_TMP/sdk.log"

# What the database says: A completed by this agent with its logs and branch; B parked.
got=$(proto_psql -F' ' -c "SELECT state, agent_id, branch IS NOT NULL FROM tasks WHERE id = $task_a")
[ "$got" = "completed $AGENT_ID t" ] || proto_fail "task A: $got"
logs=$(proto_psql -c "SELECT count(*) FROM activity WHERE task_id = $task_a AND kind = 'log'
                      AND message LIKE 'sdk e2e:%'")
[ "$logs" = 3 ] || proto_fail "task A has $logs log rows, want 3"
got=$(proto_psql -F' ' -c "SELECT state, question IS NOT NULL, pull_request IS NOT NULL
                           FROM tasks WHERE id = $task_b")
[ "$got" = "needs_input t t" ] || proto_fail "task B: $got"
proto_log "PASS: SDK client over HTTP and WebSocket"
