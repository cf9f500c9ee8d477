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
# shellcheck source=chaos_lib.sh
. "$SRC/tests/chaos/chaos_lib.sh"
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

chaos_require git python3 psql curl jq
chaos_workdir drover-chaos
DPID= PPID_PROXY=

# --- ports -----------------------------------------------------------------------------------
chaos_port PGPORT_CHAOS
chaos_port DPORT
chaos_port PPORT

# --- PostgreSQL ------------------------------------------------------------------------------
chaos_start_pg 200

cleanup() {
    local rc=$?
    [ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null
    [ -n "$PPID_PROXY" ] && kill "$PPID_PROXY" 2>/dev/null
    chaos_cleanup_end $rc
}
trap cleanup EXIT

# --- the git remote --------------------------------------------------------------------------
chaos_git_remote

# --- droverd, the proxy, the agents ------------------------------------------------------------
chaos_agent_script
ADMIN=$("$DROVERD" token create --scope admin --name chaos-admin 2>>"$LOG") || die "token"
export DROVER_CODING_COMMAND="bash $SRC/agent/examples/demo-coder.sh" DROVER_WORKSPACE=$W/ws
export HEARTBEAT_INTERVAL=1 DROVER_POLL_WAIT=1 DROVER_STOP_GRACE=2 DROVER_LOG_LEVEL=info
start_droverd() {
    local i
    for i in $(seq 1 50); do
        # shellcheck disable=SC2153 # PPORT is set by chaos_port
        "$DROVERD" serve --listen "127.0.0.1:$DPORT" --pod-backend process \
            --agent-command "$W/agent.sh" --agent-log-dir "$W/agents" \
            --agent-server-url "http://127.0.0.1:$PPORT/mcp" \
            --lease-seconds 6 --heartbeat-interval 1 --sweep-interval 1 --pool-tick 1 \
            --pool-stale-after 6 --pool-stabilization 2 --pool-grace 2 --pool-startup-deadline 30 --pool-max-starting "$NAGENTS" \
            --pool-orphan-grace 5 --pool-hard-cap 64 >>"$W/droverd.log" 2>&1 &
        DPID=$!
        chaos_await_ready "$DPID" "$DPORT" && return 0
    done
    die "droverd did not start"
}
API_BASE=http://127.0.0.1:$DPORT

python3 "$SRC/tests/chaos/stall_proxy.py" "$PPORT" "$DPORT" "$SEED" 3 2 >"$W/proxy.out" 2>&1 &
PPID_PROXY=$!
start_droverd
[ "$(api PUT /api/pool "{\"min_agents\":$NAGENTS,\"max_agents\":$NAGENTS}")" = 200 ] || die "PUT /api/pool"

chaos_enqueue
log "seed $SEED: $TASKS tasks, $NAGENTS agents, droverd :$DPORT via proxy :$PPORT, PostgreSQL :$PGPORT_CHAOS"

# --- faults ------------------------------------------------------------------------------------
KILLS=0 RESTARTS=0
done_tasks() { q "SELECT count(*) FROM tasks WHERE state NOT IN ('backlog', 'in_progress')" 2>/dev/null || echo -1; }
# Progress fractions at which droverd is killed (twice) and PostgreSQL restarted (once).
K1=$((15 + RANDOM % 10)) PGAT=$((40 + RANDOM % 10)) K2=$((65 + RANDOM % 10))
did_k1= did_k2= did_pg=
start=$(date +%s)
next_kill=$((start + 1 + RANDOM % (2 * KILL_EVERY)))
while :; do
    chaos_tick || break
    chaos_kill_agent
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
    if chaos_restart_pg; then
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
chaos_assert_tasks
[ "$DRC" = 0 ] || FAILS+=("droverd exited with status $DRC on SIGTERM")
chaos_assert_sanitizers "$W/droverd.log" "$W"/agents/*.log
[ "$RESTARTS" = 3 ] || FAILS+=("only $RESTARTS of 3 restarts happened (the run ended early)")
log "states: $STATES; retried $RETRIED; proxy stalls ${STALLS:-?}; orphan coders ${ORPHANS_CODERS:-0}; ${elapsed}s"
chaos_finish "tasks $TASKS, kills $KILLS, restarts $RESTARTS, lost $LOST, duplicated $DUP"
