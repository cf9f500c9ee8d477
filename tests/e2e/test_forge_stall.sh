#!/usr/bin/env bash
# A forge that stalls does not stall droverd (issue 11, item 1): create_branch on a project
# whose forge (tests/fakes/fake_forge.py, Gitea flavour) takes 30 s to answer holds no row lock
# and no transaction while it waits, so
#   1. the holder's own heartbeats, another agent's claim and its completion all answer within
#      their normal latency (bounded generously for a loaded CI machine) meanwhile, nothing
#      waits on a lock and no droverd connection sits idle in a transaction;
#   2. the branch is recorded once the forge answers;
#   3. a lease lost while the forge works gets the usual stale-lease error, and the branch the
#      forge created is still recorded on the task (with a note saying so);
#   4. more stalled creates than there are database workers still leave heartbeats answered at
#      once: calls that wait on a forge run on workers of their own (--slow-workers).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || drover_skip "python3 is missing"
drover_e2e_init

FORGE_TOKEN=stall-forge-token
BOUND_MS=${DROVER_STALL_BOUND_MS:-3000} # "normal latency" on a loaded 2-core CI machine
SRC=${DROVER_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}

python3 "$SRC/tests/fakes/fake_forge.py" --token "$FORGE_TOKEN" >"$DROVER_TMP/forge.out" 2>&1 &
FORGE_PID=$!
trap 'rc=$?; kill $FORGE_PID 2>/dev/null || true; (exit $rc); drover_cleanup' EXIT
for _ in $(seq 1 100); do
  grep -q '^PORT=' "$DROVER_TMP/forge.out" 2>/dev/null && break
  sleep 0.1
done
FORGE_PORT=$(sed -n 's/^PORT=//p' "$DROVER_TMP/forge.out")
[ -n "$FORGE_PORT" ] || fail "the fake forge did not start"
FORGE="http://127.0.0.1:$FORGE_PORT"

"$DROVERD" project add --name widgets --repo-url https://forge.test/acme/widgets.git \
  --forge-kind gitea --forge-api-url "$FORGE/api/v1" --forge-repo-path acme/widgets >/dev/null ||
  fail "droverd project add failed"
PROJECT=$(drover_psql "SELECT id FROM projects WHERE name = 'widgets'")
enqueue() { drover_psql "INSERT INTO tasks (title, project_id) VALUES ('$1', $PROJECT) RETURNING id"; }

eval "$(drover_token agent holder)"
TOK_A=$DROVER_TOKEN
eval "$(drover_token agent other)"
TOK_B=$DROVER_TOKEN
ADMIN=$(drover_token admin root)
DROVER_FORGE_TOKEN=$FORGE_TOKEN drover_start --workers 4 --slow-workers 8 --max-tasks-per-agent 3 # the holder keeps task 1 while it takes 3 and 4

now_ms() { date +%s%3N; }
# rpc TOKEN TOOL ARGS-JSON [MAX-TIME]: the tool's structuredContent, or its error text.
rpc() {
  curl -sS --max-time "${4:-20}" -H "Authorization: Bearer $1" -H 'Content-Type: application/json' \
    -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"$2\",\"arguments\":$3}}" \
    "$DROVER_URL/rpc" |
    jq -c 'if .result.isError then (.result.content[0].text | fromjson) else .result.structuredContent end'
}
# timed LABEL CMD...: run CMD, fail when it took longer than BOUND_MS.
timed() {
  local label=$1 t0 dt out
  shift
  t0=$(now_ms)
  out=$("$@")
  dt=$(($(now_ms) - t0))
  [ "$dt" -le "$BOUND_MS" ] || fail "$label took $dt ms while the forge stalled (bound $BOUND_MS ms)"
  echo "$out"
}
stall() { curl -sS --max-time 10 -X POST "$FORGE/_fake/stall?seconds=$1" >/dev/null || fail "cannot set the forge stall"; }
no_lock_waits() {
  local waits idle
  waits=$(PGOPTIONS= psql -qAtX -c "SELECT count(*) FROM pg_locks WHERE NOT granted")
  idle=$(PGOPTIONS= psql -qAtX -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = '$DROVER_APPNAME' AND state LIKE 'idle in transaction%'")
  [ "$waits" = 0 ] || fail "$waits lock wait(s) while the forge stalled"
  [ "$idle" = 0 ] || fail "$idle droverd connection(s) idle in a transaction while the forge stalled"
}

# --- 1 and 2: one stalled create_branch ------------------------------------------------------
T1=$(enqueue "stalled branch")
C=$(rpc "$TOK_A" get_next_task '{}')
[ "$(echo "$C" | jq -r .task.id)" = "$T1" ] || fail "the holder did not claim task $T1: $C"
EPOCH1=$(echo "$C" | jq -r .task.lease_epoch)
stall 30
T0=$(now_ms)
rpc "$TOK_A" create_branch "{\"task_id\":$T1,\"lease_epoch\":$EPOCH1}" 90 >"$DROVER_TMP/branch1.json" &
BRANCH_PID=$!
sleep 2 # the create is at the forge now
T2=$(enqueue "meanwhile")
for i in 1 2 3; do
  HB=$(timed "heartbeat $i of the holder" rpc "$TOK_A" heartbeat "{\"status\":\"busy\",\"task_ids\":[$T1]}")
  [ "$(echo "$HB" | jq -r '.tasks[0].cancelled')" = false ] || fail "heartbeat $i: $HB"
  no_lock_waits
  sleep 1
done
C2=$(timed "the other agent's claim" rpc "$TOK_B" get_next_task '{}')
[ "$(echo "$C2" | jq -r .task.id)" = "$T2" ] || fail "the other agent did not claim $T2: $C2"
DONE=$(timed "the other agent's completion" rpc "$TOK_B" update_task_status \
  "{\"task_id\":$T2,\"lease_epoch\":$(echo "$C2" | jq -r .task.lease_epoch),\"status\":\"completed\"}")
[ "$(echo "$DONE" | jq -r .task.state)" = completed ] || fail "completion: $DONE"
pass "heartbeats, a claim and a completion answered within $BOUND_MS ms while the forge stalled"
wait "$BRANCH_PID" || fail "create_branch did not come back"
DT=$(($(now_ms) - T0))
[ "$DT" -ge 25000 ] || fail "create_branch came back after $DT ms: the forge did not stall"
[ "$(jq -r .created "$DROVER_TMP/branch1.json")" = true ] || fail "create_branch: $(cat "$DROVER_TMP/branch1.json")"
[ "$(drover_psql "SELECT branch FROM tasks WHERE id = $T1")" = "$(jq -r .branch "$DROVER_TMP/branch1.json")" ] ||
  fail "the branch was not recorded on task $T1"
pass "the branch was recorded once the forge answered (after $DT ms)"

# --- 3: the lease is lost while the forge works ----------------------------------------------
stall 0
T3=$(enqueue "lease lost")
C3=$(rpc "$TOK_A" get_next_task '{}')
[ "$(echo "$C3" | jq -r .task.id)" = "$T3" ] || fail "the holder did not claim $T3: $C3"
stall 6
rpc "$TOK_A" create_branch "{\"task_id\":$T3,\"lease_epoch\":$(echo "$C3" | jq -r .task.lease_epoch)}" 60 \
  >"$DROVER_TMP/branch3.json" &
BRANCH_PID=$!
sleep 2
curl -fsS --max-time 10 -X POST -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
  -d '{"reason":"lease lost on purpose"}' "$DROVER_URL/api/tasks/$T3/cancel" >/dev/null || fail "cancel failed"
wait "$BRANCH_PID" || fail "create_branch did not come back"
[ "$(jq -r .error.code "$DROVER_TMP/branch3.json")" = conflict ] ||
  fail "create_branch after the lease was lost: $(cat "$DROVER_TMP/branch3.json")"
[ -n "$(drover_psql "SELECT branch FROM tasks WHERE id = $T3")" ] || fail "the created branch was lost"
drover_psql "SELECT message FROM activity WHERE task_id = $T3" | grep -q 'after the lease was lost' ||
  fail "no note says the branch was recorded after the lease was lost"
pass "a lease lost meanwhile: the stale-lease error, and the branch still recorded"

# --- 4: more stalled creates than database workers -------------------------------------------
stall 0
declare -a PIDS=()
for i in 1 2 3 4 5 6; do
  eval "$(drover_token agent "slow$i")"
  enqueue "slow $i" >/dev/null
  C=$(rpc "$DROVER_TOKEN" get_next_task '{}')
  echo "$DROVER_TOKEN $(echo "$C" | jq -r .task.id) $(echo "$C" | jq -r .task.lease_epoch)" >"$DROVER_TMP/slow$i"
done
enqueue "holder task" >/dev/null
C4=$(rpc "$TOK_A" get_next_task '{}')
stall 20
for i in 1 2 3 4 5 6; do
  read -r tok id ep <"$DROVER_TMP/slow$i"
  rpc "$tok" create_branch "{\"task_id\":$id,\"lease_epoch\":$ep}" 90 >"$DROVER_TMP/slow$i.json" &
  PIDS+=($!)
done
sleep 3
for i in 1 2 3; do
  timed "heartbeat $i with six creates stalled" rpc "$TOK_A" heartbeat \
    "{\"status\":\"busy\",\"task_ids\":[$(echo "$C4" | jq -r .task.id)]}" >/dev/null
  no_lock_waits
  sleep 1
done
pass "six stalled creates (four database workers) leave heartbeats answered within $BOUND_MS ms"
for p in "${PIDS[@]}"; do wait "$p" || fail "a stalled create_branch did not come back"; done
for i in 1 2 3 4 5 6; do
  [ "$(jq -r .created "$DROVER_TMP/slow$i.json")" = true ] || fail "slow create $i: $(cat "$DROVER_TMP/slow$i.json")"
done
pass "all six stalled creates finished and were recorded"
