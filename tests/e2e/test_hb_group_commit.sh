#!/usr/bin/env bash
# Heartbeats by group commit (docs/performance.md, "Heartbeats"): 24 agents beat as fast as
# droverd answers, so heartbeats share statements (--heartbeat-batch), then:
#  1. Cancellation: an admin cancels one agent's task mid-load; every answer to a heartbeat that
#     agent sent more than 1 s (the shortest interval) after the cancel returned says cancelled
#     (answers from memory learn of it by NOTIFY, within milliseconds).
#  2. Crash: droverd is kill -9'd mid-load, batches in flight. Nothing acknowledged is lost: for
#     every agent, the lease and last_heartbeat_at in the database are at least the latest ones
#     droverd answered (an answer goes out only after its batch committed), so no lease expires
#     before the time an agent was told.
#  3. Batching happened: fewer heartbeat statements than heartbeats (pg_stat_statements-free:
#     the server's own count in the shutdown log line of a second, clean run).
set -u
. "$(dirname "$0")/lib.sh"
SRC=${DROVER_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
export DROVER_PORT_RANGE=19170-19189
drover_e2e_init
command -v python3 >/dev/null || drover_skip "python3 not installed"
N=24
ADMIN=$(drover_token admin root)
drover_start --workers 8 --heartbeat-batch 64 --lease-seconds 60 --sweep-interval 3600
drover_hb_agents "$N" hb
WATCH=$(awk 'NR == 1 { print $3 }' "$DROVER_TMP/tokens")
STOP=$DROVER_TMP/stop CANCELLED=$DROVER_TMP/cancelled
python3 "$SRC/tests/e2e/hb_load.py" "$DROVER_URL" "$DROVER_TMP/tokens" "$DROVER_TMP/res.json" "$STOP" "$CANCELLED" "$WATCH" &
LOAD=$!
sleep 1.5
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST -H "Authorization: Bearer $ADMIN" \
    -H 'Content-Type: application/json' -d '{"reason":"test"}' "$DROVER_URL/api/tasks/$WATCH/cancel")
[ "$code" = 200 ] || fail "cancel: HTTP $code"
touch "$CANCELLED"
sleep 2.5 # past hb_load's 1 s grace, so answers after it are checked
kill -9 "$DROVER_PID"
wait "$DROVER_PID" 2>/dev/null
DROVER_PID=
drover_wait_pid 30 "$LOAD" || fail "the load did not stop after droverd died"
res=$DROVER_TMP/res.json
acks=$(jq '[.[].acks] | add' "$res")
[ "$acks" -gt $((N * 5)) ] || fail "only $acks heartbeats acknowledged"
# 1. cancellation
jq -e --argjson w "$WATCH" '[.[] | select(.task == $w)][0] | .cancel_seen and .cancel_missed == 0 and .after_cancel > 0' "$res" >/dev/null ||
    fail "the cancelled task was not reported cancelled on every later heartbeat: $(jq -c --argjson w "$WATCH" '[.[] | select(.task == $w)][0]' "$res")"
# 2. nothing acknowledged lost
lost=0
while IFS=$'\t' read -r agent task lease beat; do
    [ -n "$lease" ] || continue
    ok=$(drover_psql "SELECT (SELECT lease_expires_at >= '$lease'::timestamptz FROM tasks WHERE id = $task)
                        AND (SELECT last_heartbeat_at >= '$beat'::timestamptz FROM agents WHERE id = '$agent')")
    [ "$ok" = t ] || { lost=$((lost + 1)); echo "agent $agent: acknowledged lease $lease / beat $beat not in the database" >&2; }
done < <(jq -r --argjson w "$WATCH" 'to_entries[] | select(.value.task != $w) | [.key, .value.task, .value.lease, .value.beat] | @tsv' "$res")
[ "$lost" = 0 ] || fail "$lost agents lost acknowledged heartbeats in the crash"
echo "PASS: $acks heartbeats acknowledged by $N agents; cancellation seen on every later beat; kill -9: nothing acknowledged lost"
# 3. batching: a clean run under the same load reports its statements on stop.
drover_start --workers 8 --heartbeat-batch 64 --lease-seconds 60 --sweep-interval 3600
rm -f "$STOP"
python3 "$SRC/tests/e2e/hb_load.py" "$DROVER_URL" "$DROVER_TMP/tokens" "$DROVER_TMP/res2.json" "$STOP" "$CANCELLED" 0 &
LOAD=$!
sleep 2
touch "$STOP"
drover_wait_pid 30 "$LOAD" || fail "the load did not stop"
drover_stop || fail "droverd did not stop cleanly"
line=$(grep 'heartbeat batches' "$DROVER_LOG" | tail -1)
b=$(sed -n 's/.*batches=\([0-9]*\).*/\1/p' <<<"$line")
h=$(sed -n 's/.*heartbeats=\([0-9]*\).*/\1/p' <<<"$line")
[ -n "$b" ] && [ -n "$h" ] && [ "$h" -gt 0 ] || fail "no heartbeat batch count in the log: $line"
[ "$b" -lt "$h" ] || fail "no batching: $h heartbeats in $b statements"
echo "PASS: group commit: $h heartbeats in $b statements"
