#!/usr/bin/env bash
# No silent demo fallback, and the defaults a real repository needs (issue 12, items 1 and 7):
#  1. drover-agent with no DROVER_CODING_COMMAND, no `claude` on PATH and no model credentials
#     takes no task: it reports status `unusable` with the reason, seen in GET /api/agents,
#     `droverctl agents`, /metrics (drover_agents{status="unusable"}) and its log; the task
#     stays in backlog, and no drover-demo commit appears anywhere.
#  2. with `claude` on PATH but no credentials the reason names the missing credentials.
#  3. the same token restarted after a clean stop (offline), now with DROVER_CODING_COMMAND=demo,
#     takes the task at once (its first poll used to race its first heartbeat and exit).
#  4. a `master` repository whose project names no default branch: the base is the remote's
#     default (git ls-remote --symref), the branch starts from master, the task reaches
#     ready_to_test with the pull request's base master.
#  5. the pool (--pod-backend process) does not keep starting unusable agents: it retires them
#     and its circuit breaker opens with the agents' reason (scale_events), a bounded number of
#     agents created.
set -u
. "$(dirname "$0")/lib.sh"
export DROVER_PORT_RANGE=18770-18789
drover_e2e_init
AGENT_BIN=${DROVER_BUILD_DIR:?}/agent/drover-agent
CTL=${DROVER_BUILD_DIR}/agent/droverctl
[ -x "$AGENT_BIN" ] || fail "drover-agent is not built: $AGENT_BIN"
W=$DROVER_TMP
wait_sql() { # seconds sql want
    local i v
    for ((i = 0; i < $1 * 10; i++)); do
        v=$(drover_psql "$2")
        [ "$v" = "$3" ] && return 0
        sleep 0.1
    done
    echo "last value: $v" >&2
    return 1
}

# A master repository; its project names no default branch.
git init -q --bare -b master "$W/legacy.git"
git init -q -b master "$W/legacy-seed"
echo "legacy" >"$W/legacy-seed/README"
git -C "$W/legacy-seed" add README
git -C "$W/legacy-seed" -c user.name=e2e -c user.email=e2e@localhost commit -q -m init
git -C "$W/legacy-seed" push -q "$W/legacy.git" master
P=$("$DROVERD" project add --name legacy --repo-url "file://$W/legacy.git" | sed -n 's/^PROJECT_ID=//p')
[ -n "$P" ] || fail "project add failed"
[ "$(drover_psql "SELECT default_branch IS NULL FROM projects WHERE id = $P")" = t ] ||
    fail "a project added without --default-branch has one: $(drover_psql "SELECT default_branch FROM projects WHERE id = $P")"

drover_start --heartbeat-interval 1 --sweep-interval 1
ADMIN=$(drover_token admin unusable-admin)
T=$(drover_psql "INSERT INTO tasks (project_id, title, description) VALUES ($P, 'Greet', 'Add a greeting.') RETURNING id" | head -1)
out=$("$DROVERD" token create --scope agent --name lone --backend none)
AID=$(sed -n 's/^AGENT_ID=//p' <<<"$out")
ATOK=$(sed -n 's/^DROVER_TOKEN=//p' <<<"$out")
mkdir -p "$W/bin" "$W/ws"
ln -sf "$(command -v git)" "$W/bin/git"
run_agent() { # log extra-env...
    local log=$1
    shift
    env -i PATH="$W/bin:/usr/bin:/bin" HOME="$W/home" AGENT_ID="$AID" DROVER_TOKEN="$ATOK" \
        MCP_SERVER_URL="$DROVER_URL/mcp" DROVER_WORKSPACE="$W/ws" HEARTBEAT_INTERVAL=1 \
        DROVER_POLL_WAIT=1 GIT_CONFIG_NOSYSTEM=1 "$@" "$AGENT_BIN" >"$log" 2>&1 &
    echo $!
}

# --- 1: nothing usable ------------------------------------------------------------------------
pid=$(run_agent "$W/agent1.log")
wait_sql 20 "SELECT status FROM agents WHERE id = '$AID'" unusable ||
    fail "agent not unusable: $(drover_psql "SELECT status FROM agents WHERE id = '$AID'"); log: $(tail -5 "$W/agent1.log")"
reason=$(drover_psql "SELECT unusable_reason FROM agents WHERE id = '$AID'")
grep -q "claude (Claude Code) is not on PATH" <<<"$reason" || fail "unusable reason: $reason"
grep -q "unusable: no coding command" "$W/agent1.log" || fail "the agent's log does not say why: $(cat "$W/agent1.log")"
api=$(curl -fsS -H "Authorization: Bearer $ADMIN" "$DROVER_URL/api/agents/$AID")
[ "$(jq -r .status <<<"$api")" = unusable ] && [ "$(jq -r .unusable_reason <<<"$api")" = "$reason" ] ||
    fail "GET /api/agents/$AID: $api"
list=$(curl -fsS -H "Authorization: Bearer $ADMIN" "$DROVER_URL/api/agents?status=unusable")
[ "$(jq -r '.agents[0].id' <<<"$list")" = "$AID" ] || fail "GET /api/agents?status=unusable: $list"
DROVER_URL=$DROVER_URL DROVER_TOKEN=$ADMIN "$CTL" agents >"$W/ctl.out" 2>&1 || fail "droverctl agents: $(cat "$W/ctl.out")"
grep -q "unusable" "$W/ctl.out" && grep -qF "  unusable: $reason" "$W/ctl.out" ||
    fail "droverctl agents does not show the reason: $(cat "$W/ctl.out")"
curl -fsS "$DROVER_URL/metrics" -H "Authorization: Bearer $ADMIN" | grep -qx 'drover_agents{status="unusable"} 1' ||
    fail "/metrics: $(curl -sS "$DROVER_URL/metrics" -H "Authorization: Bearer $ADMIN" | grep drover_agents)"
sleep 2
[ "$(drover_psql "SELECT state FROM tasks WHERE id = $T")" = backlog ] || fail "an unusable agent took task $T"
! git --git-dir="$W/legacy.git" for-each-ref | grep -q drover || fail "an unusable agent pushed a branch"
kill -TERM "$pid"
drover_wait_pid 20 "$pid" >/dev/null
pass "no coding command: the agent is unusable (API, droverctl, metric, log) and takes no task"

# --- 2: claude on PATH, no credentials --------------------------------------------------------
printf '#!/bin/sh\necho "claude stub: must not run" >&2\nexit 9\n' >"$W/bin/claude"
chmod +x "$W/bin/claude"
pid=$(run_agent "$W/agent2.log")
wait_sql 20 "SELECT unusable_reason LIKE 'no model credentials for Claude Code:%' FROM agents WHERE id = '$AID'" t ||
    fail "reason without credentials: $(drover_psql "SELECT status, unusable_reason FROM agents WHERE id = '$AID'")"
grep -q "CLAUDE_CODE_OAUTH_TOKEN" <<<"$(drover_psql "SELECT unusable_reason FROM agents WHERE id = '$AID'")" ||
    fail "the reason does not list the ways to authenticate"
kill -TERM "$pid"
drover_wait_pid 20 "$pid" >/dev/null
[ "$(drover_psql "SELECT status FROM agents WHERE id = '$AID'")" = offline ] || fail "a clean stop did not leave the agent offline"
pass "claude without credentials: unusable, the reason lists the ways Claude Code authenticates"

# --- 3 + 4: restarted with the same token, the demo coder by name, a master repository --------
pid=$(run_agent "$W/agent3.log" DROVER_CODING_COMMAND=demo)
wait_sql 40 "SELECT state FROM tasks WHERE id = $T" ready_to_test ||
    fail "task $T: $(drover_psql "SELECT state, last_error FROM tasks WHERE id = $T"); agent: $(tail -20 "$W/agent3.log")"
! grep -q "draining: no more tasks" "$W/agent3.log" || fail "the restarted agent was refused as offline"
grep -q "coder='the demo coder (DROVER_CODING_COMMAND=demo; not AI)'" "$W/agent3.log" ||
    fail "the agent does not say it runs the demo coder: $(head -3 "$W/agent3.log")"
br=$(drover_psql "SELECT branch FROM tasks WHERE id = $T")
git --git-dir="$W/legacy.git" cat-file -e "refs/heads/$br:drover-demo/task-$T.md" || fail "no demo commit on $br"
[ "$(git --git-dir="$W/legacy.git" rev-parse "refs/heads/$br~1")" = "$(git --git-dir="$W/legacy.git" rev-parse master)" ] ||
    fail "branch $br does not start from master"
[ "$(drover_psql "SELECT pull_request->>'base' FROM tasks WHERE id = $T")" = master ] ||
    fail "pull request base: $(drover_psql "SELECT pull_request FROM tasks WHERE id = $T")"
drover_psql "SELECT 1 FROM activity WHERE task_id = $T AND message LIKE 'no base branch given: the repository''s default is master'" | grep -q 1 ||
    fail "the activity does not say the base came from the remote"
kill -TERM "$pid"
drover_wait_pid 20 "$pid" >/dev/null
pass "restart with the same token after a clean stop takes tasks; a master repository works"

# --- 6: a coding command that cannot start --------------------------------------------------
T2=$(drover_psql "INSERT INTO tasks (project_id, title, description, max_attempts) VALUES ($P, 'Nope', 'x', 1) RETURNING id" | head -1)
T3=$(drover_psql "INSERT INTO tasks (project_id, title, description, priority) VALUES ($P, 'Later', 'x', -1) RETURNING id" | head -1)
pid=$(run_agent "$W/agent6.log" DROVER_CODING_COMMAND="/nonexistent/coder --go")
wait_sql 40 "SELECT state FROM tasks WHERE id = $T2" failed ||
    fail "task $T2: $(drover_psql "SELECT state, last_error FROM tasks WHERE id = $T2")"
drover_psql "SELECT last_error FROM tasks WHERE id = $T2" | grep -q "exited with status 127: .*/nonexistent/coder.*not found" ||
    fail "the error does not say the command was not found: $(drover_psql "SELECT last_error FROM tasks WHERE id = $T2")"
wait_sql 20 "SELECT status || ' ' || (unusable_reason LIKE 'the coding command cannot start:%') FROM agents WHERE id = '$AID'" "unusable true" ||
    fail "the agent did not become unusable: $(drover_psql "SELECT status, unusable_reason FROM agents WHERE id = '$AID'")"
sleep 2
[ "$(drover_psql "SELECT state FROM tasks WHERE id = $T3")" = backlog ] || fail "an agent whose command cannot start took another task"
kill -TERM "$pid"
drover_wait_pid 20 "$pid" >/dev/null
pass "a coding command that cannot start: the task fails with the shell's reason, the agent turns unusable"
drover_psql "UPDATE tasks SET state = 'cancelled' WHERE id = $T3" >/dev/null
drover_stop || fail "droverd exited non-zero"

# --- 5: the pool's circuit breaker -----------------------------------------------------------
PATH="$W/bin:$PATH" DROVER_WORKSPACE="$W/ws" HEARTBEAT_INTERVAL=1 \
    drover_start --pod-backend process --agent-command "$AGENT_BIN" --agent-log-dir "$W/agents" \
    --heartbeat-interval 1 --sweep-interval 1 --pool-tick 1 --pool-grace 3
wait_sql 40 "SELECT count(*) > 0 FROM scale_events WHERE breaker_open AND reason LIKE '%unusable: no model credentials%'" t ||
    fail "no open breaker with the reason; decisions: $(drover_psql "SELECT string_agg(reason, ' | ' ORDER BY id) FROM (SELECT * FROM scale_events ORDER BY id DESC LIMIT 4) s")"
n1=$(drover_psql "SELECT count(*) FROM agents WHERE backend = 'process'")
sleep 5
n2=$(drover_psql "SELECT count(*) FROM agents WHERE backend = 'process'")
# Open: at most one probe agent per back-off (10 s and growing).
[ "$n2" -le $((n1 + 1)) ] || fail "the pool keeps starting unusable agents: $n1 then $n2 in 5 s"
[ "$(drover_psql "SELECT count(*) FROM agents WHERE backend = 'process' AND offline_reason LIKE 'unusable: %'")" -ge 1 ] ||
    fail "no agent retired as unusable: $(drover_psql "SELECT status || ' ' || coalesce(offline_reason, '') FROM agents WHERE backend = 'process'")"
[ "$(drover_psql "SELECT state FROM tasks WHERE id = $T")" = ready_to_test ] || fail "task $T moved"
pass "the pool retires unusable agents and opens its circuit breaker with their reason ($n2 agents)"
drover_stop || fail "droverd exited non-zero"
