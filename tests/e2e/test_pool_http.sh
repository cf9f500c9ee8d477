#!/usr/bin/env bash
# The agent pool end to end: a real droverd (`serve --pod-backend process`) with the real
# PostgreSQL; each agent is a child process running tests/e2e/pool_agent.sh, which talks to
# droverd over HTTP with the token the pool created for it. Scenarios: an empty queue settles
# at 2; 30 tasks reach 10 agents long before the 30 s tick; kill -9 of a busy agent re-runs
# its task exactly once; drained, the pool returns to 2 after the (4 s) window without
# touching a busy agent; the admin API (PUT /api/pool, POST /api/pool/scale with a TTL,
# DELETE /api/agents/{id}, POST /api/agents) and bad input over HTTP.
set -u
. "$(dirname "$0")/lib.sh"
SRC=${DROVER_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
export DROVER_PORT_RANGE=18230-18299
drover_e2e_init
ADMIN=$(drover_token admin pool-admin)

LIVE="SELECT count(*) FROM agents WHERE status IN ('idle','busy','initializing')"
wait_for() { # SQL WANT SECONDS WHAT
  local i v
  for ((i = 0; i < $3 * 10; i++)); do
    v=$(drover_psql "$1")
    [ "$v" = "$2" ] && return 0
    sleep 0.1
  done
  fail "$4: $v, want $2 after $3 s"
}
api() { # METHOD PATH [BODY] -> prints "STATUS BODY"
  curl -s -o "$DROVER_TMP/body" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $ADMIN" \
    -H 'Content-Type: application/json' ${3:+-d "$3"} "$DROVER_URL$2"
}

drover_start --pod-backend process --agent-command "bash $SRC/tests/e2e/pool_agent.sh pool-e2e-$$" \
  --agent-log-dir "$DROVER_TMP/agents" --pool-tick 30 --pool-stabilization 4 --pool-grace 2 \
  --pool-max-starting 10 --lease-seconds 30

wait_for "SELECT count(*) FROM agents WHERE status = 'idle'" 2 20 "empty queue settles at 2"
sleep 1
[ "$(drover_psql "$LIVE")" = 2 ] || fail "more than 2 agents on an empty queue"
pass "empty queue: 2 agents"

drover_psql "INSERT INTO tasks (title, repo_url) SELECT 'work 2000', 'file:///tmp/none.git' FROM generate_series(1, 30)" >/dev/null
t0=$(date +%s)
wait_for "$LIVE" 10 15 "30 tasks: 10 agents"
[ $(($(date +%s) - t0)) -lt 15 ] || fail "scale-up took longer than half a tick"
pass "30 tasks: 10 agents in $(($(date +%s) - t0)) s (tick is 30 s)"

# The agent holding the most recently claimed task (2 s of work left): kill it mid-task.
wait_for "SELECT least(count(*), 1) FROM tasks WHERE state = 'in_progress'" 1 10 "a task in progress"
read -r pid victim_task < <(drover_psql "SELECT substr(a.pod_name, 6), t.id FROM tasks t JOIN agents a ON a.id = t.agent_id WHERE t.state = 'in_progress' ORDER BY t.started_at DESC LIMIT 1" | tr '|' ' ')
kill -9 "$pid" || fail "kill -9 $pid"
wait_for "SELECT count(*) FROM tasks WHERE state = 'completed'" 30 60 "all 30 completed"
[ "$(drover_psql "SELECT count(*) FROM activity WHERE message LIKE 'in_progress -> completed%'")" = 30 ] ||
  fail "a task completed twice"
[ "$(drover_psql "SELECT attempt || state FROM tasks WHERE id = $victim_task")" = 2completed ] ||
  fail "the killed agent's task was not re-run once: $(drover_psql "SELECT attempt, state FROM tasks WHERE id = $victim_task")"
[ "$(drover_psql "SELECT count(*) FROM tasks WHERE attempt > 1")" = 1 ] || fail "another task was re-run"
[ "$(drover_psql "SELECT count(*) FROM agents WHERE pod_name = 'proc-$pid' AND offline_reason LIKE 'pod ended: killed by signal 9%'")" = 1 ] ||
  fail "the killed agent was not marked offline with its reason"
pass "kill -9 mid-task: re-run once, completed exactly once"

wait_for "$LIVE" 2 30 "drained: back to 2"
[ "$(drover_psql "SELECT count(*) FROM activity WHERE metadata->>'reason' = 'lease_expired'")" -le 1 ] ||
  fail "scale-down interrupted a busy agent"
[ "$(drover_psql "SELECT count(*) FROM scale_events WHERE reason LIKE '%stabilised%'")" -gt 0 ] ||
  fail "no stabilised decision recorded"
pass "drained: back to 2 after the window, no busy agent deleted"

# The admin API over HTTP.
[ "$(api GET /api/pool)" = 200 ] || fail "GET /api/pool"
jq -e '.settings.min_agents == 2 and .leader.replica != null and (.decisions | length) > 0' \
  "$DROVER_TMP/body" >/dev/null || fail "GET /api/pool body: $(cat "$DROVER_TMP/body")"
[ "$(api PUT /api/pool '{"min_agents": 5, "max_agents": 4}')" = 400 ] || fail "bad PUT accepted"
jq -e '.error.message | contains("must be <= max_agents")' "$DROVER_TMP/body" >/dev/null || fail "400 message"
[ "$(api PUT /api/pool '{"max_agents": 100000}')" = 400 ] || fail "max above the hard cap accepted"
[ "$(api PUT /api/pool '{"min_agents": 3}')" = 200 ] || fail "PUT min 3"
wait_for "$LIVE" 3 15 "min 3"
[ "$(api POST /api/pool/scale '{"count": 5, "ttl_seconds": 3}')" = 200 ] || fail "pin"
wait_for "$LIVE" 5 15 "pinned 5"
wait_for "$LIVE" 3 20 "pin expired: back to 3"
pass "admin min/max and a pinned target: the pool follows"

victim=$(drover_psql "SELECT id FROM agents WHERE status = 'idle' LIMIT 1")
[ "$(api DELETE "/api/agents/$victim")" = 202 ] || fail "DELETE /api/agents"
wait_for "SELECT count(*) FROM agents WHERE id = '$victim' AND status = 'offline'" 1 10 "deleted agent offline"
[ "$(api DELETE /api/agents/nope)" = 400 ] || fail "DELETE bad id"
st=$(api POST /api/agents "{}")
[ "$st" = 202 ] || fail "POST /api/agents: $st $(cat "$DROVER_TMP/body")"
wait_for "SELECT count(*) FROM agents WHERE name LIKE 'requested by%' AND status = 'idle'" 1 15 "requested agent up"
[ "$(drover_psql "SELECT count(*) FROM pool_audit WHERE actor = 'pool-admin'")" -ge 4 ] || fail "audit"
pass "DELETE /api/agents/{id} and POST /api/agents"

drover_stop || fail "droverd exit status"
sleep 0.5
pgrep -f "pool_agent.sh pool-e2e-$$" >/dev/null && fail "agents survived droverd"
pass "droverd stopped its agents"
