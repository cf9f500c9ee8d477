#!/usr/bin/env bash
# droverd's instructions per request, counted by valgrind's callgrind over a fixed workload:
# deterministic whatever the host does (steal, throttling, disk flushes), unlike tasks/s.
# droverd runs under callgrind with collection only inside the request path: the worker
# threads' job function (work_run: JSON-RPC, the use case, libpq) and the service thread's HTTP
# callback (http_cb); background threads (pool, LISTEN, sweeps) and idle timers are not
# counted. tests/bench/callgrind_load.py drives one agent over one keep-alive connection:
#   claims      CALLGRIND_TASKS x (get_next_task -> update_task_status completed)
#   heartbeats  CALLGRIND_BEATS x heartbeat for one held task
# and, on /mcp, the same heartbeat as the v2 TypeScript SDK client sends it in each MCP era
# (issue 15: a modern call must cost no more than a legacy one):
#   legacy      CALLGRIND_ERA_BEATS x heartbeat in 2025-11-25, inside an initialized session
#   modern      CALLGRIND_ERA_BEATS x heartbeat in 2026-07-28: stateless, _meta + headers
# and the counters are zeroed and dumped around each phase (callgrind_control).
# The figures are compared with the committed baseline tests/bench/callgrind_baseline.json
# (same build type): a rise of more than CALLGRIND_TOLERANCE percent (3) is reported as a
# REGRESSION (exit 3 with CALLGRIND_STRICT=1). CALLGRIND_UPDATE=1 rewrites the baseline.
# Ends with one JSON line:
#   {"claim_complete_ir","heartbeat_ir","heartbeat_legacy_mcp_ir","heartbeat_modern_mcp_ir",
#    "modern_legacy_ratio","baseline_<each of the four>","<each>_change_pct","regression",
#    "build_type"}   (the four: claim_complete, heartbeat, heartbeat_legacy_mcp,
#    heartbeat_modern_mcp; a figure the baseline lacks is not compared)
#
# Env: CALLGRIND_TASKS=200 CALLGRIND_BEATS=400 CALLGRIND_ERA_BEATS=200 CALLGRIND_TOLERANCE=3
#   BENCH_BUILD_DIR (a build
#   to use instead of building Release into build/bench) BENCH_PG=own|env (as scripts/bench.sh)
#   BENCH_PORT=18590 BENCH_DIR CALLGRIND_BASELINE (another baseline file)
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/benchpg.sh"
cd "$DROVER_ROOT"

tasks=${CALLGRIND_TASKS:-200}
beats=${CALLGRIND_BEATS:-400}
era_beats=${CALLGRIND_ERA_BEATS:-200}
tol=${CALLGRIND_TOLERANCE:-3}
port=${BENCH_PORT:-18590}
pgmode=${BENCH_PG:-own}
baseline=${CALLGRIND_BASELINE:-tests/bench/callgrind_baseline.json}
benchpg_scratch drover-callgrind "${BENCH_DIR:-}"
dir=$benchpg_dir

command -v valgrind >/dev/null && command -v callgrind_control >/dev/null ||
  { drover_log "valgrind (with callgrind_control) is not installed"; exit 1; }
benchpg_release "${BENCH_BUILD_DIR:-}"
build=$benchpg_build
btype=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt")
btype=${btype:-none}
[ "$pgmode" = own ] && benchpg_start "$dir"
psql_q() { psql -qAtX -v ON_ERROR_STOP=1 "$@"; }

"$build/droverd" migrate >"$dir/migrate.log" 2>&1
out=$("$build/droverd" token create --scope agent --name callgrind-agent)
token=$(sed -n 's/^DROVER_TOKEN=//p' <<<"$out")
psql_q -c "INSERT INTO tasks (title, description, repo_url)
           SELECT 'cg ' || g, 'callgrind task ' || g, 'https://git.example/cg.git'
           FROM generate_series(1, $tasks + 10) g" -c "VACUUM ANALYZE tasks"

# One worker, so every request takes the same path; a long sweep, no pool.
valgrind --tool=callgrind --collect-atstart=no --toggle-collect=work_run --toggle-collect=http_cb \
  --callgrind-out-file="$dir/callgrind.out.%p" \
  "$build/droverd" serve --listen "127.0.0.1:$port" --workers 1 --pod-backend none \
  --sweep-interval 3600 >"$dir/droverd.log" 2>&1 &
pid=$!
benchpg_pids+=($pid)
# Ready when *this* droverd says it listens (another process may answer on a busy port).
for _ in $(seq 600); do
  grep -q "listening on 127.0.0.1:$port" "$dir/droverd.log" 2>/dev/null &&
    curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { drover_log "droverd exited under callgrind (port $port in use?)"; exit 1; }
  sleep 0.1
done
grep -q "listening on 127.0.0.1:$port" "$dir/droverd.log" || { drover_log "droverd did not listen on $port"; exit 1; }
url=http://127.0.0.1:$port
load() { python3 tests/bench/callgrind_load.py "$url" "$token" "$@"; }
# Warm up (first-use paths: prepared statements, caches), then count each phase alone.
load claims 5
ir_of() { # the dump file of the last callgrind_control -d: its totals
  local f
  f=$(ls -t "$dir"/callgrind.out."$pid"* | head -1)
  awk '/^(totals|summary):/ { print $2; exit }' "$f"
}
callgrind_control -z "$pid" >/dev/null
load claims "$tasks"
callgrind_control -d "$pid" >/dev/null
claim_ir=$(($(ir_of) / tasks))
held=$(load claim1)
callgrind_control -z "$pid" >/dev/null
load heartbeats "$beats" "$held"
callgrind_control -d "$pid" >/dev/null
beat_ir=$(($(ir_of) / beats))
# The eras on /mcp: the session is opened, and each era's first calls made, outside the count.
session=$(load session)
load legacy 5 "$held" "$session"
load modern 5 "$held"
callgrind_control -z "$pid" >/dev/null
load legacy "$era_beats" "$held" "$session"
callgrind_control -d "$pid" >/dev/null
legacy_ir=$(($(ir_of) / era_beats))
callgrind_control -z "$pid" >/dev/null
load modern "$era_beats" "$held"
callgrind_control -d "$pid" >/dev/null
modern_ir=$(($(ir_of) / era_beats))
kill -TERM "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true

# name=measured pairs, in the JSON line's order; each compared with the baseline's .<name>_ir
figures=(claim_complete="$claim_ir" heartbeat="$beat_ir" heartbeat_legacy_mcp="$legacy_ir"
  heartbeat_modern_mcp="$modern_ir")
b_type=
[ -f "$baseline" ] && b_type=$(jq -r '.build_type // ""' "$baseline")
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b > 0 ? (a - b) * 100 / b : 0) }'; }
ratio=$(awk -v m="$modern_ir" -v l="$legacy_ir" 'BEGIN { printf "%.3f", (l > 0 ? m / l : 0) }')
regression=false
[ "$b_type" = "$btype" ] ||
  drover_log "baseline is of a ${b_type:-missing} build, this is $btype: not compared"
json= base_json= pct_json= upd=
for f in "${figures[@]}"; do
  name=${f%%=*} ir=${f#*=} b=0
  [ -f "$baseline" ] && b=$(jq -r ".${name}_ir // 0" "$baseline")
  p=$(pct "$ir" "$b")
  if [ "$b_type" = "$btype" ] && awk -v p="$p" -v t="$tol" 'BEGIN { exit !(p > t) }'; then
    regression=true
  fi
  printf '%-44s %s\n' "instructions per ${name//_/ }" "$ir (baseline $b, $p%)"
  json+="\"${name}_ir\":$ir,"
  base_json+="\"baseline_${name}_ir\":$b,"
  pct_json+="\"${name}_change_pct\":$p,"
  upd+="\"${name}_ir\":$ir,"
done
printf '%-44s %s\n' "modern / legacy (heartbeat on /mcp)" "$ratio"
[ "$regression" = false ] || drover_log "REGRESSION: more than $tol% above the baseline"
if [ "${CALLGRIND_UPDATE:-0}" = 1 ]; then
  printf '{%s"build_type":"%s","tasks":%d,"beats":%d,"era_beats":%d}\n' \
    "$upd" "$btype" "$tasks" "$beats" "$era_beats" >"$baseline"
  drover_log "baseline written: $baseline"
fi
printf '{%s"modern_legacy_ratio":%s,%s%s"regression":%s,"build_type":"%s"}\n' \
  "$json" "$ratio" "$base_json" "$pct_json" "$regression" "$btype"
[ "$regression" = false ] || [ "${CALLGRIND_STRICT:-0}" != 1 ] || exit 3
