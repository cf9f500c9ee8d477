#!/usr/bin/env bash
# The seed agent loop (scripts/seed-agent.sh: curl + jq against POST /tools/call and POST
# /heartbeat with an Authorization header) takes an enqueued task, heartbeats, logs and
# completes it; the database must show it. Also: a foreign X-Agent-ID and a missing token are
# refused and change nothing.
source "$(dirname "$0")/../protocol/lib.sh"
command -v jq >/dev/null || proto_missing "jq not installed"

proto_db
proto_serve
proto_agent_token seed-e2e
task=$(proto_enqueue "seed agent e2e" "write hello.txt")

# Refusals first: nothing may be claimed by them.
code=$(curl -s -o "$PROTO_TMP/noauth.json" -w '%{http_code}' -X POST "$PROTO_URL/tools/call" \
  -H "X-Agent-ID: $AGENT_ID" -H 'Content-Type: application/json' \
  -d '{"name":"get_next_task","arguments":{"wait_seconds":0}}')
[ "$code" = 401 ] || proto_fail "no token: HTTP $code, want 401"
code=$(curl -s -o "$PROTO_TMP/foreign.json" -w '%{http_code}' -X POST "$PROTO_URL/tools/call" \
  -H "Authorization: Bearer $DROVER_TOKEN" -H "X-Agent-ID: 00000000-0000-4000-8000-000000000000" \
  -H 'Content-Type: application/json' -d '{"name":"get_next_task","arguments":{"wait_seconds":0}}')
case "$code" in
4??) ;;
200) jq -e '.isError == true' "$PROTO_TMP/foreign.json" >/dev/null ||
  proto_fail "a foreign X-Agent-ID was accepted: $(cat "$PROTO_TMP/foreign.json")" ;;
*) proto_fail "foreign X-Agent-ID: HTTP $code" ;;
esac
[ "$(proto_psql -c "SELECT state FROM tasks WHERE id = $task")" = backlog ] ||
  proto_fail "a refused call changed the task"

DROVER_URL=$PROTO_URL DROVER_TOKEN=$DROVER_TOKEN AGENT_ID=$AGENT_ID MAX_TASKS=1 MAX_IDLE_POLLS=3 \
  WAIT_SECONDS=2 AGENT_WORK='test "$TASK_ID" -gt 0 && echo "$TASK_TITLE" >/dev/null' \
  timeout 60 "$PROTO_ROOT/scripts/seed-agent.sh" >"$PROTO_TMP/seed-agent.log" 2>&1 ||
  proto_fail "seed-agent.sh failed: $(cat "$PROTO_TMP/seed-agent.log")"
cat "$PROTO_TMP/seed-agent.log"

got=$(proto_psql -F' ' -c "SELECT state, agent_id, attempt FROM tasks WHERE id = $task")
[ "$got" = "completed $AGENT_ID 1" ] || proto_fail "task: '$got', want 'completed $AGENT_ID 1'"
logs=$(proto_psql -c "SELECT string_agg(message, '|' ORDER BY id) FROM activity
                      WHERE task_id = $task AND kind = 'log'")
[ "$logs" = "seed agent: started|seed agent: finished, completed" ] || proto_fail "log rows: '$logs'"
states=$(proto_psql -c "SELECT count(*) FROM activity WHERE task_id = $task AND kind = 'state'
                        AND message LIKE 'in_progress -> completed%'")
[ "$states" = 1 ] || proto_fail "no in_progress -> completed activity row"
hb=$(proto_psql -c "SELECT last_heartbeat_at IS NOT NULL FROM agents WHERE id = '$AGENT_ID'")
[ "$hb" = t ] || proto_fail "the agent's heartbeat was not recorded"

# A task whose work fails is reported failed; with attempts left the queue puts it back in the
# backlog (with back-off) and keeps the error.
task2=$(proto_enqueue "seed agent e2e, failing work" "exit 3")
DROVER_URL=$PROTO_URL DROVER_TOKEN=$DROVER_TOKEN AGENT_ID=$AGENT_ID MAX_TASKS=1 MAX_IDLE_POLLS=3 \
  WAIT_SECONDS=2 AGENT_WORK='exit 3' \
  timeout 60 "$PROTO_ROOT/scripts/seed-agent.sh" >"$PROTO_TMP/seed-agent2.log" 2>&1 ||
  proto_fail "seed-agent.sh (failing work) failed: $(cat "$PROTO_TMP/seed-agent2.log")"
got=$(proto_psql -F'|' -c "SELECT state, attempt, last_error, run_after > now() FROM tasks WHERE id = $task2")
[ "$got" = "backlog|1|AGENT_WORK failed|t" ] || proto_fail "failed task: '$got', want 'backlog|1|AGENT_WORK failed|t'"
proto_log "PASS: the seed agent loop completed task $task and reported task $task2 failed"
