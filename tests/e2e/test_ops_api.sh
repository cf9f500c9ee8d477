#!/usr/bin/env bash
# The REST API and droverctl against a real droverd + PostgreSQL: scopes over HTTP (operator
# reads, admin writes, agent tokens refused, no token 401), the seed-style task submission,
# promtool on a live /metrics, the OpenAPI document, and droverctl end to end including its
# error exits (1 server/network error, 2 usage).
source "$(dirname "$0")/ops_lib.sh"
ops_start
pass=0
ok() { pass=$((pass + 1)); }

# --- scopes over HTTP
r=$(ops_http "$ADMIN" POST /api/tasks '{"task":"Add /health","repository":"file:///r.git","branch":"main","title":"health"}')
ops_expect "seed-style submission status" 202 "${r%% *}"
id=$(jq -r .id <<<"${r#* }"); ops_expect "state" backlog "$(jq -r .state <<<"${r#* }")"; ok
r=$(ops_http "$ADMIN" POST /api/tasks '{"repository":"file:///r.git"}')
ops_expect "missing prompt" 400 "${r%% *}"
ops_expect "missing prompt code" prompt_required "$(jq -r .error.code <<<"${r#* }")"; ok
r=$(ops_http "$OPERATOR" POST /api/tasks '{"prompt":"x","repository":"r"}'); ops_expect "operator write" 403 "${r%% *}"; ok
r=$(ops_http "$OPERATOR" GET /api/tasks); ops_expect "operator read" 200 "${r%% *}"; ok
r=$(ops_http "$AGENT_TOKEN" GET /api/tasks); ops_expect "agent token on /api" 403 "${r%% *}"; ok
r=$(ops_http "" GET /api/tasks); ops_expect "no token" 401 "${r%% *}"; ok
r=$(ops_http "bogus" GET /api/tasks); ops_expect "bad token" 401 "${r%% *}"; ok
r=$(ops_http "" GET /api/openapi.json); ops_expect "openapi public" 200 "${r%% *}"
ops_expect "openapi version" 3.1.0 "$(jq -r .openapi <<<"${r#* }")"; ok
# Idempotency over HTTP.
a=$(curl -sf -X POST "$URL/api/tasks" -H "Authorization: Bearer $ADMIN" -H 'Idempotency-Key: k-42' --data '{"prompt":"once","repository":"r"}' | jq -r .id)
b=$(curl -sf -X POST "$URL/api/tasks" -H "Authorization: Bearer $ADMIN" -H 'Idempotency-Key: k-42' --data '{"prompt":"once","repository":"r"}' | jq -r .id)
ops_expect "idempotent id" "$a" "$b"; ok

# --- SSE: /api/events?follow=1 delivers events in order; Last-Event-ID resumes after a reconnect
sse() { # sse TOKEN PATH SECONDS [LAST_EVENT_ID] > file
  local args=(-sN --max-time "$3" -H "Authorization: Bearer $1" -H 'Accept: text/event-stream')
  [ -n "${4:-}" ] && args+=(-H "Last-Event-ID: $4")
  curl "${args[@]}" "$URL$2" || true
}
ids() { sed -n 's/^id: //p' "$1"; }
sse "$OPERATOR" '/api/events?follow=1' 4 >"$OPS_DIR/sse1" &
sse_pid=$!
sleep 1
for i in 1 2 3; do curl -sf -X POST "$URL/api/tasks" -H "Authorization: Bearer $ADMIN" --data "{\"prompt\":\"sse $i\",\"repository\":\"r\"}" >/dev/null; done
wait "$sse_pid"
grep -q '^event: task' "$OPS_DIR/sse1" || ops_fail "no task events on the stream: $(cat "$OPS_DIR/sse1")"
ops_expect "three creations streamed" 3 "$(grep -c '"message":"created -> backlog"' "$OPS_DIR/sse1")"
# Task events arrive in activity order. Resuming with Last-Event-ID = the id of the first task
# event gives exactly the task events after it (ids are cursors over activity, heartbeats and
# scale decisions, so other kinds may be batched differently after a reconnect).
task_ids() { awk '/^id: /{id=$2} /^event: task/{print id}' "$1"; }
task_data() { awk '/^event: task/{t=1; next} t && /^data: /{print; t=0}' "$1"; }
task_ids "$OPS_DIR/sse1" | cut -d. -f1 | sort -n -c || ops_fail "task events out of order"
first=$(task_ids "$OPS_DIR/sse1" | head -1)
sse "$OPERATOR" '/api/events?follow=1' 2 "$first" >"$OPS_DIR/sse2"
ops_expect "resume gives the task events after the first, no repeat" \
  "$(task_data "$OPS_DIR/sse1" | sed 1d)" "$(task_data "$OPS_DIR/sse2" | head -2)"
r=$(ops_http "$OPERATOR" GET '/api/events?follow=1&after=garbage'); ops_expect "bad cursor" 400 "${r%% *}"
# a task's log as SSE, resumed by Last-Event-ID
lt=$(curl -sf -X POST "$URL/api/tasks" -H "Authorization: Bearer $ADMIN" --data '{"prompt":"logs","repository":"r"}' | jq -r .id)
sse "$OPERATOR" "/api/tasks/$lt/logs?follow=1" 2 >"$OPS_DIR/sse3"
ops_expect "log stream has the creation" 1 "$(grep -c 'created -> backlog' "$OPS_DIR/sse3")"
lid=$(ids "$OPS_DIR/sse3" | tail -1)
curl -sf -X POST "$URL/api/tasks/$lt/cancel" -H "Authorization: Bearer $ADMIN" --data "{}" >/dev/null
sse "$OPERATOR" "/api/tasks/$lt/logs?follow=1" 2 "$lid" >"$OPS_DIR/sse4"
grep -q 'cancelled by' "$OPS_DIR/sse4" || ops_fail "resumed log stream lacks the cancellation"
grep -q 'created -> backlog' "$OPS_DIR/sse4" && ops_fail "resumed log stream repeated an old line"
ok

# --- /metrics through promtool
curl -sf "$URL/metrics" >"$OPS_DIR/metrics.txt" || ops_fail "GET /metrics"
grep -q '^drover_backlog 5$' "$OPS_DIR/metrics.txt" || ops_fail "drover_backlog 5 not in /metrics: $(grep '^drover_backlog' "$OPS_DIR/metrics.txt")"
promtool check metrics <"$OPS_DIR/metrics.txt" || ops_fail "promtool check metrics"; ok

# --- droverctl
export DROVER_URL=$URL DROVER_TOKEN=$ADMIN
set +e
"$CTL" --help >/dev/null; ops_expect "ctl --help" 0 $?
for c in "task add" "task list" "task show" "task logs" "task cancel" "task answer" "task retry" \
         agents "pool get" "pool set" "pool scale" "project add" "project list" "token create" "token revoke"; do
  # shellcheck disable=SC2086
  "$CTL" $c --help >"$OPS_DIR/help" 2>&1; ops_expect "ctl $c --help" 0 $?
  grep -q usage "$OPS_DIR/help" || ops_fail "ctl $c --help prints no usage"
done; ok
"$CTL" task frobnicate 2>/dev/null; ops_expect "unknown subcommand" 2 $?
"$CTL" task show 2>/dev/null; ops_expect "missing id" 2 $?
"$CTL" task show abc 2>/dev/null; ops_expect "bad id" 2 $?
"$CTL" task add --priority 5000 x 2>/dev/null; ops_expect "bad priority" 2 $?
"$CTL" task list --bogus 2>/dev/null; ops_expect "unknown option" 2 $?
"$CTL" task show 99999 2>"$OPS_DIR/err"; ops_expect "unknown task" 1 $?
grep -q not_found "$OPS_DIR/err" || ops_fail "unknown task error says not_found"
DROVER_TOKEN=$OPERATOR "$CTL" task add --repo r x 2>/dev/null; ops_expect "operator cannot add" 1 $?
DROVER_URL=http://127.0.0.1:1 "$CTL" task list 2>/dev/null; ops_expect "unreachable" 1 $?
ok
"$CTL" project add web file:///srv/web.git --branch trunk >/dev/null; ops_expect "project add" 0 $?
"$CTL" project add web file:///srv/web.git 2>/dev/null; ops_expect "duplicate project" 1 $?
ops_expect "project list --json" trunk "$("$CTL" project list --json | jq -r '.projects[0].default_branch')"
t=$("$CTL" task add --project web --title "Fix it" --priority 9 --json Fix the bug | jq -r .id)
[ "$t" -gt 0 ] || ops_fail "task add --json id"
ops_expect "task list --state" "$t" "$("$CTL" task list --json --project web | jq -r '.tasks[0].id')"
"$CTL" task list --limit 1 | grep -q -- '--cursor' || ops_fail "task list shows the next cursor"
ok
# The agent claims the task and asks a question; droverctl answers it.
claimed=$(ops_tool get_next_task '{}')
tid=$(jq -r '.structuredContent.task.id' <<<"$claimed"); ep=$(jq -r '.structuredContent.task.lease_epoch' <<<"$claimed")
ops_expect "agent claims the top task" "$t" "$tid"
ops_tool log_activity "{\"task_id\":$tid,\"message\":\"looking at the bug\"}" >/dev/null
ops_tool update_task_status "{\"task_id\":$tid,\"lease_epoch\":$ep,\"status\":\"needs_input\",\"question\":\"Which file?\"}" >/dev/null
"$CTL" task show "$t" | grep -q 'question: Which file?' || ops_fail "task show prints the question"
"$CTL" task logs "$t" | grep -q 'looking at the bug' || ops_fail "task logs prints the log line"
ops_expect "agents lists the agent" "$AGENT_ID" "$("$CTL" agents --json | jq -r '.agents[0].id')"
DROVER_TOKEN=$OPERATOR "$CTL" task answer "$t" src/main.c 2>/dev/null; ops_expect "operator cannot answer" 1 $?
"$CTL" task answer "$t" look at src/main.c | grep -q backlog || ops_fail "answer returns to backlog"
ops_expect "answer in context" "look at src/main.c" "$("$CTL" task show "$t" --json | jq -r '.context[0].text')"
"$CTL" task cancel "$t" --reason "done elsewhere" | grep -q cancelled || ops_fail "cancel"
"$CTL" task cancel "$t" 2>/dev/null; ops_expect "cancel twice" 1 $?
"$CTL" task retry "$t" | grep -q backlog || ops_fail "retry"
ok
# Fan-out through droverctl.
g=$("$CTL" task add --repo file:///r.git --agents 3 --priority 900 --json Try three ways)
ops_expect "fan-out children" 3 "$(jq '.children | length' <<<"$g")"
ops_expect "fan-out distinct" 3 "$(jq '[.children[].id] | unique | length' <<<"$g")"
# Three agents take the three children (never the group) and each works on its own branch.
for i in 1 2 3; do
  tok=$(PGOPTIONS=$PGOPTIONS "$DROVERD" token create --scope agent --name "fan-$i" 2>/dev/null | sed -n 's/^DROVER_TOKEN=//p')
  c=$(curl -s -X POST "$URL/tools/call" -H "Authorization: Bearer $tok" -H "Content-Type: application/json" --data '{"name":"get_next_task","arguments":{}}')
  ct=$(jq -r .structuredContent.task.id <<<"$c"); ce=$(jq -r .structuredContent.task.lease_epoch <<<"$c")
  ops_expect "agent $i claims a child ($c)" "$(jq -r .id <<<"$g")" "$(jq -r .structuredContent.task.parent_id <<<"$c")"
  curl -sf -X POST "$URL/tools/call" -H "Authorization: Bearer $tok" -H "Content-Type: application/json" \
    --data "{\"name\":\"create_branch\",\"arguments\":{\"task_id\":$ct,\"lease_epoch\":$ce}}" >/dev/null
done
kids=$("$CTL" task show "$(jq -r .id <<<"$g")" --json)
ops_expect "children in progress" "in_progress in_progress in_progress" "$(jq -r '[.children[].state] | join(" ")' <<<"$kids")"
ops_expect "three distinct branches" 3 "$(jq '[.children[].branch | select(. != null)] | unique | length' <<<"$kids")"
ok
# The pool, through the pool routes.
"$CTL" pool set --min 1 --max 6 >/dev/null; ops_expect "pool set" 0 $?
ops_expect "pool get max" 6 "$("$CTL" pool get --json | jq -r .settings.max_agents)"
"$CTL" pool scale 4 --for 600 >/dev/null; ops_expect "pool scale" 0 $?
ops_expect "pinned" 4 "$("$CTL" pool get --json | jq -r .settings.pinned_target)"
"$CTL" pool scale --unpin >/dev/null; ops_expect "unpin" 0 $?
ops_expect "unpinned" null "$("$CTL" pool get --json | jq -r .settings.pinned_target)"
"$CTL" pool set 2>/dev/null; ops_expect "pool set without bounds" 2 $?
"$CTL" pool set --min 9 --max 3 2>/dev/null; ops_expect "pool set min > max" 1 $?
DROVER_TOKEN=$OPERATOR "$CTL" pool scale 3 2>/dev/null; ops_expect "operator cannot scale" 1 $?
ok
# Tokens.
tok=$("$CTL" token create ci-reader --scope operator --json)
newtok=$(jq -r .token <<<"$tok"); newid=$(jq -r .id <<<"$tok")
DROVER_TOKEN=$newtok "$CTL" task list >/dev/null; ops_expect "new token works" 0 $?
"$CTL" token revoke "$newid" >/dev/null; ops_expect "revoke" 0 $?
# droverd caches verified tokens for up to 10 s (net/authcache.h): the refusal comes within that.
refused=0
for _ in $(seq 1 60); do
  DROVER_TOKEN=$newtok "$CTL" task list >/dev/null 2>&1
  [ $? = 1 ] && { refused=1; break; }
  sleep 0.25
done
ops_expect "revoked token refused within the auth cache's 10 s" 1 "$refused"
"$CTL" token create x 2>/dev/null; ops_expect "token create without scope" 2 $?
ok
# task logs -f ends when the task finishes.
f=$("$CTL" task add --repo r --json follow me | jq -r .id)
( sleep 1; "$CTL" task cancel "$f" >/dev/null ) &
canceller=$!
timeout 20 "$CTL" task logs -f "$f" >"$OPS_DIR/follow.txt"; ops_expect "logs -f exits 0" 0 $?
grep -q 'cancelled by' "$OPS_DIR/follow.txt" || ops_fail "logs -f saw the cancellation"
wait "$canceller"
ok
set -e
echo "$pass passed, 0 failed"
