#!/usr/bin/env bash
# Claude Code as a developer's agent delegating work to the pool, offline: `claude -p` with
# Drover added the way docs/mcp.md says (a developer token as ${DROVER_DEV_TOKEN}) and the
# Messages API scripted by tests/fakes/fake_messages.py, which has the model call
# mcp__drover__submit_task. Drover must hold the task afterwards (project, prompt, priority,
# budget as asked), and Claude Code's final text must quote the task handle droverd returned.
# ENABLE_TOOL_SEARCH=false: Claude Code 2.1.330 otherwise defers MCP tools behind ToolSearch,
# and the scripted model would first have to search for the tool.
# If Claude Code cannot run here this test FAILS under CI.
source "$(dirname "$0")/../protocol/lib.sh"

proto_npm_tools
proto_db
proto_serve
dev_token=$(drover_token developer claude-delegate)
"$PROTO_DROVERD" project add --name webapp --repo-url "$(proto_repo)" >/dev/null ||
  proto_fail "project add failed"

input='{"project":"webapp","prompt":"Add a dark-mode toggle to the settings page","priority":10,"budget":{"tokens":200000}}'
python3 "$PROTO_ROOT/tests/fakes/fake_messages.py" --tool mcp__drover__submit_task \
  --input "$input" --log "$PROTO_TMP/messages.log" >"$PROTO_TMP/fake.port" 2>"$PROTO_TMP/fake.log" &
fake=$!
for _ in $(seq 50); do grep -q PORT= "$PROTO_TMP/fake.port" && break; sleep 0.1; done
api_port=$(sed -n 's/^PORT=//p' "$PROTO_TMP/fake.port")
[ -n "$api_port" ] || proto_fail "fake Messages API did not start"

claude=$PROTO_NPM/node_modules/.bin/claude
export HOME=$PROTO_TMP/home
export CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 DISABLE_AUTOUPDATER=1 DISABLE_TELEMETRY=1
mkdir -p "$HOME/project"
cd "$HOME/project" || exit 1
timeout 60 "$claude" --version >"$PROTO_TMP/claude-version.log" 2>&1 </dev/null ||
  proto_missing "Claude Code does not run here: $(cat "$PROTO_TMP/claude-version.log")"
timeout 60 "$claude" mcp add --transport http drover "$PROTO_URL/mcp" \
  --header 'Authorization: Bearer ${DROVER_DEV_TOKEN}' </dev/null >"$PROTO_TMP/add.log" 2>&1 ||
  proto_fail "claude mcp add failed: $(cat "$PROTO_TMP/add.log")"

set +e
ENABLE_TOOL_SEARCH=false DROVER_DEV_TOKEN=$dev_token ANTHROPIC_BASE_URL=http://127.0.0.1:$api_port ANTHROPIC_API_KEY=sk-fake \
  timeout 120 "$claude" -p "Use drover to delegate: add a dark-mode toggle to webapp's settings page" \
  --allowedTools mcp__drover__submit_task --output-format stream-json --verbose \
  </dev/null >"$PROTO_TMP/claude.jsonl" 2>"$PROTO_TMP/claude.err"
rc=$?
set -e
kill "$fake" 2>/dev/null || true
[ $rc -eq 0 ] || proto_fail "claude -p exited $rc: $(tail -5 "$PROTO_TMP/claude.err") $(tail -3 "$PROTO_TMP/claude.jsonl")"

got=$(proto_psql -F'|' -c "SELECT t.id, p.name, t.priority, t.budget->>'tokens', t.state
                           FROM tasks t JOIN projects p ON p.id = t.project_id
                           WHERE t.description = 'Add a dark-mode toggle to the settings page'")
[[ $got == *"|webapp|10|200000|backlog" ]] || proto_fail "the delegated task: '$got'"
id=${got%%|*}
grep -q "drv-task-$id\." "$PROTO_TMP/claude.jsonl" ||
  proto_fail "Claude Code's transcript does not carry the task handle: $(tail -3 "$PROTO_TMP/claude.jsonl")"
jq -e 'select(.type == "result") | .is_error == false' "$PROTO_TMP/claude.jsonl" >/dev/null ||
  proto_fail "no successful result event"
proto_log "PASS: Claude Code delegated task $id to Drover through submit_task"
