#!/usr/bin/env bash
# Tiered autonomy with the real Claude Code CLI (issue 17, item 1; docs/autonomy.md). The task's
# project has a policy; drover-agent runs Claude Code with --permission-prompt-tool
# mcp__drover__approve_action, so every action goes through droverd. The scripted model
# (tests/fakes/fake_anthropic.py) tries five shell commands:
#   touch allowed.txt   allowed by the policy: runs at once;
#   touch denied.txt    denied by the policy: never runs, the model is told why;
#   touch approved.txt  ask-first: waits (longer than the lease) until droverctl approves it;
#   touch refused.txt   ask-first: a person denies it over the API with a reason;
#   touch late.txt      ask-first: nobody answers, the policy's timeout denies it (version 2
#                       of the policy, set meanwhile, answers in 10 s; version 1 in 300 s).
# The repository ships a .claude/settings.json that allows two of the refused commands: that
# does not get them past the policy (drover-agent also passes --setting-sources user).
# Then: exactly the allowed and approved files are on the task's branch, the approvals record
# who decided what and when, the task showed "waiting for approval" while it waited, and its
# lease outlived the waits.
source "$(dirname "$0")/../protocol/lib.sh"
export DROVER_PORT_RANGE=${DROVER_PORT_RANGE:-18810-18829}

proto_npm_tools
proto_db
proto_claude_path claude-autonomy touch

cat >"$W/script.json" <<'JSON'
[
 {"when": null, "turns": [
   {"blocks": [{"tool": "Bash", "input": {"command": "touch allowed.txt", "description": "allowed"}}], "usage": {"input_tokens": 100, "output_tokens": 10}},
   {"blocks": [{"tool": "Bash", "input": {"command": "touch denied.txt", "description": "denied"}}], "usage": {"input_tokens": 100, "output_tokens": 10}},
   {"blocks": [{"tool": "Bash", "input": {"command": "touch approved.txt", "description": "ask, approved"}}], "usage": {"input_tokens": 100, "output_tokens": 10}},
   {"blocks": [{"tool": "Bash", "input": {"command": "touch refused.txt", "description": "ask, refused"}}], "usage": {"input_tokens": 100, "output_tokens": 10}},
   {"blocks": [{"tool": "Bash", "input": {"command": "touch late.txt", "description": "ask, unanswered"}}], "usage": {"input_tokens": 100, "output_tokens": 10}},
   {"blocks": [{"tool": "mcp__drover__update_task_status", "input": {"status": "completed", "summary": "tried five commands"}}], "usage": {"input_tokens": 100, "output_tokens": 10}},
   {"blocks": [{"text": "Done."}], "usage": {"input_tokens": 100, "output_tokens": 10}}
 ]}
]
JSON
KEY=sk-ant-fake-$$
python3 "$PROTO_ROOT/tests/fakes/fake_anthropic.py" --token "$KEY" --script "$W/script.json" \
  >"$W/anthropic.port" 2>"$W/anthropic.log" &
FAKE_PID=$!
AGENT_PID=
trap 'kill $FAKE_PID ${AGENT_PID:-} 2>/dev/null; rm -rf "$BIN"; proto_cleanup' EXIT
for _ in $(seq 50); do grep -q PORT= "$W/anthropic.port" && break; sleep 0.1; done
API="http://127.0.0.1:$(sed -n 's/^PORT=//p' "$W/anthropic.port")"
[ "$API" != "http://127.0.0.1:" ] || proto_fail "the fake model API did not start"

repo=$(proto_repo)
# The repository itself tries to allow what the policy denies: Claude Code reads a project's
# .claude/settings.json, and a settings rule would decide before the permission prompt tool.
git clone -q "$repo" "$W/seed" && mkdir -p "$W/seed/.claude" &&
  echo '{"permissions": {"allow": ["Bash(touch denied.txt)", "Bash(touch late.txt)"]}}' >"$W/seed/.claude/settings.json" &&
  git -C "$W/seed" add .claude && git -C "$W/seed" -c user.name=t -c user.email=t@t commit -qm "allow more" &&
  git -C "$W/seed" push -q origin HEAD || proto_fail "could not seed the repository's .claude/settings.json"
P=$("$DROVERD" project add --name guarded --repo-url "$repo" --default-branch main |
  sed -n 's/^PROJECT_ID=//p')
[ -n "$P" ] || proto_fail "project add failed"
# A 5 s lease: each wait below is longer, so only the agent's heartbeats keep the task.
proto_serve --heartbeat-interval 1 --sweep-interval 1 --lease-seconds 5
ADMIN=$(drover_token admin autonomy-admin)
DEV=$(drover_token developer reviewer-dana)
CTL() { DROVER_URL=$PROTO_URL DROVER_TOKEN=$1 "$DROVER_BUILD_DIR/agent/droverctl" "${@:2}"; }
api() { # TOKEN METHOD PATH [BODY] -> body on stdout, status in $W/code
  curl -s -o "$W/body" -w '%{http_code}' -X "$2" -H "Authorization: Bearer $1" \
    ${4:+-H 'Content-Type: application/json' -d "$4"} "$PROTO_URL$3" >"$W/code"
  cat "$W/body"
}

# --- the policy: bad ones are refused and change nothing; a good one is version 1 -------------
api "$ADMIN" PUT "/api/projects/$P/policy" '{"deny": ["Bash(touch denied.txt"]}' >/dev/null
[ "$(cat "$W/code")" = 400 ] && grep -q "parenthes" "$W/body" || proto_fail "an unbalanced rule: $(cat "$W/code") $(cat "$W/body")"
api "$ADMIN" PUT "/api/projects/$P/policy" '{"default": "sometimes"}' >/dev/null
[ "$(cat "$W/code")" = 400 ] || proto_fail "a bad default: $(cat "$W/code") $(cat "$W/body")"
api "$DEV" PUT "/api/projects/$P/policy" '{}' >/dev/null
[ "$(cat "$W/code")" = 403 ] || proto_fail "a developer set a policy: $(cat "$W/code")"
api "$ADMIN" GET "/api/projects/$P/policy" >/dev/null
[ "$(cat "$W/code")" = 404 ] || proto_fail "a refused policy was stored: $(cat "$W/code") $(cat "$W/body")"
cat >"$W/policy.json" <<'JSON'
{"allow": ["Bash(touch allowed.txt)"],
 "ask": ["Bash(touch approved.txt)", "Bash(touch refused.txt)", "Bash(touch late.txt)"],
 "deny": ["Bash(touch denied.txt)"],
 "default": "deny", "approval_timeout_seconds": 300}
JSON
CTL "$ADMIN" policy set guarded "$W/policy.json" >"$W/policy.out" 2>&1 || proto_fail "droverctl policy set: $(cat "$W/policy.out")"
pol=$(api "$ADMIN" GET "/api/projects/$P/policy")
jq -e '.version == 1 and .enabled and .policy.network == "ask" and .policy.outside_repo == "deny"
  and .approval_timeout_seconds == 300 and .created_by == "autonomy-admin"' <<<"$pol" >/dev/null ||
  proto_fail "the policy as stored: $pol"
proto_log "policy: bad ones refused (400, 403), version 1 stored with the safe defaults filled in"

T=$(proto_psql -c "INSERT INTO tasks (project_id, title, description)
    VALUES ($P, 'Touch some files', 'Try five commands.') RETURNING id" | head -1)
proto_agent_token autonomy-agent
env -i PATH="$BIN" HOME="$W/home" AGENT_ID="$AGENT_ID" DROVER_TOKEN="$DROVER_TOKEN" \
  MCP_SERVER_URL="$PROTO_URL/mcp" DROVER_WORKSPACE="$W/ws" HEARTBEAT_INTERVAL=1 DROVER_POLL_WAIT=1 \
  ANTHROPIC_API_KEY="$KEY" ANTHROPIC_BASE_URL="$API" CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 \
  DISABLE_AUTOUPDATER=1 GIT_CONFIG_NOSYSTEM=1 "$DROVER_BUILD_DIR/agent/drover-agent" >"$W/agent.log" 2>&1 &
AGENT_PID=$!

# pending ACTION SECONDS: the id of the pending approval of that action, once the task shows it.
pending() {
  local i id
  for ((i = 0; i < $2 * 5; i++)); do
    id=$(api "$DEV" GET "/api/tasks/$T" | jq -r --arg a "$1" 'select(.approval.action == $a) | .approval.id')
    [ -n "$id" ] && { echo "$id"; return 0; }
    sleep 0.2
  done
  proto_fail "no pending approval of '$1' on task $T: $(api "$DEV" GET "/api/tasks/$T" | jq -c '{state, approval, last_error}'); activity: $(proto_psql -c "SELECT string_agg(left(message, 200), E'\n' ORDER BY id) FROM activity WHERE task_id = $T")"
}

# --- ask-first, approved with droverctl after a wait longer than the lease --------------------
A1=$(pending "Bash(touch approved.txt)" 240)
CTL "$DEV" approvals >"$W/list.out" 2>&1 || proto_fail "droverctl approvals: $(cat "$W/list.out")"
grep -q "touch approved.txt" "$W/list.out" && grep -q "$A1" "$W/list.out" || proto_fail "droverctl approvals: $(cat "$W/list.out")"
sleep 7
[ "$(proto_psql -c "SELECT state FROM tasks WHERE id = $T")" = in_progress ] &&
  [ "$(proto_psql -c "SELECT attempt FROM tasks WHERE id = $T")" = 1 ] ||
  proto_fail "the lease did not outlive the wait: $(proto_psql -c "SELECT state, attempt, last_error FROM tasks WHERE id = $T")"
[ "$(proto_psql -c "SELECT count(*) FROM approvals WHERE task_id = $T AND state = 'denied' AND decided_by = 'policy' AND action = 'Bash(touch denied.txt)'")" = 1 ] ||
  proto_fail "the denied command was not recorded as denied by the policy: $(proto_psql -c "SELECT action, state, decided_by FROM approvals WHERE task_id = $T")"
# An operator may read but not answer; an unknown approval is 404; bad input changes nothing.
OPER=$(drover_token operator watcher)
api "$OPER" POST "/api/approvals/$A1/approve" >/dev/null
[ "$(cat "$W/code")" = 403 ] || proto_fail "an operator approved: $(cat "$W/code")"
api "$DEV" POST "/api/approvals/99999999/approve" >/dev/null
[ "$(cat "$W/code")" = 404 ] || proto_fail "an unknown approval: $(cat "$W/code")"
api "$DEV" POST "/api/approvals/$A1/approve" '{"why": "x"}' >/dev/null
[ "$(cat "$W/code")" = 400 ] || proto_fail "an unknown field: $(cat "$W/code")"
api "$DEV" POST "/api/approvals/$A1/deny" 'not json' >/dev/null
[ "$(cat "$W/code")" = 400 ] || proto_fail "a body that is not JSON: $(cat "$W/code")"
[ "$(proto_psql -c "SELECT state FROM approvals WHERE id = $A1")" = pending ] || proto_fail "bad input changed the approval"
CTL "$DEV" approve "$A1" >"$W/approve.out" 2>&1 || proto_fail "droverctl approve: $(cat "$W/approve.out")"
CTL "$DEV" approve "$A1" >"$W/again.out" 2>&1 && proto_fail "approving twice succeeded: $(cat "$W/again.out")"
grep -q "approved already" "$W/again.out" || proto_fail "approving twice: $(cat "$W/again.out")"
proto_log "ask-first: pending on the task, listed by droverctl, lease kept over a 7 s wait, approved by droverctl (operator 403, bad input 400, twice 409)"

# --- ask-first, denied over the API with a reason ----------------------------------------------
A2=$(pending "Bash(touch refused.txt)" 60)
# Version 2 answers in 10 s: the next action (asked only after this one is answered) runs out.
jq '.approval_timeout_seconds = 10' "$W/policy.json" >"$W/policy2.json"
CTL "$ADMIN" policy set guarded "$W/policy2.json" >"$W/policy.out" 2>&1 || proto_fail "droverctl policy set v2: $(cat "$W/policy.out")"
api "$DEV" POST "/api/approvals/$A2/deny" '{"reason": "not on a Friday"}' >/dev/null
[ "$(cat "$W/code")" = 200 ] || proto_fail "deny: $(cat "$W/code") $(cat "$W/body")"
# --- ask-first, unanswered: the 10 s timeout denies it -----------------------------------------
A3=$(pending "Bash(touch late.txt)" 60)

wait_done() {
  local i s
  for ((i = 0; i < 300; i++)); do
    s=$(proto_psql -c "SELECT state FROM tasks WHERE id = $T")
    case $s in completed | ready_to_test) return 0 ;; failed | cancelled | needs_input) break ;; esac
    sleep 0.2
  done
  proto_fail "task $T is $s: $(proto_psql -c "SELECT last_error FROM tasks WHERE id = $T"); activity: $(proto_psql -c "SELECT string_agg(left(message, 200), E'\n' ORDER BY id) FROM activity WHERE task_id = $T")"
}
wait_done
kill -TERM "$AGENT_PID"
drover_wait_pid 30 "$AGENT_PID" >/dev/null

rows=$(api "$DEV" GET "/api/approvals?task_id=$T")
jq -e --argjson a1 "$A1" --argjson a2 "$A2" --argjson a3 "$A3" '.approvals as $l
  | ($l | length) == 4
  and ($l[] | select(.id == $a1) | .state == "approved" and .decided_by == "reviewer-dana" and .decided_at != null
       and .policy_version == 1)
  and ($l[] | select(.id == $a2) | .state == "denied" and .reason == "not on a Friday")
  and ($l[] | select(.id == $a3) | .state == "expired" and .decided_by == "timeout" and .policy_version == 2)
  and ($l[] | select(.action == "Bash(touch denied.txt)") | .state == "denied" and .decided_by == "policy"
       and .rule == "deny: Bash(touch denied.txt)")' <<<"$rows" >/dev/null ||
  proto_fail "the approvals: $(jq -c '[.approvals[] | {id, action, state, decided_by, reason, rule}]' <<<"$rows")"

br=$(proto_psql -c "SELECT branch FROM tasks WHERE id = $T")
files=$(git --git-dir="${repo#file://}" ls-tree --name-only "refs/heads/$br" | tr '\n' ' ')
for f in allowed.txt approved.txt .claude; do grep -qw "$f" <<<"$files" || proto_fail "$f is not on $br: $files"; done
for f in denied.txt refused.txt late.txt; do ! grep -qw "$f" <<<"$files" || proto_fail "$f ran: it is on $br"; done

# What the model was told about each denial (Claude Code hands it the prompt tool's message).
reqs=$(curl -fsS "$API/_fake/requests")
for want in "autonomy policy denies" "not on a Friday" "in time"; do
  jq -e --arg w "$want" '[.[] | .tool_results[] | select(.text | contains($w))] | length > 0' <<<"$reqs" >/dev/null ||
    proto_fail "the model was not told '$want': $(jq -c '[.[] | .tool_results[] | .text] | unique' <<<"$reqs" | head -c 2000)"
done
[ "$(proto_psql -c "SELECT attempt FROM tasks WHERE id = $T")" = 1 ] || proto_fail "the waits cost an attempt"
[ "$(proto_psql -c "SELECT count(*) FROM activity WHERE task_id = $T AND message LIKE 'waiting for approval: %'")" = 3 ] ||
  proto_fail "the activity does not show the three waits"
proto_log "PASS: allowed ran, denied never ran, approved ran after a person said so, refused and unanswered were denied with the reason the model saw"
