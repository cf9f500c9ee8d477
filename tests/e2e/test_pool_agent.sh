#!/usr/bin/env bash
# The agent pool with the real drover-agent (issue 4's end-to-end scenarios, now that the agent
# exists): droverd `serve --pod-backend process` runs build/agent/drover-agent with the demo
# coding command against a real bare git repository. An empty queue settles at 2 agents; 30
# tasks of a few seconds each scale the pool to 10 before the 30 s tick; kill -9 of an agent
# mid-task gets its task re-run by another agent and finished exactly once; drained, the pool
# returns to 2 after the (4 s) stabilization window without retiring a busy agent.
set -u
. "$(dirname "$0")/lib.sh"
export DROVER_PORT_RANGE=18720-18739
drover_e2e_init
AGENT_BIN=${DROVER_BUILD_DIR:?}/agent/drover-agent
[ -x "$AGENT_BIN" ] || fail "drover-agent is not built: $AGENT_BIN"

LIVE="SELECT count(*) FROM agents WHERE status IN ('idle','busy','initializing')"
wait_for() { # SQL WANT SECONDS WHAT
    local i v
    for ((i = 0; i < $3 * 10; i++)); do
        v=$(drover_psql "$1")
        [ "$v" = "$2" ] && return 0
        sleep 0.1
    done
    fail "$4: $v, want $2 after $3 s; agents: $(drover_psql "SELECT status || ':' || count(*)
        FROM agents GROUP BY status") $(drover_psql "SELECT string_agg(coalesce(offline_reason, ''), '; ')
        FROM agents WHERE status = 'offline'"); last decisions: $(drover_psql "SELECT string_agg(reason,
        ' | ' ORDER BY id) FROM (SELECT * FROM scale_events ORDER BY id DESC LIMIT 3) s")"
}

repo=$(drover_repo)
mkdir -p "$DROVER_TMP/ws"
DROVER_CODING_COMMAND=demo DROVER_WORKSPACE="$DROVER_TMP/ws" HEARTBEAT_INTERVAL=1 \
    drover_start --pod-backend process --agent-command "$AGENT_BIN" \
    --agent-log-dir "$DROVER_TMP/agents" --pool-tick 30 --pool-stabilization 4 --pool-grace 3 \
    --pool-max-starting 10 --lease-seconds 6 --heartbeat-interval 1 --sweep-interval 1

wait_for "SELECT count(*) FROM agents WHERE status = 'idle'" 2 30 "empty queue settles at 2"
sleep 1
[ "$(drover_psql "$LIVE")" = 2 ] || fail "more than 2 agents on an empty queue"
pass "empty queue: 2 real agents"

# The agent's own output through the pod backend: GET /api/agents/{id}/logs.
OPER=$(drover_token operator pool-operator)
one=$(drover_psql "SELECT id FROM agents WHERE status = 'idle' LIMIT 1")
code=$(curl -s -o "$DROVER_TMP/agent.log" -w '%{http_code}' -H "Authorization: Bearer $OPER" \
    "$DROVER_URL/api/agents/$one/logs?tail=20")
[ "$code" = 200 ] && grep -q "starting agent=$one" "$DROVER_TMP/agent.log" ||
    fail "GET /api/agents/$one/logs: $code $(head -c 300 "$DROVER_TMP/agent.log")"
pass "an agent's own output through GET /api/agents/{id}/logs"

drover_psql "INSERT INTO tasks (title, description, repo_url, max_attempts)
             SELECT 'pool task ' || g, 'Write a note. sleep 2', '$repo', 3
             FROM generate_series(1, 30) g" >/dev/null
t0=$(date +%s)
wait_for "$LIVE" 10 20 "30 tasks: 10 agents"
pass "30 tasks: 10 agents in $(($(date +%s) - t0)) s (the tick is 30 s)"

# kill -9 the agent that claimed most recently, while its coding command sleeps.
wait_for "SELECT least(count(*), 1) FROM tasks WHERE state = 'in_progress'" 1 20 "a task in progress"
read -r pid victim < <(drover_psql "SELECT substr(a.pod_name, 6), t.id FROM tasks t
    JOIN agents a ON a.id = t.agent_id WHERE t.state = 'in_progress'
    ORDER BY t.started_at DESC LIMIT 1" | tr '|' ' ')
kill -9 "$pid" || fail "kill -9 $pid"
wait_for "SELECT count(*) FROM tasks WHERE state = 'ready_to_test'" 30 150 "all 30 ready_to_test"
[ "$(drover_psql "SELECT count(*) FROM activity WHERE message LIKE 'in_progress -> ready_to_test%'")" = 30 ] ||
    fail "a task was finished twice"
[ "$(drover_psql "SELECT attempt > 1 FROM tasks WHERE id = $victim")" = t ] ||
    fail "the killed agent's task $victim was not re-run"
[ "$(drover_psql "SELECT count(DISTINCT agent_id) FROM activity WHERE task_id = $victim
                  AND message = 'backlog -> in_progress'")" = 2 ] ||
    fail "task $victim was not re-run by another agent"
for id in $(drover_psql "SELECT id FROM tasks"); do
    branch=$(drover_psql "SELECT branch FROM tasks WHERE id = $id")
    git --git-dir "${repo#file://}" rev-parse -q --verify "refs/heads/$branch" >/dev/null ||
        fail "task $id: branch $branch is not on the remote"
done
pass "kill -9 mid-task: task $victim re-run by another agent, every task finished once, 30 branches pushed"

wait_for "$LIVE" 2 40 "drained: back to 2"
# A busy agent retired by scale-down would have had its task re-run: only the victim's was.
[ "$(drover_psql "SELECT count(*) FROM tasks WHERE attempt > 1 AND id <> $victim")" = 0 ] ||
    fail "a task other than the killed agent's was re-run"
pass "drained: back to 2 agents after the window"
drover_stop || fail "droverd exited non-zero on SIGTERM"
sleep 1
if pgrep -f "$AGENT_BIN" | xargs -r ps -o pid=,args= -p | grep -q "$DROVER_TMP"; then
    fail "agents left running after droverd stopped"
fi
pass "pool of real agents"
