#!/usr/bin/env bash
# The production agent loop with the real Claude Code CLI (issue 12, item 8): drover-agent, with
# no DROVER_CODING_COMMAND, `claude` (the pinned npm package) on PATH and ANTHROPIC_API_KEY +
# ANTHROPIC_BASE_URL set, runs Claude Code against tests/fakes/fake_anthropic.py, a scripted
# Messages API that streams Anthropic's documented SSE events. The scripted model:
#   attempt 1: runs a shell command (Bash), calls the task-scoped log_activity, tries
#              get_next_task (not offered: Claude Code refuses it), asks a question with
#              ask_user_question and ends its turn -> the task goes to needs_input;
#   an answer through POST /api/tasks/{id}/answer resumes it;
#   attempt 2: its prompt carries the question and the answer; it writes GREETING.md (Write),
#              logs, calls create_pull_request with its own summary, trigger_preview_deploy and
#              update_task_status ready_to_test.
# Then: the commit is on the task's branch in the remote, exactly one pull request was opened
# on the (fake GitHub) forge with the model's title and summary as its body, the preview is
# recorded, the task is ready_to_test on attempt 1 (the ask/answer round burnt none), its
# token usage equals what the scripted model reported and its cost what Claude Code computed,
# the model was offered only the task's tools and ran with the task's --model, and the coding
# command's environment never held the agent's token.
source "$(dirname "$0")/../protocol/lib.sh"
export DROVER_PORT_RANGE=${DROVER_PORT_RANGE:-18790-18809}

proto_npm_tools
proto_db
proto_claude_path claude-agent

# --- the scripted model -----------------------------------------------------------------------
Q="Which greeting should GREETING.md carry?"
ANSWER="Hello, world!"
SUMMARY="Scripted summary: adds GREETING.md with the greeting the user chose."
cat >"$W/script.json" <<JSON
[
 {"when": "Question: $Q", "turns": [
   {"blocks": [{"text": "Writing the greeting."},
               {"tool": "Write", "input": {"file_path": "./GREETING.md", "content": "$ANSWER\n"}}],
    "usage": {"input_tokens": 1000, "output_tokens": 40}},
   {"blocks": [{"tool": "mcp__drover__log_activity", "input": {"message": "scripted model: wrote GREETING.md"}}],
    "usage": {"input_tokens": 1100, "output_tokens": 20}},
   {"blocks": [{"tool": "mcp__drover__create_pull_request", "input": {"title": "Add a greeting", "body": "$SUMMARY"}}],
    "usage": {"input_tokens": 1200, "output_tokens": 30}},
   {"blocks": [{"tool": "mcp__drover__trigger_preview_deploy", "input": {}}],
    "usage": {"input_tokens": 1250, "output_tokens": 10}},
   {"blocks": [{"tool": "mcp__drover__update_task_status", "input": {"status": "ready_to_test", "summary": "GREETING.md added"}}],
    "usage": {"input_tokens": 1300, "output_tokens": 15}},
   {"blocks": [{"text": "Done: GREETING.md says hello."}], "usage": {"input_tokens": 1400, "output_tokens": 12}}
 ]},
 {"when": null, "turns": [
   {"blocks": [{"text": "Looking around first."},
               {"tool": "Bash", "input": {"command": "git log --oneline | head -3", "description": "show history"}}],
    "usage": {"input_tokens": 900, "output_tokens": 25}},
   {"blocks": [{"tool": "mcp__drover__log_activity", "input": {"message": "scripted model: read the history"}}],
    "usage": {"input_tokens": 950, "output_tokens": 18}},
   {"blocks": [{"tool": "mcp__drover__get_next_task", "input": {}}],
    "usage": {"input_tokens": 980, "output_tokens": 9}},
   {"blocks": [{"tool": "Edit", "input": {"file_path": "./README", "old_string": "a", "new_string": "b"}}],
    "usage": {"input_tokens": 990, "output_tokens": 7}},
   {"blocks": [{"tool": "mcp__drover__ask_user_question", "input": {"question": "$Q"}}],
    "usage": {"input_tokens": 1010, "output_tokens": 22}},
   {"blocks": [{"text": "I asked; stopping until a person answers."}], "usage": {"input_tokens": 1050, "output_tokens": 11}}
 ]}
]
JSON
KEY=sk-ant-fake-$$
python3 "$PROTO_ROOT/tests/fakes/fake_anthropic.py" --token "$KEY" --script "$W/script.json" \
  >"$W/anthropic.port" 2>"$W/anthropic.log" &
FAKE_PID=$!
FORGE_SECRET=forge-$$-secret
python3 "$PROTO_ROOT/tests/fakes/fake_forge.py" --token "$FORGE_SECRET" >"$W/forge.port" 2>"$W/forge.log" &
FORGE_PID=$!
trap 'kill $FAKE_PID $FORGE_PID 2>/dev/null; rm -rf "$BIN"; proto_cleanup' EXIT
for _ in $(seq 50); do grep -q PORT= "$W/anthropic.port" && grep -q PORT= "$W/forge.port" && break; sleep 0.1; done
API="http://127.0.0.1:$(sed -n 's/^PORT=//p' "$W/anthropic.port")"
FURL="http://127.0.0.1:$(sed -n 's/^PORT=//p' "$W/forge.port")"
[ "$API" != "http://127.0.0.1:" ] && [ "$FURL" != "http://127.0.0.1:" ] || proto_fail "the fakes did not start"

repo=$(proto_repo)
P=$("$DROVERD" project add --name hub --repo-url "$repo" --default-branch main --forge-kind github \
  --forge-api-url "$FURL" --forge-repo-path acme/widgets \
  --settings "{\"preview_webhook\": \"$FURL/_fake/preview\", \"agent\": {\"allowed_tools\": [\"Bash\", \"Write\"],
    \"mcp_servers\": {\"jira\": {\"type\": \"http\", \"url\": \"http://127.0.0.1:9/mcp\",
    \"headers\": {\"Authorization\": \"Bearer \${JIRA_TOKEN}\"}}}}}" | sed -n 's/^PROJECT_ID=//p')
[ -n "$P" ] || proto_fail "project add failed"
DROVER_FORGE_TOKEN_HUB=$FORGE_SECRET proto_serve --heartbeat-interval 1 --sweep-interval 1
ADMIN=$(drover_token admin claude-admin)
proto_agent_token claude-agent
T=$(proto_psql -c "INSERT INTO tasks (project_id, title, description, model)
    VALUES ($P, 'Greet the world', 'Add GREETING.md with a greeting.', 'claude-sonnet-4-5')
    RETURNING id" | head -1)

# --- drover-agent, as an agent pod runs it ------------------------------------------------------
env -i PATH="$BIN" HOME="$W/home" AGENT_ID="$AGENT_ID" DROVER_TOKEN="$DROVER_TOKEN" \
  MCP_SERVER_URL="$PROTO_URL/mcp" DROVER_WORKSPACE="$W/ws" HEARTBEAT_INTERVAL=1 DROVER_POLL_WAIT=1 \
  ANTHROPIC_API_KEY="$KEY" ANTHROPIC_BASE_URL="$API" CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 \
  DISABLE_AUTOUPDATER=1 GIT_CONFIG_NOSYSTEM=1 JIRA_TOKEN=jira-$$-secret "$DROVER_BUILD_DIR/agent/drover-agent" >"$W/agent.log" 2>&1 &
AGENT_PID=$!
wait_state() { # state seconds
  local i s
  for ((i = 0; i < $2 * 5; i++)); do
    s=$(proto_psql -c "SELECT state FROM tasks WHERE id = $T")
    [ "$s" = "$1" ] && return 0
    case $s in failed | cancelled | completed) break ;; esac
    sleep 0.2
  done
  proto_fail "task $T is $s, want $1: $(proto_psql -c "SELECT last_error FROM tasks WHERE id = $T"); activity: $(proto_psql -c "SELECT string_agg(left(message, 300), E'\n' ORDER BY id) FROM activity WHERE task_id = $T")"
}
for _ in $(seq 50); do grep -q "coder=" "$W/agent.log" 2>/dev/null && break; sleep 0.1; done
grep -q "coder='Claude Code (credentials: ANTHROPIC_API_KEY with ANTHROPIC_BASE_URL)'" "$W/agent.log" ||
  proto_fail "the agent does not say it runs Claude Code: $(head -5 "$W/agent.log")"

# --- attempt 1: a command, a log line, a refused tool, a question -------------------------------
wait_state needs_input 300
[ "$(proto_psql -c "SELECT question FROM tasks WHERE id = $T")" = "$Q" ] || proto_fail "question: $(proto_psql -c "SELECT question, reason FROM tasks WHERE id = $T")"
[ "$(proto_psql -c "SELECT reason FROM tasks WHERE id = $T")" = question ] || proto_fail "reason is not question"
proto_psql -c "SELECT 1 FROM activity WHERE task_id = $T AND message = 'scripted model: read the history'
  AND metadata->>'source' = 'model'" | grep -q 1 || proto_fail "the model's log_activity did not land"
reqs=$(curl -fsS "$API/_fake/requests")
jq -e '[.[] | select(.main) | .tools[]] | index("mcp__drover__ask_user_question") != null' <<<"$reqs" >/dev/null ||
  proto_fail "the model was not offered the task's tools: $(jq -c '[.[] | select(.main) | .tools] | .[0]' <<<"$reqs")"
jq -e '[.[] | select(.main) | .tools[] | select(test("get_next_task|heartbeat|create_branch"))] | length == 0' <<<"$reqs" >/dev/null ||
  proto_fail "the model was offered agent tools: $(jq -c '[.[] | .tools[] | select(test("mcp__"))] | unique' <<<"$reqs")"
jq -e '[.[] | .tool_results[] | select(.is_error and (.text | test("get_next_task|No such tool|not available"; "i")))] | length > 0' <<<"$reqs" >/dev/null ||
  proto_fail "the model's get_next_task call was not refused: $(jq -c '[.[] | .tool_results[]] | unique_by(.tool_use_id)' <<<"$reqs" | head -c 2000)"
jq -e '[.[] | .tool_results[] | select(.text | test("init"))] | length > 0' <<<"$reqs" >/dev/null ||
  proto_fail "the Bash command's output did not come back to the model"
jq -e '[.[] | select(.main) | .model] | unique == ["claude-sonnet-4-5"]' <<<"$reqs" >/dev/null ||
  proto_fail "the task's model did not reach Claude Code: $(jq -c '[.[] | .model] | unique' <<<"$reqs")"
# The project's allow-list (Bash, Write and Drover's tools) refused the Edit.
edit_id=$(jq -r '[.[] | .answer[]? | select(.type == "tool_use" and .name == "Edit") | .id] | first' <<<"$reqs")
jq -e --arg id "$edit_id" '[.[] | .tool_results[] | select(.tool_use_id == $id and .is_error)] | length > 0' <<<"$reqs" >/dev/null ||
  proto_fail "the project's allow-list did not refuse Edit: $(jq -c --arg id "$edit_id" '[.[] | .tool_results[] | select(.tool_use_id == $id)]' <<<"$reqs")"
proto_psql -c "SELECT message FROM activity WHERE task_id = $T AND metadata->>'kind' = 'init'" | grep -q "jira (" ||
  proto_fail "the project's MCP server did not reach Claude Code: $(proto_psql -c "SELECT message FROM activity WHERE task_id = $T AND metadata->>'kind' = 'init'")"
proto_log "attempt 1: Bash ran, log_activity landed, get_next_task refused, Edit refused by the project's allow-list, the project's MCP server configured, needs_input with the question"

# --- the answer, attempt 2 ----------------------------------------------------------------------
code=$(curl -s -o "$W/answer.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $ADMIN" \
  -H 'Content-Type: application/json' -d "{\"answer\": \"$ANSWER\"}" "$PROTO_URL/api/tasks/$T/answer")
[ "$code" = 200 ] || proto_fail "answer: $code $(cat "$W/answer.json")"
wait_state ready_to_test 300
reqs=$(curl -fsS "$API/_fake/requests")
jq -e --arg q "Question: $Q" --arg a "$ANSWER" '[.[] | select(.main) | .first_user | select(contains($q) and contains($a))] | length > 0' <<<"$reqs" >/dev/null ||
  proto_fail "the second prompt lacks the question and the answer: $(jq -r '[.[] | select(.main) | .first_user] | last' <<<"$reqs" | head -c 2000)"
[ "$(proto_psql -c "SELECT attempt FROM tasks WHERE id = $T")" = 1 ] ||
  proto_fail "the ask/answer round burnt an attempt: attempt $(proto_psql -c "SELECT attempt FROM tasks WHERE id = $T")"
br=$(proto_psql -c "SELECT branch FROM tasks WHERE id = $T")
[ "$(git --git-dir="${repo#file://}" show "refs/heads/$br:GREETING.md")" = "$ANSWER" ] ||
  proto_fail "GREETING.md is not on $br in the remote"
pulls=$(curl -fsS -H "Authorization: Bearer $FORGE_SECRET" -H "User-Agent: e2e" "$FURL/repos/acme/widgets/pulls?state=all")
[ "$(jq length <<<"$pulls")" = 1 ] || proto_fail "not exactly one pull request: $pulls"
# The model's summary is the body (droverd adds its footer with the task's link below it).
[ "$(jq -r '.[0].title' <<<"$pulls")" = "Add a greeting" ] &&
  jq -e --arg s "$SUMMARY" '.[0].body | startswith($s + "\n")' <<<"$pulls" >/dev/null ||
  proto_fail "the pull request is not the model's: $pulls"
# The body lists the files changed and the checks the coding command ran (none: git log is not
# one).
jq -e '.[0].body | contains("Files changed (1):\n- `GREETING.md` +1") and contains("Checks run: none")' <<<"$pulls" >/dev/null ||
  proto_fail "the pull request's body lacks the files or the checks: $(jq -r '.[0].body' <<<"$pulls")"
[ "$(proto_psql -c "SELECT pull_request->>'url' FROM tasks WHERE id = $T")" = "$(jq -r '.[0].html_url' <<<"$pulls")" ] ||
  proto_fail "the task does not record the pull request"
[ "$(proto_psql -c "SELECT preview_url FROM tasks WHERE id = $T")" = "https://preview.test/task-$T" ] ||
  proto_fail "the preview the model asked for is not recorded: $(proto_psql -c "SELECT row_to_json(t) FROM tasks t WHERE id = $T" | head -c 1500)"
proto_log "attempt 2: prompt with question and answer, commit pushed, one PR with the model's summary, preview, ready_to_test"

# --- usage and cost -----------------------------------------------------------------------------
want=$(curl -fsS "$API/_fake/usage")
got=$(proto_psql -c "SELECT usage FROM tasks WHERE id = $T")
[ "$(jq .input_tokens <<<"$got")" = "$(jq .input_tokens <<<"$want")" ] &&
  [ "$(jq .output_tokens <<<"$got")" = "$(jq .output_tokens <<<"$want")" ] ||
  proto_fail "usage on the task $got, the model reported $want"
cost=$(proto_psql -c "SELECT coalesce(sum((metadata->>'total_cost_usd')::float8), 0) FROM activity
  WHERE task_id = $T AND metadata->>'source' = 'claude' AND metadata->>'kind' = 'result'")
jq -e --argjson c "$cost" '.usd > 0 and ((.usd - $c) | fabs) < 1e-9' <<<"$got" >/dev/null ||
  proto_fail "cost on the task $(jq .usd <<<"$got"), Claude Code reported $cost"
proto_log "usage: $(jq -c . <<<"$got") = what the scripted model reported; cost = Claude Code's"

# --- the transcript: structured activity, not raw JSON ------------------------------------------
tx() { proto_psql -c "SELECT count(*) FROM activity WHERE task_id = $T AND metadata->>'source' = 'claude' AND $1"; }
[ "$(tx "metadata->>'kind' = 'tool_use' AND metadata->>'tool' = 'Bash' AND message = '→ Bash: git log --oneline | head -3'")" = 1 ] ||
  proto_fail "no Bash call in the transcript"
[ "$(tx "metadata->>'kind' = 'tool_use' AND metadata->>'tool' = 'mcp__drover__ask_user_question'")" = 1 ] ||
  proto_fail "no ask_user_question call in the transcript"
[ "$(tx "metadata->>'kind' = 'tool_result' AND (metadata->>'is_error')::boolean AND message LIKE '%get_next_task%'")" -ge 1 ] ||
  proto_fail "the refused get_next_task is not in the transcript"
[ "$(tx "metadata->>'kind' = 'text' AND message = 'I asked; stopping until a person answers.'")" = 1 ] ||
  proto_fail "the model's words are not in the transcript"
[ "$(tx "metadata->>'kind' = 'result'")" = 2 ] || proto_fail "not one result per attempt in the transcript"
[ "$(tx "metadata->>'kind' = 'init' AND message LIKE '%drover (connected)%'")" = 2 ] ||
  proto_fail "the sessions did not start with drover connected: $(proto_psql -c "SELECT message FROM activity WHERE task_id = $T AND metadata->>'kind' = 'init'")"
[ "$(proto_psql -c "SELECT count(*) FROM activity WHERE task_id = $T AND message LIKE '{\"type\"%'")" = 0 ] ||
  proto_fail "raw stream-json lines in the activity"
DROVER_URL=$PROTO_URL DROVER_TOKEN=$ADMIN "$DROVER_BUILD_DIR/agent/droverctl" task logs "$T" >"$W/ctl-logs.out" 2>&1 ||
  proto_fail "droverctl logs: $(cat "$W/ctl-logs.out")"
grep -qF "→ Bash: git log --oneline | head -3" "$W/ctl-logs.out" || proto_fail "droverctl logs lacks the transcript: $(head -40 "$W/ctl-logs.out")"
proto_log "transcript: tool calls, results, the model's words and one result per attempt; droverctl logs shows it"

# --- no agent token in the coding command's world -------------------------------------------------
! proto_psql -c "SELECT message, metadata FROM activity WHERE task_id = $T" | grep -qF -e "$DROVER_TOKEN" -e "jira-$$-secret" ||
  proto_fail "the agent's token is in the activity"
! grep -rqF "$DROVER_TOKEN" "$W/home/.claude" 2>/dev/null || proto_fail "the agent's token is in Claude Code's files"
kill -TERM "$AGENT_PID"
drover_wait_pid 30 "$AGENT_PID" >/dev/null

# --- bad input: a key the API rejects ends the attempt with Claude Code's reason ---------------
T=$(proto_psql -c "INSERT INTO tasks (project_id, title, description, max_attempts)
    VALUES ($P, 'Rejected key', 'Anything.', 1) RETURNING id" | head -1)
env -i PATH="$BIN" HOME="$W/home" AGENT_ID="$AGENT_ID" DROVER_TOKEN="$DROVER_TOKEN" \
  MCP_SERVER_URL="$PROTO_URL/mcp" DROVER_WORKSPACE="$W/ws" HEARTBEAT_INTERVAL=1 DROVER_POLL_WAIT=1 \
  ANTHROPIC_API_KEY="sk-ant-wrong" ANTHROPIC_BASE_URL="$API" CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 \
  DISABLE_AUTOUPDATER=1 GIT_CONFIG_NOSYSTEM=1 "$DROVER_BUILD_DIR/agent/drover-agent" >"$W/agent-bad.log" 2>&1 &
AGENT_PID=$!
wait_state_any() { # seconds
  local i s
  for ((i = 0; i < $1 * 5; i++)); do
    s=$(proto_psql -c "SELECT state FROM tasks WHERE id = $T")
    case $s in failed | needs_input | ready_to_test | completed) return 0 ;; esac
    sleep 0.2
  done
}
wait_state_any 300
err=$(proto_psql -c "SELECT state || ': ' || coalesce(last_error, '') FROM tasks WHERE id = $T")
[[ $err == failed:* ]] || proto_fail "a rejected key did not fail the task: $err"
grep -qiE "api key|authentication|401" <<<"$err" || proto_fail "the task's error does not say the key was rejected: $err"
[ "$(proto_psql -c "SELECT count(*) FROM activity WHERE task_id = $T AND metadata->>'kind' = 'result' AND level = 'error'")" -ge 1 ] ||
  proto_fail "the transcript has no failed result: $(proto_psql -c "SELECT string_agg(message, E'\n' ORDER BY id) FROM activity WHERE task_id = $T")"
jq -e '[.[] | select(.refused)] | length > 0' <<<"$(curl -fsS "$API/_fake/requests")" >/dev/null ||
  proto_fail "the fake API never saw the wrong key"
kill -TERM "$AGENT_PID"
drover_wait_pid 30 "$AGENT_PID" >/dev/null
proto_log "a rejected key: the task failed with Claude Code's reason ($err)"
proto_log "PASS: the real Claude Code completed a task through drover-agent with task-scoped tools"
