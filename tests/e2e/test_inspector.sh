#!/usr/bin/env bash
# The MCP Inspector CLI (v2, --cli) lists droverd's eight tools with a bearer token, and is
# refused without one.
source "$(dirname "$0")/../protocol/lib.sh"

proto_npm_tools
proto_db
proto_serve
proto_agent_token inspector-e2e

inspector=$PROTO_NPM/node_modules/.bin/mcp-inspector
export HOME=$PROTO_TMP/home # it keeps state under ~/.mcp-inspector
mkdir -p "$HOME"
run() { PATH="$(dirname "$PROTO_NODE"):$PATH" timeout 60 "$inspector" --cli "$PROTO_URL/mcp" --transport http "$@" </dev/null; }

run --header "Authorization: Bearer $DROVER_TOKEN" --method tools/list \
  >"$PROTO_TMP/list.json" 2>"$PROTO_TMP/inspector.log" ||
  proto_fail "inspector tools/list failed: $(cat "$PROTO_TMP/list.json" "$PROTO_TMP/inspector.log")"
names=$(jq -r '(.tools // .result.tools)[].name' "$PROTO_TMP/list.json" | sort | tr '\n' ' ')
want="ask_user_question create_branch create_pull_request get_approval get_git_credential get_next_task heartbeat log_activity request_approval trigger_preview_deploy update_task_status "
[ "$names" = "$want" ] || proto_fail "tools/list gave '$names', want '$want': $(cat "$PROTO_TMP/list.json")"

# A wrong token must not list anything (the Inspector exits non-zero on 401).
if run --header "Authorization: Bearer wrong-$DROVER_TOKEN" --method tools/list \
  >"$PROTO_TMP/bad.json" 2>&1; then
  proto_fail "a wrong token listed tools: $(cat "$PROTO_TMP/bad.json")"
fi
proto_log "PASS: Inspector CLI lists the 8 tools with a bearer token, refuses a wrong one"
