#!/usr/bin/env bash
# The official MCP TypeScript SDK client over Streamable HTTP and WebSocket, with a bearer
# token, lists the tools and calls every one (tests/protocol/sdk-client.mjs); then the database
# must show what the calls did.
source "$(dirname "$0")/../protocol/lib.sh"

proto_sdk_start sdk-e2e "sdk e2e"

DROVER_URL=$PROTO_URL DROVER_TOKEN=$DROVER_TOKEN AGENT_ID=$AGENT_ID TASK_A=$SDK_TASK_A TASK_B=$SDK_TASK_B \
  DROVER_NPM_TOOLS=$PROTO_NPM timeout 120 "$PROTO_NODE" "$PROTO_ROOT/tests/protocol/sdk-client.mjs" \
  >"$PROTO_TMP/sdk.log" 2>&1 || proto_fail "SDK client failed: $(cat "$PROTO_TMP/sdk.log")"
cat "$PROTO_TMP/sdk.log"

# What the database says: A completed by this agent with its logs and branch; B parked.
proto_sdk_check "sdk e2e"
proto_log "PASS: SDK client over HTTP and WebSocket"
