#!/usr/bin/env bash
# The replicated chaos suite (docs/chaos.md, "Replicas"): CHAOS_REPLICAS droverd replicas
# behind HAProxy in front of one PostgreSQL cluster of its own, the `kubernetes` pod backend
# against the in-repo fake API server (tests/k8s/fake_apiserver.py --exec runs each agent pod
# as a local drover-agent process, so pods outlive the replica that created them), and faults
# at random moments while CHAOS_TASKS tasks run:
#   - a random replica kill -9'd every CHAOS_REPLICA_KILL_EVERY s on average (every other
#     kill aims at the pool leader) and restarted 1-3 s later,
#   - PostgreSQL restarted once with `pg_ctl restart -m immediate`,
#   - agent processes kill -9'd (CHAOS_KILL_EVERY s on average).
# Before and after the faults, a held get_next_task on each replica must be answered by a
# task enqueued through each other replica (the NOTIFY path across replicas).
# Afterwards it asserts: every task terminal, none completed twice, no stale write landed,
# retries explained, every finished task's commit on the remote, pool leadership regained
# within LEADER_BOUND s after each leader kill, no live agent without a heartbeat for longer
# than STUCK_BOUND s (outside the PostgreSQL restart), no pod or agent process left.
# Last line: `replicas 3, tasks N, replica kills K, agent kills A, pg restarts 1, lost 0,
# duplicated 0, leader failover max S s`.
#
# Environment: CHAOS_REPLICAS (3), CHAOS_TASKS (1000), CHAOS_AGENTS (8), CHAOS_SEED ($$),
# CHAOS_DEADLINE s (1800), CHAOS_PORTS (18700-18739), CHAOS_REPLICA_KILL_EVERY (4),
# CHAOS_KILL_EVERY (2), CHAOS_KEEP=1, DROVER_SOURCE_DIR / DROVER_BUILD_DIR.
set -uo pipefail

SRC=${DROVER_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=../e2e/harness.sh
. "$SRC/tests/e2e/harness.sh"
# shellcheck source=chaos_lib.sh
. "$SRC/tests/chaos/chaos_lib.sh"
BUILD=${DROVER_BUILD_DIR:-$SRC/build}
NREP=${CHAOS_REPLICAS:-3}
TASKS=${CHAOS_TASKS:-1000}
NAGENTS=${CHAOS_AGENTS:-8}
SEED=${CHAOS_SEED:-$$}
DEADLINE=${CHAOS_DEADLINE:-1800}
PORTS=${CHAOS_PORTS:-18700-18739}
KILL_EVERY=${CHAOS_KILL_EVERY:-2}
RKILL_EVERY=${CHAOS_REPLICA_KILL_EVERY:-4}
# The bounds asserted. Leadership: the dead leader's session ends with its socket, and every
# other replica tries the advisory lock once a second (pool loop), so ~1-2 s; 10 s allows a
# loaded 2-core machine. Stuck: a heartbeat every 1 s, HAProxy marks a dead server down after
# two failed checks 0.5 s apart and redispatches refused connections, and the agent's
# heartbeat thread retries every interval; the agent's reconnect back-off starts at 1 s, so 6 s
# (the lease) is the bound past which an agent would lose its task to a dead replica.
LEADER_BOUND=${CHAOS_LEADER_BOUND:-10}
STUCK_BOUND=${CHAOS_STUCK_BOUND:-6}
DROVERD=$BUILD/droverd
AGENT=$BUILD/agent/drover-agent
RANDOM=$SEED

chaos_require git python3 psql curl jq openssl haproxy
chaos_workdir drover-chaosr
CHAOS_DIE_TAIL=20
declare -a DPID GEN RPORT
LBPID= FAKEPID=
now_s() { date +%s.%N | cut -c1-14; }
gt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 > b + 0) }'; }

# --- ports -----------------------------------------------------------------------------------
chaos_port PGPORT_CHAOS
chaos_port LBPORT
for ((i = 0; i < NREP; i++)); do
    chaos_port "RPORT[i]"
    GEN[i]=0 DPID[i]=
done

# --- PostgreSQL ------------------------------------------------------------------------------
chaos_start_pg 300

cleanup() {
    local rc=$? i
    for ((i = 0; i < NREP; i++)); do [ -n "${DPID[i]}" ] && kill -9 "${DPID[i]}" 2>/dev/null; done
    [ -n "$LBPID" ] && kill "$LBPID" 2>/dev/null
    [ -n "$FAKEPID" ] && kill "$FAKEPID" 2>/dev/null
    chaos_cleanup_end $rc
}
trap cleanup EXIT
trap "exit 143" TERM INT

# --- the git remote --------------------------------------------------------------------------
chaos_git_remote

# --- the fake API server: its kubelet runs every agent pod as a local process ----------------
chaos_agent_script
mkdir -p "$W/pods"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=fake-apiserver \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$W/key.pem" -out "$W/cert.pem" 2>/dev/null || die "openssl"
# The agents' environment comes from the kubelet's (the fake's) plus the pod's own env.
export DROVER_CODING_COMMAND="bash $SRC/agent/examples/demo-coder.sh" DROVER_WORKSPACE=$W/ws
export HEARTBEAT_INTERVAL=1 DROVER_POLL_WAIT=${CHAOS_POLL_WAIT:-10} DROVER_STOP_GRACE=2 DROVER_LOG_LEVEL=info
python3 "$SRC/tests/k8s/fake_apiserver.py" --port 0 --port-file "$W/kport" --token s3cret \
    --tls-cert "$W/cert.pem" --tls-key "$W/key.pem" --grace-scale 1 --start-delay 0.3 \
    --exec "$W/agent.sh" --exec-log-dir "$W/pods" >"$W/fake.log" 2>&1 &
FAKEPID=$!
for _ in $(seq 100); do [ -s "$W/kport" ] && break; sleep 0.1; done
[ -s "$W/kport" ] || die "the fake API server did not start"
KURL=https://127.0.0.1:$(cat "$W/kport")
cat >"$W/kubeconfig" <<KC
apiVersion: v1
kind: Config
current-context: fake
clusters:
- name: fake
  cluster:
    server: "$KURL"
    certificate-authority-data: $(base64 -w0 "$W/cert.pem")
users:
- name: drover
  user:
    token: s3cret
contexts:
- name: fake
  context:
    cluster: fake
    user: drover
    namespace: drover
KC
cat >"$W/pod.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  generateName: drover-agent-
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 5
  containers:
    - name: agent
      image: drover-agent:chaos
EOF
kapi() { curl -s --max-time 10 --cacert "$W/cert.pem" -H 'Authorization: Bearer s3cret' "$KURL$1"; }
live_pods() { kapi '/api/v1/namespaces/drover/pods?labelSelector=app.kubernetes.io%2Fname%3Ddrover-agent' | jq '.items | length'; }
live_secrets() { kapi '/api/v1/namespaces/drover/secrets?labelSelector=app.kubernetes.io%2Fname%3Ddrover-agent' | jq '.items | length'; }

# --- HAProxy in front of the replicas ---------------------------------------------------------
# Long polls (get_next_task waits up to DROVER_POLL_WAIT + droverd's answer) and WebSockets
# pass through: server/client timeouts far above the longest poll, a tunnel timeout for
# upgraded connections. A dead replica: connections to it are refused, and redispatch sends
# the retry to a live one; health checks on /ready take it out of the rotation within 1 s.
{
    cat <<EOF
global
    maxconn 4000
defaults
    mode http
    option http-keep-alive
    timeout connect 1s
    timeout client 120s
    timeout server 120s
    timeout tunnel 1h
    timeout http-keep-alive 30s
    timeout http-request 10s
    timeout queue 5s
    retries 3
    option redispatch 1
frontend drover
    bind 127.0.0.1:$LBPORT
    default_backend replicas
backend replicas
    balance roundrobin
    option httpchk GET /ready
    default-server inter 500ms fall 2 rise 1
EOF
    for ((i = 0; i < NREP; i++)); do echo "    server r$i 127.0.0.1:${RPORT[i]} check"; done
} >"$W/haproxy.cfg"
haproxy -c -f "$W/haproxy.cfg" >"$W/haproxy.log" 2>&1 || die "haproxy configuration: $(cat "$W/haproxy.log")"
haproxy -db -f "$W/haproxy.cfg" >>"$W/haproxy.log" 2>&1 &
LBPID=$!
LB=http://127.0.0.1:$LBPORT

# --- the replicas --------------------------------------------------------------------------------
ADMIN=$("$DROVERD" token create --scope admin --name chaos-admin 2>>"$LOG") || die "token"
start_replica() {
    local i=$1 try
    for try in $(seq 1 30); do
        GEN[i]=$((GEN[i] + 1))
        "$DROVERD" serve --listen "127.0.0.1:${RPORT[i]}" --replica-id "r$i.${GEN[i]}" \
            --pod-backend kubernetes --kubeconfig "$W/kubeconfig" --k8s-namespace drover \
            --agent-pod-template "$W/pod.yaml" --agent-server-url "$LB/mcp" \
            --lease-seconds 6 --heartbeat-interval 1 --sweep-interval 1 --pool-tick 1 \
            --pool-stale-after 6 --pool-stabilization 2 --pool-grace 2 --pool-startup-deadline 30 \
            --pool-max-starting "$NAGENTS" --pool-orphan-grace 5 --pool-hard-cap 64 \
            >>"$W/droverd-$i.log" 2>&1 &
        DPID[i]=$!
        chaos_await_ready "${DPID[i]}" "${RPORT[i]}" && return 0
    done
    die "replica $i did not start"
}
API_BASE=$LB
for ((i = 0; i < NREP; i++)); do start_replica $i; done
for _ in $(seq 50); do [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$LB/ready")" = 200 ] && break; sleep 0.2; done
# No agents yet: the probe's poll must be the only one a probe task can go to.
[ "$(api PUT /api/pool '{"min_agents":0,"max_agents":0}')" = 200 ] || die "PUT /api/pool"

# --- the wake probe: a poll held on replica a, a task enqueued through replica b ---------------
PROBE_TOKEN=
rpc() { # URL TOOL ARGS [MAX-TIME]
    curl -sS --max-time "${4:-20}" -H "Authorization: Bearer $PROBE_TOKEN" -H 'Content-Type: application/json' \
        -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"$2\",\"arguments\":$3}}" \
        "$1/rpc" | jq -c '.result.structuredContent // .result // .error'
}
WAKE_FAIL=0 WAKE_N=0 WAKE_MAX=0 WAKE_ALL=()
wake_probe() {
    local a b t0 dt out id epoch code
    # Only the probe's poll may take a probe task: no pool agent is left (bounded wait).
    for _ in $(seq 60); do
        [ "$(live_pods)" = 0 ] && [ "$(q "SELECT count(*) FROM agents WHERE status <> 'offline' AND backend = 'kubernetes'")" = 0 ] && break
        sleep 0.5
    done
    # A probe agent of its own each time (the last one went offline meanwhile).
    PROBE_TOKEN=$("$DROVERD" token create --scope agent --name "chaos-probe-$WAKE_N" 2>>"$LOG" | sed -n 's/^DROVER_TOKEN=//p')
    [ -n "$PROBE_TOKEN" ] || die "probe token"
    for ((a = 0; a < NREP; a++)); do
        for ((b = 0; b < NREP; b++)); do
            [ $a = $b ] && continue
            rpc "http://127.0.0.1:${RPORT[a]}" heartbeat '{"status":"idle"}' >/dev/null # stays online
            rm -f "$W/probe.t"
            { rpc "http://127.0.0.1:${RPORT[a]}" get_next_task '{"wait_seconds":20}' 30 >"$W/probe.out"; date +%s%3N >"$W/probe.t"; } &
            local p=$!
            sleep 1 # the poll is held by now: nothing was claimable
            code=$(api POST /api/tasks "{\"prompt\":\"wake $a<-$b\",\"repository\":\"$REPO\"}" "http://127.0.0.1:${RPORT[b]}")
            t0=$(date +%s%3N) # the POST has returned: from here to the held poll's answer
            case $code in 200 | 201 | 202) ;; *) die "POST /api/tasks through r$b: HTTP $code" ;; esac
            drover_wait_pid 30 $p
            dt=$(($(cat "$W/probe.t" 2>/dev/null || date +%s%3N) - t0))
            [ "$dt" -ge 0 ] || dt=0 # answered before the POST's own reply was read
            WAKE_ALL+=("$dt")
            out=$(cat "$W/probe.out")
            id=$(jq -r '.task.id // empty' <<<"$out")
            WAKE_N=$((WAKE_N + 1))
            [ "$dt" -gt "$WAKE_MAX" ] && WAKE_MAX=$dt
            if [ -z "$id" ] || [ "$dt" -gt 5000 ]; then
                WAKE_FAIL=$((WAKE_FAIL + 1))
                log "wake probe: poll on r$a, task through r$b: ${dt} ms, $out"
                continue
            fi
            epoch=$(jq -r '.task.lease_epoch' <<<"$out")
            rpc "http://127.0.0.1:${RPORT[a]}" update_task_status "{\"task_id\":$id,\"lease_epoch\":$epoch,\"status\":\"completed\"}" >/dev/null
        done
    done
}
wake_probe
log "wake probe before the faults: $WAKE_N polls, $WAKE_FAIL not woken, max ${WAKE_MAX} ms"

# --- the pool and the workload ---------------------------------------------------------------------
[ "$(api PUT /api/pool "{\"min_agents\":$NAGENTS,\"max_agents\":$NAGENTS}")" = 200 ] || die "PUT /api/pool"
chaos_enqueue
log "seed $SEED: $TASKS tasks, $NAGENTS agents, $NREP replicas (${RPORT[*]}) behind HAProxy :$LBPORT, PostgreSQL :$PGPORT_CHAOS"

leader() { q "SELECT replica || ' ' || extract(epoch FROM since) FROM pool_leader WHERE id = 1" 2>/dev/null; }
HB_SAMPLES=0 KILLS=0 RKILLS=0 LKILLS=0 PGRESTARTS=0 FAILOVER_MAX=0 STUCK_MAX=0
done_tasks() { q "SELECT count(*) FROM tasks WHERE state NOT IN ('backlog', 'in_progress') AND title LIKE 'chaos %'" 2>/dev/null || echo -1; }
PGAT=$((40 + RANDOM % 10))
did_pg= pg_quiet_until=0
pending_leader= pending_since= pending_at=
start=$(date +%s)
next_kill=$((start + 1 + RANDOM % (2 * KILL_EVERY)))
next_rkill=$((start + 2 + RANDOM % (2 * RKILL_EVERY)))
FAILOVERS=()
while :; do
    chaos_tick || break
    # A leader kill is resolved when pool_leader names another incarnation: `since` is the
    # new leader's election time, from PostgreSQL's clock.
    if [ -n "$pending_leader" ]; then
        read -r lr ls <<<"$(leader)"
        if [ -n "${lr:-}" ] && [ "$lr" != "$pending_leader" ]; then
            fo=$(awk -v a="$ls" -v b="$pending_at" 'BEGIN { printf "%.1f", a - b }')
            FAILOVERS+=("$fo")
            log "pool leadership: $pending_leader -> $lr after $fo s"
            gt "$fo" "$FAILOVER_MAX" && FAILOVER_MAX=$fo
            pending_leader=
        elif [ $((now - ${pending_at%.*})) -gt $((LEADER_BOUND + 20)) ]; then
            FAILOVERS+=("none")
            log "pool leadership not regained $((now - ${pending_at%.*})) s after $pending_leader was killed"
            FAILOVER_MAX=999 pending_leader=
        fi
    fi
    # Live agents' heartbeats: an agent whose process runs (and ran for 8 s: registered) must
    # have beaten within STUCK_BOUND s, whichever replica died (PostgreSQL's restart aside).
    if [ "$now" -ge "$pg_quiet_until" ]; then
        ids=$(kapi /_control/procs | jq -r --argjson t "$(date +%s)" '[.[] | select(.alive and .started < $t - 8) | .agent_id] | join(",")')
        if [ -n "$ids" ]; then
            st=$(q "SELECT coalesce(round(max(extract(epoch FROM now() - last_heartbeat_at))::numeric, 1), 0)
                    FROM agents WHERE id::text = ANY (string_to_array('$ids', ',')) AND status <> 'offline'" 2>>"$LOG") &&
                HB_SAMPLES=$((HB_SAMPLES + 1)) && if gt "$st" "$STUCK_MAX"; then
                STUCK_MAX=$st
                gt "$st" "$STUCK_BOUND" && log "an agent has not beaten for $st s"
            fi
        fi
    fi
    chaos_kill_agent
    if [ "$now" -ge "$next_rkill" ] && [ -z "$pending_leader" ]; then
        read -r lr _ <<<"$(leader)"
        v=$((RANDOM % NREP))
        if [ $((RKILLS % 2)) = 0 ] && [ -n "${lr:-}" ]; then
            for ((i = 0; i < NREP; i++)); do [ "$lr" = "r$i.${GEN[i]}" ] && v=$i; done
        fi
        at=$(now_s)
        kill -9 "${DPID[v]}"
        wait "${DPID[v]}" 2>/dev/null
        RKILLS=$((RKILLS + 1))
        if [ "${lr:-}" = "r$v.${GEN[v]}" ]; then
            LKILLS=$((LKILLS + 1)) pending_leader=$lr pending_at=$at
        fi
        log "kill -9 replica r$v.${GEN[v]}$([ "${lr:-}" = "r$v.${GEN[v]}" ] && echo ' (the pool leader)') at $pct% done"
        sleep $((1 + RANDOM % 3))
        start_replica "$v"
        next_rkill=$(($(date +%s) + 1 + RANDOM % (2 * RKILL_EVERY)))
    fi
    if chaos_restart_pg; then
        PGRESTARTS=$((PGRESTARTS + 1))
        pg_quiet_until=$(($(date +%s) + 15))
        # Every session died, the leader's too: whoever wins next is no failover to time.
        pending_leader=
    fi
    sleep 0.3
done
elapsed=$(($(date +%s) - start))
log "workload over after ${elapsed}s: agent kills $KILLS, replica kills $RKILLS ($LKILLS of the leader), pg restarts $PGRESTARTS"

# Every replica is up again (the last restart happened in the loop): the probe once more.
WAKE_FAIL0=$WAKE_FAIL
[ "$(api PUT /api/pool '{"min_agents":0,"max_agents":0}')" = 200 ] || log "PUT /api/pool to drain failed"
drain=$(date +%s)
# A Secret a dead leader left without its pod is swept by the leader's list after 10 s.
for _ in $(seq 1 90); do
    pgrep -f "^drover-agent-chaos-$SEED" >/dev/null || [ "$(live_pods)" != 0 ] || [ "$(live_secrets)" != 0 ] || break
    sleep 1
done
log "drain: $(pgrep -fc "^drover-agent-chaos-$SEED") agents, $(live_pods) pods, $(live_secrets) secrets left after $(($(date +%s) - drain))s"
wake_probe
log "wake probe after the faults: $((WAKE_FAIL - WAKE_FAIL0)) not woken, max ${WAKE_MAX} ms"

DRC=0
for ((i = 0; i < NREP; i++)); do
    kill -TERM "${DPID[i]}"
    drover_wait_pid 60 "${DPID[i]}" 2>/dev/null || DRC=$?
    DPID[i]=
done
sleep 1
ORPHANS=$(pgrep -fc "^drover-agent-chaos-$SEED" || true)
ORPHAN_PODS=$(live_pods)
ORPHAN_SECRETS=$(live_secrets)

# --- assertions --------------------------------------------------------------------------------
chaos_assert_tasks
[ "$ORPHAN_PODS" = 0 ] || FAILS+=("$ORPHAN_PODS agent pods left behind")
[ "$ORPHAN_SECRETS" = 0 ] || FAILS+=("$ORPHAN_SECRETS agent Secrets left behind")
[ "$DRC" = 0 ] || FAILS+=("a replica exited with status $DRC on SIGTERM")
chaos_assert_sanitizers "$W"/droverd-*.log "$W"/pods/*.log
[ "$PGRESTARTS" = 1 ] || FAILS+=("PostgreSQL was not restarted (the run ended early)")
[ "$LKILLS" -ge 1 ] || FAILS+=("the pool leader was never killed (the run ended early)")
[ "$RKILLS" -ge $((NREP)) ] || FAILS+=("only $RKILLS replica kills (want at least $NREP)")
gt "$FAILOVER_MAX" "$LEADER_BOUND" && FAILS+=("pool leadership regained after $FAILOVER_MAX s (bound $LEADER_BOUND s): ${FAILOVERS[*]}")
gt "$STUCK_MAX" "$STUCK_BOUND" && FAILS+=("a live agent went $STUCK_MAX s without a heartbeat (bound $STUCK_BOUND s)")
[ "$HB_SAMPLES" -gt 0 ] || FAILS+=("no heartbeat sample taken")
[ "$WAKE_FAIL" = 0 ] || FAILS+=("$WAKE_FAIL of $WAKE_N held polls not woken by a task enqueued through another replica")
log "states: $STATES; retried $RETRIED; leader failovers ${FAILOVERS[*]:-none} s; max heartbeat gap ${STUCK_MAX} s; wake probes $WAKE_N (${WAKE_ALL[*]} ms); ${elapsed}s"
chaos_finish "replicas $NREP, tasks $TASKS, replica kills $RKILLS, agent kills $KILLS, pg restarts $PGRESTARTS, lost $LOST, duplicated $DUP, leader failover max $FAILOVER_MAX s"
