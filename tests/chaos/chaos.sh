#!/usr/bin/env bash
# The chaos suite (docs/chaos.md): a PostgreSQL cluster of its own, droverd with the process
# backend, drover-agent agents running the deterministic demo coding command against a real
# local bare git repository, and faults at random moments while CHAOS_TASKS tasks run:
#   - agents kill -9'd (CHAOS_KILL_EVERY seconds on average),
#   - droverd SIGKILLed and restarted twice,
#   - PostgreSQL restarted once with `pg_ctl restart -m immediate`,
#   - network delays: agents reach droverd through a loopback proxy that stalls connections.
# Afterwards it asserts from the database and the git remote that every task is terminal
# (ready_to_test is the agents' success state), none was completed twice, no write from an
# agent whose lease had expired landed, every retried task has the claim / release rows that
# explain it, every finished task's commit is on the remote, and no agent process is left.
# Its last line is the summary: `tasks N, kills K, restarts R, lost L, duplicated D`.
#
# Environment: CHAOS_TASKS (1000), CHAOS_AGENTS (8), CHAOS_SEED ($$), CHAOS_DEADLINE seconds
# (1800), CHAOS_PORTS (18660-18699), DROVER_SOURCE_DIR / DROVER_BUILD_DIR. Runs initdb itself
# (as the postgres user via runuser when run as root).
set -uo pipefail

SRC=${DROVER_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
# Nothing of the caller's environment but CHAOS_* and the build: tests/e2e/harness.sh.
# shellcheck source=../e2e/harness.sh
. "$SRC/tests/e2e/harness.sh"
BUILD=${DROVER_BUILD_DIR:-$SRC/build}
TASKS=${CHAOS_TASKS:-1000}
NAGENTS=${CHAOS_AGENTS:-8}
SEED=${CHAOS_SEED:-$$}
DEADLINE=${CHAOS_DEADLINE:-1800}
PORTS=${CHAOS_PORTS:-18660-18699}
KILL_EVERY=${CHAOS_KILL_EVERY:-2}
DROVERD=$BUILD/droverd
AGENT=$BUILD/agent/drover-agent
RANDOM=$SEED

skip() {
    if [ "${DROVER_TEST_REQUIRE_DB:-0}" = 1 ]; then
        echo "chaos: prerequisite missing: $*" >&2
        exit 1
    fi
    echo "chaos: skipped: $*" >&2
    exit 77
}
[ -x "$DROVERD" ] && [ -x "$AGENT" ] || skip "build droverd and drover-agent first ($BUILD)"
for c in git python3 psql curl jq; do command -v $c >/dev/null || skip "$c missing"; done
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$PGBIN" ] && [ -x "$PGBIN/initdb" ] || PGBIN=$(dirname "$(command -v initdb 2>/dev/null || echo /x/x)")
[ -x "$PGBIN/initdb" ] || skip "initdb not found"
AS_PG=()
if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || skip "running as root without a postgres user"
    AS_PG=(runuser -u postgres --)
fi

W=$(mktemp -d /tmp/drover-chaos.XXXXXX)
chmod 755 "$W"
drover_harness_home "$W/home"
LOG=$W/chaos.log
DPID= PPID_PROXY=
log() { echo "chaos: $*" | tee -a "$LOG" >&2; }
die() {
    log "FAIL: $*"
    for f in "$W"/droverd.log "$W"/pgsock/pg.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }; done
    exit 1
}

# --- ports -----------------------------------------------------------------------------------
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
lo=${PORTS%-*} hi=${PORTS#*-}
pick_port() {
    local p
    for ((p = lo + RANDOM % (hi - lo + 1), i = 0; i <= hi - lo; i++, p = (p - lo + 1) % (hi - lo + 1) + lo)); do
        port_busy "$p" || [ -n "${USED[$p]:-}" ] || { USED[$p]=1; echo "$p"; return 0; }
    done
    die "no free port in $PORTS"
}
declare -A USED
PGPORT_CHAOS=$(pick_port)
USED[$PGPORT_CHAOS]=1
DPORT=$(pick_port)
USED[$DPORT]=1
PPORT=$(pick_port)

# --- PostgreSQL ------------------------------------------------------------------------------
mkdir -p "$W/pg" "$W/pgsock"
[ ${#AS_PG[@]} -gt 0 ] && chown postgres "$W/pg" "$W/pgsock"
"${AS_PG[@]}" "$PGBIN/initdb" -D "$W/pg" -A trust -U postgres >"$W/initdb.log" 2>&1 || die "initdb failed: $(tail -3 "$W/initdb.log")"
PGOPTS="-p $PGPORT_CHAOS -k $W/pgsock -c listen_addresses='' -c max_connections=200 -c shared_buffers=64MB"
pg_ctl_() { "${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$W/pg" -l "$W/pgsock/pg.log" -w -t 60 -o "$PGOPTS" "$@" >>"$W/pgctl.log" 2>&1; }
pg_ctl_ start || die "PostgreSQL did not start"
export PGHOST=$W/pgsock PGPORT=$PGPORT_CHAOS PGUSER=postgres PGDATABASE=postgres
unset PGOPTIONS PGPASSWORD
q() { psql -X -qAt -v ON_ERROR_STOP=1 -c "$1"; }
"$DROVERD" migrate >>"$LOG" 2>&1 || die "migrate failed"

cleanup() {
    local rc=$?
    [ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null
    [ -n "$PPID_PROXY" ] && kill "$PPID_PROXY" 2>/dev/null
    pkill -9 -f "drover-agent-chaos-$SEED" 2>/dev/null
    pg_ctl_ stop -m fast || true
    if [ $rc = 0 ] && [ "${CHAOS_KEEP:-0}" != 1 ]; then rm -rf "$W"; else echo "chaos: files kept in $W" >&2; fi
    exit $rc
}
trap cleanup EXIT

# --- the git remote --------------------------------------------------------------------------
git init -q --bare -b main "$W/remote.git"
git init -q -b main "$W/seed"
echo "# chaos" >"$W/seed/README.md"
git -C "$W/seed" add -A
git -C "$W/seed" -c user.name=seed -c user.email=seed@test commit -qm initial
git -C "$W/seed" push -q "$W/remote.git" main
REPO=file://$W/remote.git

# --- droverd, the proxy, the agents ------------------------------------------------------------
# The agent command names itself so leftovers can be found (and counted as orphans).
cat >"$W/agent.sh" <<EOF
#!/usr/bin/env bash
exec -a drover-agent-chaos-$SEED "$AGENT"
EOF
chmod +x "$W/agent.sh"
ADMIN=$("$DROVERD" token create --scope admin --name chaos-admin 2>>"$LOG") || die "token"
export DROVER_CODING_COMMAND="bash $SRC/agent/examples/demo-coder.sh" DROVER_WORKSPACE=$W/ws
export HEARTBEAT_INTERVAL=1 DROVER_POLL_WAIT=1 DROVER_STOP_GRACE=2 DROVER_LOG_LEVEL=info
start_droverd() {
    local i
    for i in $(seq 1 50); do
        "$DROVERD" serve --listen "127.0.0.1:$DPORT" --pod-backend process \
            --agent-command "$W/agent.sh" --agent-log-dir "$W/agents" \
            --agent-server-url "http://127.0.0.1:$PPORT/mcp" \
            --lease-seconds 6 --heartbeat-interval 1 --sweep-interval 1 --pool-tick 1 \
            --pool-stale-after 6 --pool-stabilization 2 --pool-grace 2 --pool-startup-deadline 30 --pool-max-starting "$NAGENTS" \
            --pool-orphan-grace 5 --pool-hard-cap 64 >>"$W/droverd.log" 2>&1 &
        DPID=$!
        for _ in $(seq 1 100); do
            kill -0 "$DPID" 2>/dev/null || break
            curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$DPORT/ready" 2>/dev/null && return 0
            sleep 0.1
        done
        kill -9 "$DPID" 2>/dev/null
        wait "$DPID" 2>/dev/null
        sleep 0.5 # the port may still be held by the killed process's sockets
    done
    die "droverd did not start"
}
api() { curl -s --max-time 10 -o /dev/null -w '%{http_code}' -X "$1" -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' ${3:+--data-binary "$3"} "http://127.0.0.1:$DPORT$2"; }

python3 "$SRC/tests/chaos/stall_proxy.py" "$PPORT" "$DPORT" "$SEED" 3 2 >"$W/proxy.out" 2>&1 &
PPID_PROXY=$!
start_droverd
[ "$(api PUT /api/pool "{\"min_agents\":$NAGENTS,\"max_agents\":$NAGENTS}")" = 200 ] || die "PUT /api/pool"

q "INSERT INTO tasks (title, description, repo_url, max_attempts, priority)
   SELECT 'chaos ' || g, 'chaos task ' || g || ' of $TASKS', '$REPO', 20, 0 FROM generate_series(1, $TASKS) g" ||
    die "enqueue"
log "seed $SEED: $TASKS tasks, $NAGENTS agents, droverd :$DPORT via proxy :$PPORT, PostgreSQL :$PGPORT_CHAOS"

# --- faults ------------------------------------------------------------------------------------
KILLS=0 RESTARTS=0
open_tasks() { q "SELECT count(*) FROM tasks WHERE state IN ('backlog', 'in_progress')" 2>/dev/null || echo -1; }
done_tasks() { q "SELECT count(*) FROM tasks WHERE state NOT IN ('backlog', 'in_progress')" 2>/dev/null || echo -1; }
# Progress fractions at which droverd is killed (twice) and PostgreSQL restarted (once).
K1=$((15 + RANDOM % 10)) PGAT=$((40 + RANDOM % 10)) K2=$((65 + RANDOM % 10))
did_k1= did_k2= did_pg=
start=$(date +%s)
next_kill=$((start + 1 + RANDOM % (2 * KILL_EVERY)))
while :; do
    now=$(date +%s)
    [ $((now - start)) -lt "$DEADLINE" ] || { log "deadline of ${DEADLINE}s reached"; break; }
    open=$(open_tasks)
    [ "$open" = 0 ] && break
    d=$(done_tasks)
    pct=$((d >= 0 ? d * 100 / TASKS : 0))
    if [ "$now" -ge "$next_kill" ]; then
        mapfile -t pids < <(pgrep -f "^drover-agent-chaos-$SEED" || true)
        if [ ${#pids[@]} -gt 0 ]; then
            victim=${pids[$((RANDOM % ${#pids[@]}))]}
            kill -9 "$victim" 2>/dev/null && KILLS=$((KILLS + 1))
        fi
        next_kill=$((now + 1 + RANDOM % (2 * KILL_EVERY)))
    fi
    if { [ -z "$did_k1" ] && [ "$pct" -ge "$K1" ]; } ||
        { [ -n "$did_k1" ] && [ -z "$did_k2" ] && [ "$pct" -ge "$K2" ]; }; then
        if [ -z "$did_k1" ]; then did_k1=1; else did_k2=1; fi
        log "SIGKILL droverd at $pct% done"
        kill -9 "$DPID"
        wait "$DPID" 2>/dev/null
        sleep $((1 + RANDOM % 3))
        start_droverd
        RESTARTS=$((RESTARTS + 1))
    fi
    if [ -z "$did_pg" ] && [ "$pct" -ge "$PGAT" ]; then
        did_pg=1
        log "pg_ctl restart -m immediate at $pct% done"
        pg_ctl_ restart -m immediate || die "PostgreSQL did not restart"
        RESTARTS=$((RESTARTS + 1))
    fi
    sleep 0.5
done
elapsed=$(($(date +%s) - start))
log "workload over after ${elapsed}s: kills $KILLS, restarts $RESTARTS"

# --- drain: every agent must leave, then droverd stops ----------------------------------------
code=$(api PUT /api/pool '{"min_agents":0,"max_agents":0}')
[ "$code" = 200 ] || log "PUT /api/pool to drain: HTTP $code"
drain=$(date +%s)
for _ in $(seq 1 60); do
    pgrep -f "^drover-agent-chaos-$SEED" >/dev/null || break
    sleep 1
done
log "drain: $(pgrep -fc "^drover-agent-chaos-$SEED") agents left after $(($(date +%s) - drain))s"
kill -TERM "$DPID"
drover_wait_pid 60 "$DPID" 2>/dev/null
DRC=$?
DPID=
sleep 1
ORPHANS=$(pgrep -fc "^drover-agent-chaos-$SEED" || true)
ORPHANS_CODERS=$(pgrep -fc "demo-coder.sh" -U "$(id -u)" 2>/dev/null | head -1)
kill "$PPID_PROXY" 2>/dev/null
drover_wait_pid 10 "$PPID_PROXY" 2>/dev/null
PPID_PROXY=
STALLS=$(sed -n 's/^stalls //p' "$W/proxy.out")

# --- assertions --------------------------------------------------------------------------------
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
[ "$DRC" = 0 ] || FAILS+=("droverd exited with status $DRC on SIGTERM")
# Sanitizer builds: any report from droverd or an agent fails the run.
SAN=$(grep -lE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$W/droverd.log" "$W"/agents/*.log 2>/dev/null | wc -l)
[ "$SAN" = 0 ] || FAILS+=("sanitizer reports in $SAN log files")
[ "$RESTARTS" = 3 ] || FAILS+=("only $RESTARTS of 3 restarts happened (the run ended early)")
STATES=$(q "SELECT string_agg(state || ' ' || n, ', ') FROM (SELECT state, count(*) n FROM tasks GROUP BY state ORDER BY state) s")
log "states: $STATES; retried $RETRIED; proxy stalls ${STALLS:-?}; orphan coders ${ORPHANS_CODERS:-0}; ${elapsed}s"
for f in "${FAILS[@]}"; do log "FAIL: $f"; done
echo "tasks $TASKS, kills $KILLS, restarts $RESTARTS, lost $LOST, duplicated $DUP"
[ ${#FAILS[@]} = 0 ]
