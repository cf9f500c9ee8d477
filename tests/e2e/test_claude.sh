#!/usr/bin/env bash
# Claude Code (npm @anthropic-ai/claude-code), offline with a scratch HOME and no login:
# `claude mcp list` health-checks droverd configured over "http" (claude mcp add --transport
# http --header) and over "ws" (claude mcp add-json with {"type":"ws"}), both with the agent's
# bearer token, and must show both connected. A third entry with a wrong token must fail, so
# the check cannot pass by accident. A fourth, the way docs/mcp.md tells a developer to add
# Drover to delegate work (a submitter's token, kept out of the config as ${DROVER_DEV_TOKEN}),
# must connect too. If Claude Code cannot run here this test FAILS under CI.
source "$(dirname "$0")/../protocol/lib.sh"

proto_npm_tools
proto_db
proto_serve
proto_agent_token claude-e2e

claude=$PROTO_NPM/node_modules/.bin/claude
export HOME=$PROTO_TMP/home
export CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 DISABLE_AUTOUPDATER=1
unset ANTHROPIC_API_KEY CLAUDE_CODE_OAUTH_TOKEN || true
mkdir -p "$HOME/project"
cd "$HOME/project" || exit 1
timeout 60 "$claude" --version >"$PROTO_TMP/claude-version.log" 2>&1 </dev/null ||
  proto_missing "Claude Code does not run here: $(cat "$PROTO_TMP/claude-version.log")"

cc() { timeout 60 "$claude" "$@" </dev/null; }
ws_url="ws://127.0.0.1:$PROTO_PORT/ws"
cc mcp add --transport http drover-http "$PROTO_URL/mcp" \
  --header "Authorization: Bearer $DROVER_TOKEN" >"$PROTO_TMP/claude-add.log" 2>&1 ||
  proto_fail "claude mcp add (http) failed"
cc mcp add-json drover-ws \
  "{\"type\":\"ws\",\"url\":\"$ws_url\",\"headers\":{\"Authorization\":\"Bearer $DROVER_TOKEN\"}}" \
  >>"$PROTO_TMP/claude-add.log" 2>&1 || proto_fail "claude mcp add-json (ws) failed"
cc mcp add --transport http drover-badtoken "$PROTO_URL/mcp" \
  --header "Authorization: Bearer not-a-token" >>"$PROTO_TMP/claude-add.log" 2>&1 ||
  proto_fail "claude mcp add (bad token) failed"

dev_token=$(drover_token developer claude-dev)
cc mcp add --transport http drover-dev "$PROTO_URL/mcp" \
  --header 'Authorization: Bearer ${DROVER_DEV_TOKEN}' >>"$PROTO_TMP/claude-add.log" 2>&1 ||
  proto_fail "claude mcp add (developer) failed"
grep -q "$dev_token" "$HOME/.claude.json" && proto_fail "the developer token was written to the config"

DROVER_DEV_TOKEN=$dev_token cc mcp list >"$PROTO_TMP/claude-list.log" 2>&1 || true
cat "$PROTO_TMP/claude-list.log"
grep -Eq "^drover-http: $PROTO_URL/mcp \(HTTP\) - .*Connected" "$PROTO_TMP/claude-list.log" ||
  proto_fail "claude mcp list does not show drover-http connected"
grep -Eq "^drover-ws: .*Connected" "$PROTO_TMP/claude-list.log" ||
  proto_fail "claude mcp list does not show drover-ws connected"
grep -Eq "^drover-dev: $PROTO_URL/mcp \(HTTP\) - .*Connected" "$PROTO_TMP/claude-list.log" ||
  proto_fail "claude mcp list does not show drover-dev (a submitter's token) connected"
grep -Eq "^drover-badtoken: .*Failed" "$PROTO_TMP/claude-list.log" ||
  proto_fail "claude mcp list shows the wrong-token server as not failed"
proto_log "PASS: Claude Code connects over http and ws (agent and developer), and fails with a wrong token"
