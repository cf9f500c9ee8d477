#!/usr/bin/env bash
# droverd's graceful shutdown hands its own agents' tasks back at once (docs/operations.md,
# "Stopping droverd"). A real droverd with `--pod-backend process` runs the real drover-agent
# with the demo coding command against a real bare git repository.
#  1. An agent is mid-task (the coding command sleeps 60 s; the lease is 60 s). SIGTERM to
#     droverd: the task is back in the backlog within seconds, not at lease expiry: attempt 1,
#     last_error and an activity row saying the agent shut down (SIGTERM) and handed it back,
#     work in progress pushed; droverd exits 0; no agent process (nor its coding command) is
#     left; an agent droverd did not start (registered with its own token) is left running,
#     and the long-polls it sent while droverd was shutting down handed it no task.
#  2. An agent that ignores SIGTERM holds a task: it is killed after --shutdown-grace (3 s), its
#     task goes back to the queue at once, and droverd still exits 0.
set -u
. "$(dirname "$0")/lib.sh"
SRC=${DROVER_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
export DROVER_PORT_RANGE=19150-19169
drover_e2e_init
AGENT_BIN=${DROVER_BUILD_DIR:?}/agent/drover-agent
[ -x "$AGENT_BIN" ] || fail "drover-agent is not built: $AGENT_BIN"
EXT_PID=""
trap 'rc=$?; [ -n "$EXT_PID" ] && kill -9 "$EXT_PID" 2>/dev/null; (exit $rc); drover_cleanup' EXIT

wait_for() { # SQL WANT SECONDS WHAT
    local i v
    for ((i = 0; i < $3 * 10; i++)); do
        v=$(drover_psql "$1")
        [ "$v" = "$2" ] && return 0
        sleep 0.1
    done
    fail "$4: $v, want $2 after $3 s"
}
# No process of the agent whose pod_name is proc-PID, nor of its process group, is left.
gone() {
    local pid=$1 i
    for ((i = 0; i < 20; i++)); do
        kill -0 "$pid" 2>/dev/null || pgrep -g "$pid" >/dev/null || return 0
        sleep 0.1
    done
    fail "agent process $pid (or its group: $(pgrep -g "$pid" | tr '\n' ' ')) outlived droverd"
}

repo=$(drover_repo)
# One agent, so the task goes to the pool's agent and not to the external one.
drover_psql "UPDATE pool_settings SET min_agents = 1, max_agents = 1" >/dev/null
mkdir -p "$DROVER_TMP/ws" "$DROVER_TMP/ext-ws"
export HEARTBEAT_INTERVAL=1 DROVER_POLL_WAIT=5 DROVER_STOP_GRACE=3
export DROVER_CODING_COMMAND="bash $SRC/agent/examples/demo-coder.sh"

# ---- 1: the real agent hands its task back before droverd stops -------------------------------
DROVER_WORKSPACE="$DROVER_TMP/ws" drover_start --pod-backend process --agent-command "$AGENT_BIN" \
    --agent-log-dir "$DROVER_TMP/agents" --pool-tick 30 --lease-seconds 60 \
    --heartbeat-interval 1 --shutdown-grace 20
wait_for "SELECT count(*) FROM agents WHERE status = 'idle'" 1 30 "the pool's agent is up"
task=$(drover_psql "INSERT INTO tasks (title, description, repo_url, max_attempts)
                    VALUES ('slow task', 'Write a note. sleep 60', '$repo', 3) RETURNING id")
wait_for "SELECT count(*) FROM activity WHERE task_id = $task AND message = 'working 2/60'" 1 30 \
    "the coding command is working"
pid=$(drover_psql "SELECT substr(a.pod_name, 6) FROM tasks t JOIN agents a ON a.id = t.agent_id
                   WHERE t.id = $task")
[ -n "$pid" ] && kill -0 "$pid" || fail "no agent process for task $task"

# An agent droverd did not start, idle and long-polling: it must outlive droverd's shutdown.
eval "$(drover_token agent outsider)"
AGENT_ID=$AGENT_ID DROVER_TOKEN=$DROVER_TOKEN DROVER_WORKSPACE="$DROVER_TMP/ext-ws" \
    MCP_SERVER_URL="$DROVER_URL/mcp" "$AGENT_BIN" \
    >"$DROVER_TMP/outsider.log" 2>&1 &
EXT_PID=$!
wait_for "SELECT status FROM agents WHERE id = '$AGENT_ID'" idle 15 "the outside agent is up"

t0=$(date +%s%N)
kill -TERM "$DROVER_PID"
rc=0
drover_wait_pid 60 "$DROVER_PID" || rc=$?
DROVER_PID=""
took=$((($(date +%s%N) - t0) / 1000000))
[ "$rc" = 0 ] || fail "droverd exited $rc on SIGTERM"
# The agent needs its stop grace (3 s) plus a push: well inside the 60 s lease.
[ "$took" -lt 15000 ] || fail "shutdown took $took ms"
row=$(drover_psql "SELECT state || '|' || attempt || '|' || (lease_expires_at IS NULL)
                   || '|' || coalesce(last_error, '') FROM tasks WHERE id = $task")
[[ $row == backlog\|1\|true\|*"agent shut down mid-task (SIGTERM)"*"handing the task back"* ]] ||
    fail "task not handed back: $row"
[ "$(drover_psql "SELECT count(*) FROM activity WHERE task_id = $task AND kind = 'state'
                  AND message LIKE 'in_progress -> backlog%'
                  AND coalesce(metadata->>'reason', '') <> 'lease_expired'")" = 1 ] ||
    fail "no activity row for the hand-back: $(drover_psql "SELECT string_agg(message || ' ' ||
         coalesce(metadata::text, ''), ' | ') FROM activity WHERE task_id = $task AND kind = 'state'")"
branch=$(drover_psql "SELECT branch FROM tasks WHERE id = $task")
git --git-dir "${repo#file://}" cat-file -e "refs/heads/$branch:drover-demo/wip-$task.txt" ||
    fail "the work in progress was not pushed"
[ "$(drover_psql "SELECT status FROM agents WHERE pod_name = 'proc-$pid'")" = offline ] ||
    fail "the pool's agent is not offline"
gone "$pid"
grep -q 'no new claims; waiting for this droverd' "$DROVER_LOG" || fail "no shutdown log line"
kill -0 "$EXT_PID" 2>/dev/null || fail "droverd's shutdown stopped an agent it did not start"
[ "$(drover_psql "SELECT count(*) FROM activity WHERE agent_id = '$AGENT_ID'
                  AND message = 'backlog -> in_progress'")" = 0 ] ||
    fail "the outside agent was handed a task during the shutdown"
pass "SIGTERM: task $task back in the backlog after $took ms (lease 60 s), droverd exited 0," \
    "no agent process left, the outside agent untouched"
kill -TERM "$EXT_PID"
drover_wait_pid 30 "$EXT_PID" 2>/dev/null
EXT_PID=""
# Its goodbye found no droverd: take it out of the pool's count as the stale reaper would.
drover_psql "UPDATE agents SET status = 'offline' WHERE id = '$AGENT_ID'" >/dev/null

# ---- 2: an agent that ignores SIGTERM is killed after --shutdown-grace ---------------------------
cat >"$DROVER_TMP/stubborn.sh" <<'EOF'
#!/usr/bin/env bash
# Claims one task and works on it "forever" (until droverd SIGKILLs it, or 120 s should droverd
# be gone), ignoring SIGTERM.
trap '' TERM
url=${MCP_SERVER_URL%/mcp}
H=(-H "Authorization: Bearer $DROVER_TOKEN" -H 'Content-Type: application/json')
while [ $SECONDS -lt 120 ]; do
    curl -s --max-time 3 "${H[@]}" "$url/heartbeat" -d "{\"agentId\":\"$AGENT_ID\"}" >/dev/null
    curl -s --max-time 5 "${H[@]}" "$url/tools/call" \
        -d '{"name":"get_next_task","arguments":{"wait_seconds":1}}' | grep -q '"id"' && break
done
while [ $SECONDS -lt 120 ]; do
    curl -s --max-time 3 "${H[@]}" "$url/heartbeat" -d "{\"agentId\":\"$AGENT_ID\"}" >/dev/null
    sleep 0.5
done
EOF
task2=$(drover_psql "INSERT INTO tasks (title, repo_url, max_attempts)
                     VALUES ('stubborn task', '$repo', 3) RETURNING id")
drover_start --pod-backend process --agent-command "bash $DROVER_TMP/stubborn.sh" \
    --agent-log-dir "$DROVER_TMP/agents2" --pool-tick 30 --lease-seconds 60 --shutdown-grace 3
wait_for "SELECT state FROM tasks WHERE id = $task2" in_progress 30 \
    "the stubborn agent's claim (agents: $(drover_psql "SELECT string_agg(status, ',') FROM agents"); $(tail -n 5 "$DROVER_TMP"/agents2/*.log 2>&1))"
pid=$(drover_psql "SELECT substr(a.pod_name, 6) FROM tasks t JOIN agents a ON a.id = t.agent_id
                   WHERE t.id = $task2")
t0=$(date +%s%N)
kill -TERM "$DROVER_PID"
# During the grace droverd still serves (its agents hand tasks back through it) but is not
# ready: a load balancer or Kubernetes Service sends nothing new its way.
sleep 1
ready=$(curl -s -o /dev/null -w '%{http_code}' "$DROVER_URL/ready")
health=$(curl -s -o /dev/null -w '%{http_code}' "$DROVER_URL/health")
[ "$ready" = 503 ] && [ "$health" = 200 ] ||
    fail "during the shutdown grace: /ready $ready (wanted 503), /health $health (wanted 200)"
rc=0
drover_wait_pid 60 "$DROVER_PID" || rc=$?
DROVER_PID=""
took=$((($(date +%s%N) - t0) / 1000000))
[ "$rc" = 0 ] || fail "droverd exited $rc"
[ "$took" -ge 2900 ] && [ "$took" -lt 10000 ] || fail "shutdown with a stubborn agent took $took ms (grace 3 s)"
gone "$pid"
[ "$(drover_psql "SELECT state || '|' || attempt FROM tasks WHERE id = $task2")" = "backlog|1" ] ||
    fail "the killed agent's task is not back: $(drover_psql "SELECT state, attempt FROM tasks WHERE id = $task2")"
[ "$(drover_psql "SELECT offline_reason FROM agents WHERE pod_name = 'proc-$pid'")" = \
    "pod ended: killed by signal 9" ] ||
    fail "agent row: $(drover_psql "SELECT status, offline_reason FROM agents WHERE pod_name = 'proc-$pid'")"
grep -q 'outlived its grace' "$DROVER_LOG" || fail "no SIGKILL log line"
pass "an agent ignoring SIGTERM: killed after the 3 s grace ($took ms), its task requeued at once;" \
    "/ready 503 and /health 200 meanwhile"
