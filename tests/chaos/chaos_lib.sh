# shellcheck shell=bash
# The functions set and read the suite's globals (start, STATES, RETRIED, ...) by design:
# shellcheck disable=SC2034,SC2154
# What the two chaos suites share (tests/chaos/chaos.sh and chaos_replicas.sh, docs/chaos.md):
# the prerequisites, the scratch directory, the ports, the PostgreSQL cluster of their own, the
# git remote, the named agent command, the fault loop's common steps and the assertions every
# run makes. One copy, so a fix to an assertion or to the cluster's set-up reaches both suites.
# Sourced after tests/e2e/harness.sh; the functions read the suite's settings (SRC, BUILD,
# DROVERD, AGENT, SEED, PORTS, TASKS, KILL_EVERY, DEADLINE, ...) when they are called.
#
#   skip MSG                 exit 77 (a prerequisite is missing), or 1 under DROVER_TEST_REQUIRE_DB=1
#   chaos_require CMD...     droverd and drover-agent built, CMDs and initdb there; sets PGBIN, AS_PG
#   chaos_workdir PREFIX     W (mode 755, the HOME of what runs) and LOG
#   log MSG / die MSG        to stderr and LOG; die tails the logs (CHAOS_DIE_TAIL lines) and exits 1
#   chaos_port VAR           a free port of PORTS into VAR (an array element too), or die
#   chaos_start_pg MAXCONN   initdb, start, PG* exported, droverd migrate; then pg_ctl_ and q
#   chaos_cleanup_end RC     the agents killed, PostgreSQL stopped, W removed (or kept), exit RC
#   chaos_git_remote         a bare remote with one commit: REPO
#   chaos_agent_script       W/agent.sh: drover-agent under the name drover-agent-chaos-SEED
#   chaos_await_ready PID PORT  0 when PID answers /ready on PORT; else PID killed, 1
#   api METHOD PATH [BODY [BASE]]  HTTP status of an admin call to BASE (default API_BASE)
#   chaos_enqueue            TASKS tasks against REPO
#   chaos_tick               one fault-loop step's clock and progress (now, open, d, pct); 1 to stop
#   chaos_kill_agent         at next_kill, kill -9 a random agent (KILLS) and draw the next time
#   chaos_restart_pg         once, at PGAT % done: pg_ctl restart -m immediate; 1 when not due
#   chaos_assert_tasks       FAILS from the database and the remote; LOST, DUP, RETRIED, STATES
#   chaos_assert_sanitizers FILE...  a FAILS entry when a log holds a sanitizer report
#   chaos_finish SUMMARY     the FAILS logged, SUMMARY as the last line; status 0 when none failed

skip() {
    if [ "${DROVER_TEST_REQUIRE_DB:-0}" = 1 ]; then
        echo "chaos: prerequisite missing: $*" >&2
        exit 1
    fi
    echo "chaos: skipped: $*" >&2
    exit 77
}

chaos_require() {
    local c
    [ -x "$DROVERD" ] && [ -x "$AGENT" ] || skip "build droverd and drover-agent first ($BUILD)"
    for c in "$@"; do command -v "$c" >/dev/null || skip "$c missing"; done
    PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    [ -n "$PGBIN" ] && [ -x "$PGBIN/initdb" ] || PGBIN=$(dirname "$(command -v initdb 2>/dev/null || echo /x/x)")
    [ -x "$PGBIN/initdb" ] || skip "initdb not found"
    AS_PG=()
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || skip "running as root without a postgres user"
        AS_PG=(runuser -u postgres --)
    fi
}

chaos_workdir() {
    W=$(mktemp -d "/tmp/$1.XXXXXX")
    chmod 755 "$W"
    drover_harness_home "$W/home"
    LOG=$W/chaos.log
}

log() { echo "chaos: $*" | tee -a "$LOG" >&2; }
# The logs that explain a failure: droverd's (one, or one a replica), PostgreSQL's, HAProxy's.
die() {
    local f
    log "FAIL: $*"
    for f in "$W"/droverd*.log "$W"/pgsock/pg.log "$W"/haproxy.log; do
        [ -f "$f" ] && { echo "--- $f" >&2; tail -n "${CHAOS_DIE_TAIL:-30}" "$f" >&2; }
    done
    exit 1
}

# --- ports -----------------------------------------------------------------------------------
declare -A USED
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() {
    local p i lo=${PORTS%-*} hi=${PORTS#*-}
    for ((p = lo + RANDOM % (hi - lo + 1), i = 0; i <= hi - lo; i++, p = (p - lo + 1) % (hi - lo + 1) + lo)); do
        port_busy "$p" || [ -n "${USED[$p]:-}" ] || { USED[$p]=1; echo "$p"; return 0; }
    done
    return 1
}
# pick_port runs in a subshell: its USED entry is lost, so the port is marked used here.
chaos_port() {
    local p
    p=$(pick_port) || die "no free port in $PORTS"
    USED[$p]=1
    printf -v "$1" %s "$p"
}

# --- PostgreSQL ------------------------------------------------------------------------------
pg_ctl_() { "${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$W/pg" -l "$W/pgsock/pg.log" -w -t 60 -o "$PGOPTS" "$@" >>"$W/pgctl.log" 2>&1; }
q() { psql -X -qAt -v ON_ERROR_STOP=1 -c "$1"; }
chaos_start_pg() {
    mkdir -p "$W/pg" "$W/pgsock"
    [ ${#AS_PG[@]} -gt 0 ] && chown postgres "$W/pg" "$W/pgsock"
    "${AS_PG[@]}" "$PGBIN/initdb" -D "$W/pg" -A trust -U postgres >"$W/initdb.log" 2>&1 || die "initdb failed: $(tail -3 "$W/initdb.log")"
    PGOPTS="-p $PGPORT_CHAOS -k $W/pgsock -c listen_addresses='' -c max_connections=$1 -c shared_buffers=64MB"
    pg_ctl_ start || die "PostgreSQL did not start"
    export PGHOST=$W/pgsock PGPORT=$PGPORT_CHAOS PGUSER=postgres PGDATABASE=postgres
    unset PGOPTIONS PGPASSWORD
    "$DROVERD" migrate >>"$LOG" 2>&1 || die "migrate failed"
}

# The suite's cleanup kills its own processes first, then ends here.
chaos_cleanup_end() {
    local rc=$1
    pkill -9 -f "drover-agent-chaos-$SEED" 2>/dev/null
    pg_ctl_ stop -m fast || true
    if [ "$rc" = 0 ] && [ "${CHAOS_KEEP:-0}" != 1 ]; then rm -rf "$W"; else echo "chaos: files kept in $W" >&2; fi
    exit "$rc"
}

# --- the git remote and the agent command ------------------------------------------------------
chaos_git_remote() {
    drover_git_seed "$W/remote.git" "$W/seed" chaos
    REPO=file://$W/remote.git
}

# The agent command names itself so leftovers can be found (and counted as orphans).
chaos_agent_script() {
    cat >"$W/agent.sh" <<EOF
#!/usr/bin/env bash
exec -a drover-agent-chaos-$SEED "$AGENT"
EOF
    chmod +x "$W/agent.sh"
}

# --- droverd -----------------------------------------------------------------------------------
chaos_await_ready() {
    local pid=$1 port=$2
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$port/ready" 2>/dev/null && return 0
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    sleep 0.5 # the port may still be held by the killed process's sockets
    return 1
}
api() { curl -s --max-time 10 -o /dev/null -w '%{http_code}' -X "$1" -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' ${3:+--data-binary "$3"} "${4:-$API_BASE}$2"; }

chaos_enqueue() {
    q "INSERT INTO tasks (title, description, repo_url, max_attempts, priority)
   SELECT 'chaos ' || g, 'chaos task ' || g || ' of $TASKS', '$REPO', 20, 0 FROM generate_series(1, $TASKS) g" ||
        die "enqueue"
}

# --- the fault loop ------------------------------------------------------------------------------
open_tasks() { q "SELECT count(*) FROM tasks WHERE state IN ('backlog', 'in_progress')" 2>/dev/null || echo -1; }
# The suite defines done_tasks (which tasks count towards the progress).
chaos_tick() {
    now=$(date +%s)
    [ $((now - start)) -lt "$DEADLINE" ] || { log "deadline of ${DEADLINE}s reached"; return 1; }
    open=$(open_tasks)
    [ "$open" = 0 ] && return 1
    d=$(done_tasks)
    pct=$((d >= 0 ? d * 100 / TASKS : 0))
    return 0
}
chaos_kill_agent() {
    local pids victim
    [ "$now" -ge "$next_kill" ] || return 0
    mapfile -t pids < <(pgrep -f "^drover-agent-chaos-$SEED" || true)
    if [ ${#pids[@]} -gt 0 ]; then
        victim=${pids[$((RANDOM % ${#pids[@]}))]}
        kill -9 "$victim" 2>/dev/null && KILLS=$((KILLS + 1))
    fi
    next_kill=$((now + 1 + RANDOM % (2 * KILL_EVERY)))
}
chaos_restart_pg() {
    [ -z "$did_pg" ] && [ "$pct" -ge "$PGAT" ] || return 1
    did_pg=1
    log "pg_ctl restart -m immediate at $pct% done"
    pg_ctl_ restart -m immediate || die "PostgreSQL did not restart"
}

# --- assertions --------------------------------------------------------------------------------
# Reads ORPHANS (the agent processes left) and W/remote.git.
chaos_assert_tasks() {
    local id br
    FAILS=()
    LOST=$(q "SELECT count(*) FROM tasks WHERE state NOT IN ('ready_to_test', 'completed', 'failed', 'cancelled')")
    [ "$LOST" = 0 ] || FAILS+=("$LOST tasks not terminal: $(q "SELECT string_agg(id || ':' || state, ' ') FROM (SELECT id, state FROM tasks WHERE state NOT IN ('ready_to_test','completed','failed','cancelled') LIMIT 10) x")")
    DUP=$(q "SELECT count(*) FROM (SELECT task_id FROM activity WHERE kind = 'state'
        AND metadata->>'to' IN ('ready_to_test', 'completed') GROUP BY task_id HAVING count(*) > 1) d")
    [ "$DUP" = 0 ] || FAILS+=("$DUP tasks completed more than once")
    # Every transition out of in_progress must follow the claim of the same epoch directly: a
    # write after the lease expired (reaper row in between) or from an older epoch never lands.
    STALE=$(q "SELECT count(*) FROM activity a WHERE a.kind = 'state' AND a.metadata->>'from' = 'in_progress'
        AND NOT EXISTS (SELECT 1 FROM (SELECT p.metadata FROM activity p WHERE p.task_id = a.task_id
             AND p.kind = 'state' AND p.id < a.id ORDER BY p.id DESC LIMIT 1) prev
           WHERE prev.metadata->>'to' = 'in_progress' AND prev.metadata->>'epoch' = a.metadata->>'epoch')")
    [ "$STALE" = 0 ] || FAILS+=("$STALE state writes landed without the matching live lease")
    # Every claim but a task's last is closed by a row that says why (lease expired, handed back,
    # failed attempt), and the attempt counter matches the claims.
    UNEXPLAINED=$(q "SELECT count(*) FROM tasks t,
        LATERAL (SELECT count(*) FILTER (WHERE metadata->>'to' = 'in_progress') AS claims,
                        count(*) FILTER (WHERE metadata->>'from' = 'in_progress') AS closes
                   FROM activity WHERE task_id = t.id AND kind = 'state') s
        WHERE s.claims <> t.attempt OR s.closes < s.claims - (CASE WHEN t.state = 'in_progress' THEN 1 ELSE 0 END)")
    [ "$UNEXPLAINED" = 0 ] || FAILS+=("$UNEXPLAINED retried tasks without attempt/activity rows explaining why")
    RETRIED=$(q "SELECT count(*) FROM tasks WHERE attempt > 1")
    # The remote has every successful task's branch with the demo coder's file for that task.
    NOBRANCH=0
    git -C "$W/remote.git" for-each-ref --format='%(refname:short)' refs/heads >"$W/branches"
    while IFS='|' read -r id br; do
        if ! grep -qxF "$br" "$W/branches" || ! git -C "$W/remote.git" cat-file -e "$br:drover-demo/task-$id.md" 2>/dev/null; then
            NOBRANCH=$((NOBRANCH + 1))
        fi
    done < <(q "SELECT id, coalesce(branch, '') FROM tasks WHERE state = 'ready_to_test'")
    [ "$NOBRANCH" = 0 ] || FAILS+=("$NOBRANCH finished tasks without their commit on the remote")
    [ "$ORPHANS" = 0 ] || FAILS+=("$ORPHANS agent processes left behind")
    # For the summary log line: the tasks by state.
    STATES=$(q "SELECT string_agg(state || ' ' || n, ', ') FROM (SELECT state, count(*) n FROM tasks GROUP BY state ORDER BY state) s")
}
# Sanitizer builds: any report from droverd or an agent fails the run.
chaos_assert_sanitizers() {
    SAN=$(grep -lE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$@" 2>/dev/null | wc -l)
    [ "$SAN" = 0 ] || FAILS+=("sanitizer reports in $SAN log files")
}
chaos_finish() {
    local f
    for f in "${FAILS[@]}"; do log "FAIL: $f"; done
    echo "$1"
    [ ${#FAILS[@]} = 0 ]
}
