#!/usr/bin/env bash
# Drover's benchmark: droverd over MCP against pgbench running the same SQL, same database,
# same run. Builds Release, starts a private PostgreSQL cluster (initdb, like scripts/run.sh)
# and droverd, then:
#   1. pgbench reference: each client claims + completes tasks with exactly droverd's SQL
#      (tests/bench/drover_2tx.sql) on a pre-filled queue -> tasks/s
#   2. drover-bench tasks: N agents (own token and MCP session each) loop get_next_task ->
#      update_task_status(completed) over /mcp on the same pre-filled queue -> tasks/s
#   3. drover-bench dispatch: N agents long-poll get_next_task; tasks enqueued one by one in SQL;
#      commit -> receive latency p50/p99 (and from the INSERT sent)
#   4. drover-bench ping: N sessions send MCP ping -> ping/s; the same in 2026-07-28 (stateless,
#      server/discover, ping's removed) -> modern ping/s
#   5. drover-bench call: N agents call heartbeat (a database write) in each era -> call/s
#   For 4 and 5, droverd's CPU per request (/proc ticks) in each era.
#   6. the fixed yardstick: the queue research's naive two-transaction pgbench script
#      (tests/bench/yardstick/dequeue_2tx.sql, a copy of shared/reference/queue-bench/, on its
#      own minimal table in a schema of its own) -> tasks/s, in the same rounds
# Each throughput run happens twice per round: durable (synchronous_commit=on, as configured)
# and with synchronous_commit=off (pgbench and a second droverd given it in PGOPTIONS), so one
# ratio measures CPU rather than the disk. The disk's flush rate is measured in the same run
# (pg_test_fsync's fdatasync figure; with BENCH_PG=env a 100-write O_DSYNC dd instead).
# Prints a table and ends with exactly one JSON line:
#   {"drover_tasks_per_s","pgbench_tasks_per_s","ratio","dispatch_p50_ms","dispatch_p99_ms",
#    "ping_per_s","modern_ping_per_s","call_per_s","modern_call_per_s",
#    "droverd_cpu_per_ping_ms","droverd_cpu_per_modern_ping_ms","droverd_cpu_per_call_ms",
#    "droverd_cpu_per_modern_call_ms","agents","yardstick_tasks_per_s","ratio_yardstick",
#    "drover_async_tasks_per_s","pgbench_async_tasks_per_s","ratio_async",
#    "yardstick_async_tasks_per_s","ratio_yardstick_async","flush_per_s",
#    "dispatch_async_p50_ms","dispatch_async_p99_ms"}
#
# Env (defaults): BENCH_AGENTS=8 BENCH_SECONDS=8 BENCH_WARMUP=2 BENCH_COUNT=300 BENCH_ROUNDS=5
#   (throughput rounds; each runs pgbench and droverd back to back, order alternating; medians)
#   BENCH_FILL (tasks pre-filled per throughput run; default sized from BENCH_SECONDS)
#   BENCH_WORKERS (droverd --workers; default BENCH_AGENTS, pgbench's client count)
#   BENCH_PORT=18580 (droverd's loopback port)  BENCH_DIR (scratch; default a new /tmp dir)
#   BENCH_BUILD_DIR (use this build instead of building Release into build/bench)
#   BENCH_PG=own|env: own = a private cluster (default); env = the PG* environment as given
#   (PGOPTIONS may pick a schema; the e2e smoke test uses this), no cluster started.
#   BENCH_STATEMENTS=1 (own cluster only): print, per task of the droverd run, the statements
#   droverd executed (pg_stat_statements), to see what it does beyond the reference SQL.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/benchpg.sh"
cd "$DROVER_ROOT"

agents=${BENCH_AGENTS:-8}
seconds=${BENCH_SECONDS:-8}
warmup=${BENCH_WARMUP:-2}
count=${BENCH_COUNT:-300}
rounds=${BENCH_ROUNDS:-5}
# droverd gets as many database connections (worker threads) as pgbench has clients, so the
# database sees the same concurrency from both.
workers=${BENCH_WORKERS:-$agents}
fill=${BENCH_FILL:-$(awk -v s="$seconds" -v w="$warmup" 'BEGIN { printf "%d", (s + w) * 6000 + 5000 }')}
port=${BENCH_PORT:-18580}
pgmode=${BENCH_PG:-own}
benchpg_scratch drover-bench "${BENCH_DIR:-}"
dir=$benchpg_dir

benchpg_release "${BENCH_BUILD_DIR:-}"
build=$benchpg_build
for b in droverd drover-bench; do
  [ -x "$build/$b" ] || { drover_log "$build/$b is missing"; exit 1; }
done

if [ "$pgmode" = own ]; then
  extra=()
  [ "${BENCH_STATEMENTS:-0}" != 1 ] || extra=("shared_preload_libraries = 'pg_stat_statements'")
  benchpg_start "$dir" "${extra[@]}"
fi
psql_q() { psql -qAtX -v ON_ERROR_STOP=1 "$@"; }

"$build/droverd" migrate >"$dir/migrate.log" 2>&1
# The durable droverd on $port, and one whose sessions commit asynchronously on $port + 1.
aport=$((port + 1))
"$build/droverd" serve --listen "127.0.0.1:$port" --workers "$workers" --pod-backend none --rate-limit 0 >"$dir/droverd.log" 2>&1 &
benchpg_pids+=($!)
droverd_pid=$!
PGOPTIONS="${PGOPTIONS:-} -c synchronous_commit=off" "$build/droverd" serve --listen "127.0.0.1:$aport" \
  --workers "$workers" --pod-backend none --rate-limit 0 >"$dir/droverd-async.log" 2>&1 &
benchpg_pids+=($!)
adroverd_pid=$!
# Ready when *that* droverd says it listens (another process may answer on a busy port).
for p in "$port:$droverd_pid:droverd" "$aport:$adroverd_pid:droverd-async"; do
  IFS=: read -r pp wpid lg <<<"$p"
  for _ in $(seq 100); do
    grep -q "listening on 127.0.0.1:$pp" "$dir/$lg.log" 2>/dev/null &&
      curl -fsS "http://127.0.0.1:$pp/health" >/dev/null 2>&1 && break
    kill -0 "$wpid" 2>/dev/null || { drover_log "droverd exited (port $pp in use?)"; exit 1; }
    sleep 0.1
  done
  grep -q "listening on 127.0.0.1:$pp" "$dir/$lg.log" || { drover_log "droverd did not listen on $pp"; exit 1; }
done

# The yardstick's own table, in a schema of its own (its `tasks` is not droverd's).
qb_schema=drover_qbench_$$
psql_q -c "DROP SCHEMA IF EXISTS $qb_schema CASCADE" -c "CREATE SCHEMA $qb_schema" >/dev/null
qb_opts="${PGOPTIONS:-} -c search_path=$qb_schema -c client_min_messages=warning"
PGOPTIONS=$qb_opts psql_q -f tests/bench/yardstick/schema.sql >/dev/null

# The disk's flush rate, measured now (the figure that bounds durable commits).
if [ "$pgmode" = own ] && [ -x "$benchpg_bin/pg_test_fsync" ]; then
  "$benchpg_bin/pg_test_fsync" -s 1 -f "$dir/fsync.probe" >"$dir/fsync.log" 2>&1 || true
  flush=$(awk '$1 == "fdatasync" && /ops\/sec/ { for (i = 1; i <= NF; i++) if ($(i + 1) == "ops/sec") { print $i; exit } }' "$dir/fsync.log")
else
  flush=$( { TIMEFORMAT=%R; time dd if=/dev/zero of="$dir/fsync.probe" bs=8k count=100 oflag=dsync 2>/dev/null; } 2>&1 |
    awk '{ printf "%.0f", ($1 > 0 ? 100 / $1 : 0) }')
fi
rm -f "$dir/fsync.probe"
flush=${flush:-0}
drover_log "disk flush rate: $flush flushes/s"

drover_log "creating $agents agent tokens"
: >"$dir/tokens"
for i in $(seq "$agents"); do
  out=$("$build/droverd" token create --scope agent --name "bench-$i")
  printf '%s %s\n' "$(sed -n 's/^AGENT_ID=//p' <<<"$out")" "$(sed -n 's/^DROVER_TOKEN=//p' <<<"$out")" \
    >>"$dir/tokens"
done
# pgbench's agents: fixed ids the reference script derives from its client number.
psql_q -c "INSERT INTO agents (id, name, status)
           SELECT ('00000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid, 'pgbench-' || g, 'idle'
           FROM generate_series(0, $agents - 1) g ON CONFLICT (id) DO NOTHING"

# A fresh queue of $fill runnable tasks, vacuumed and checkpointed, before each throughput run.
refill() {
  psql_q -c "DELETE FROM tasks WHERE state IN ('backlog', 'in_progress')" \
    -c "INSERT INTO tasks (title, description, repo_url)
        SELECT 'bench ' || g, 'benchmark task ' || g, 'https://git.example/bench.git'
        FROM generate_series(1, $fill) g" \
    -c "VACUUM ANALYZE tasks" -c "VACUUM ANALYZE activity" -c "VACUUM ANALYZE agents" -c "CHECKPOINT"
}
hz=$(getconf CLK_TCK)
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# PostgreSQL's CPU (own cluster only): the postmaster, its live children and the children it
# has reaped (a finished pgbench's backends land in its cutime/cstime).
pg_ticks() {
  [ -n "$benchpg_data" ] || { echo 0; return; }
  local pm t c
  pm=$(head -1 "$benchpg_data/postmaster.pid")
  t=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$pm/stat")
  for c in $(ps -o pid= --ppid "$pm"); do t=$((t + $(proc_ticks "$c"))); done
  echo "$t"
}
per_task_ms() { # ticks tasks -> ms of CPU per task
  awk -v d="$1" -v n="$2" -v hz="$hz" 'BEGIN { printf "%.3f\n", (n > 0 ? d * 1000 / hz / n : 0) }'
}
median() { # [printf format] < numbers
  sort -g | awk -v f="${1:-%.1f}" '{ v[NR] = $1 } END { printf f, (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

run_pgbench() { # round [async]
  refill
  local p0 p1 n sfx=${2:-} opts=${PGOPTIONS:-}
  [ -z "$sfx" ] || opts="$opts -c synchronous_commit=off"
  p0=$(pg_ticks)
  PGOPTIONS=$opts pgbench -n -M prepared -c "$agents" -j 2 -T "$seconds" -f tests/bench/drover_2tx.sql \
    >"$dir/pgbench.$1$sfx.log" 2>&1 || { cat "$dir/pgbench.$1$sfx.log" >&2; exit 1; }
  [ -z "$sfx" ] || { run_pgbench_done "$1" "$sfx"; return; }
  sleep 0.5 # let the postmaster reap pgbench's backends, so their CPU is in its cutime
  p1=$(pg_ticks)
  run_pgbench_done "$1" ""
  n=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$dir/pgbench.$1.log")
  per_task_ms $((p1 - p0)) "$n" >>"$dir/pg_cpu_pgbench"
}

run_pgbench_done() { # round suffix: check the log, record tasks/s
  grep -q '^number of failed transactions: 0 ' "$dir/pgbench.$1$2.log" || {
    cat "$dir/pgbench.$1$2.log" >&2
    drover_log "pgbench had failed transactions"
    exit 1
  }
  local tps
  tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$dir/pgbench.$1$2.log" | head -1)
  echo "$tps" >>"$dir/pg_tps$2"
  drover_log "round $1: pgbench${2:+ (synchronous_commit=off)} $tps tasks/s"
}

# The yardstick: dequeue + complete as two transactions on the research's minimal table.
run_yardstick() { # round [async]
  local sfx=${2:-} opts=$qb_opts tps
  [ -z "$sfx" ] || opts="$opts -c synchronous_commit=off"
  PGOPTIONS=$qb_opts psql_q -v rows="$fill" -f tests/bench/yardstick/fill.sql >/dev/null
  PGOPTIONS=$opts pgbench -n -M prepared -c "$agents" -j 2 -T "$seconds" -f tests/bench/yardstick/dequeue_2tx.sql \
    >"$dir/yardstick.$1$sfx.log" 2>&1 || { cat "$dir/yardstick.$1$sfx.log" >&2; exit 1; }
  tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$dir/yardstick.$1$sfx.log" | head -1)
  echo "$tps" >>"$dir/qb_tps$sfx"
  drover_log "round $1: yardstick dequeue_2tx${sfx:+ (synchronous_commit=off)} $tps tasks/s"
}

run_drover_async() { # round: the synchronous_commit=off droverd, tasks/s only
  local tps
  refill
  "$build/drover-bench" tasks --url "http://127.0.0.1:$aport" --tokens "$dir/tokens" \
    --agents "$agents" --seconds "$seconds" --warmup "$warmup" >"$dir/tasks.$1.async.json" 2>"$dir/tasks.$1.async.log"
  tps=$(jq -r '.tasks_per_s' "$dir/tasks.$1.async.json")
  echo "$tps" >>"$dir/dr_tps.async"
  drover_log "round $1: droverd (synchronous_commit=off) $tps tasks/s"
}

run_drover() { # round
  refill
  local c0 c1 p0 p1 tps n all
  if [ "${BENCH_STATEMENTS:-0}" = 1 ] && [ "$pgmode" = own ]; then
    psql_q -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" -c "SELECT pg_stat_statements_reset()" >/dev/null
  fi
  c0=$(proc_ticks "$droverd_pid")
  p0=$(pg_ticks)
  "$build/drover-bench" tasks --url "http://127.0.0.1:$port" --tokens "$dir/tokens" \
    --agents "$agents" --seconds "$seconds" --warmup "$warmup" >"$dir/tasks.$1.json" 2>"$dir/tasks.$1.log"
  c1=$(proc_ticks "$droverd_pid")
  p1=$(pg_ticks)
  tps=$(jq -r '.tasks_per_s' "$dir/tasks.$1.json")
  n=$(jq -r '.tasks' "$dir/tasks.$1.json")
  # droverd and PostgreSQL were sampled around warm-up + window; scale the task count to match.
  all=$(awk -v n="$n" -v s="$seconds" -v w="$warmup" 'BEGIN { printf "%d", n * (s + w) / s }')
  echo "$tps" >>"$dir/dr_tps"
  per_task_ms $((c1 - c0)) "$all" >>"$dir/dr_cpu"
  per_task_ms $((p1 - p0)) "$all" >>"$dir/pg_cpu_drover"
  jq -r '.client_cpu_s * 1000 / .tasks' "$dir/tasks.$1.json" >>"$dir/client_cpu"
  drover_log "round $1: droverd $tps tasks/s"
  if [ "${BENCH_STATEMENTS:-0}" = 1 ] && [ "$pgmode" = own ]; then
    psql_q -F $'\t' -c "SELECT round(calls::numeric / greatest($all, 1), 2) AS per_task,
                                round(mean_exec_time::numeric, 3) AS ms,
                                left(regexp_replace(query, '\s+', ' ', 'g'), 110)
                         FROM pg_stat_statements ORDER BY calls DESC LIMIT 15" >"$dir/statements.tsv"
    drover_log "statements per droverd task (calls, mean ms, query):"
    cat "$dir/statements.tsv" >&2
  fi
}

# Dispatch first, on a quiet database: after the throughput rounds the database is still
# digesting their completions (autovacuum, the notification queue) and the figure grew from
# ~10 to ~76 ms on the shared VM -- that is the database's backlog, not droverd's latency.
drover_log "dispatch: $agents agents long-polling, $count tasks enqueued one at a time"
psql_q -c "DELETE FROM tasks WHERE state IN ('backlog', 'in_progress')" -c "VACUUM ANALYZE tasks"
"$build/drover-bench" dispatch --url "http://127.0.0.1:$port" --tokens "$dir/tokens" \
  --agents "$agents" --count "$count" --wait 10 >"$dir/dispatch.json" 2>"$dir/dispatch.log"
# The same against the synchronous_commit=off droverd: the claim's commit no longer waits for
# a WAL flush, so the difference is the disk's (docs/performance.md, "dispatch latency").
psql_q -c "DELETE FROM tasks WHERE state IN ('backlog', 'in_progress')" -c "VACUUM ANALYZE tasks"
"$build/drover-bench" dispatch --url "http://127.0.0.1:$aport" --tokens "$dir/tokens" \
  --agents "$agents" --count "$count" --wait 10 >"$dir/dispatch.async.json" 2>"$dir/dispatch.async.log"

# Alternate the order each round so slow drift of the machine hits both sides alike.
drover_log "throughput: $rounds rounds of pgbench (droverd's SQL) and droverd over /mcp," \
  "$agents clients/agents, ${seconds}s each"
for r in $(seq "$rounds"); do
  if [ $((r % 2)) -eq 1 ]; then
    run_pgbench "$r"; run_drover "$r"; run_yardstick "$r"
    run_pgbench "$r" .async; run_drover_async "$r"; run_yardstick "$r" .async
  else
    run_yardstick "$r" .async; run_drover_async "$r"; run_pgbench "$r" .async
    run_yardstick "$r"; run_drover "$r"; run_pgbench "$r"
  fi
done
PGOPTIONS=$qb_opts psql_q -c "DROP SCHEMA $qb_schema CASCADE" >/dev/null
pg_tps=$(median <"$dir/pg_tps")
dr_tps=$(median <"$dir/dr_tps")
qb_tps=$(median <"$dir/qb_tps")
pg_atps=$(median <"$dir/pg_tps.async")
dr_atps=$(median <"$dir/dr_tps.async")
qb_atps=$(median <"$dir/qb_tps.async")
# Each ratio is paired per round (both runs of a round saw the same machine), then the median.
pair() { paste "$1" "$2" | awk '{ printf "%.3f\n", ($2 > 0 ? $1 / $2 : 0) }' >"$3"; }
pair "$dir/dr_tps" "$dir/pg_tps" "$dir/ratios"
pair "$dir/dr_tps" "$dir/qb_tps" "$dir/ratios_qb"
pair "$dir/dr_tps.async" "$dir/pg_tps.async" "$dir/ratios.async"
pair "$dir/dr_tps.async" "$dir/qb_tps.async" "$dir/ratios_qb.async"
ratio=$(median %.3f <"$dir/ratios")
ratio_qb=$(median %.3f <"$dir/ratios_qb")
ratio_a=$(median %.3f <"$dir/ratios.async")
ratio_qba=$(median %.3f <"$dir/ratios_qb.async")

# One request kind in one era: rate, and droverd's CPU per request (ticks around warm-up +
# window, the count scaled to match, as for tasks).
run_rate() { # mode era name
  local c0 c1 n all
  c0=$(proc_ticks "$droverd_pid")
  "$build/drover-bench" "$1" --era "$2" --url "http://127.0.0.1:$port" --tokens "$dir/tokens" \
    --agents "$agents" --seconds "$seconds" --warmup 1 >"$dir/$3.json" 2>"$dir/$3.log" ||
    { cat "$dir/$3.log" >&2; exit 1; }
  c1=$(proc_ticks "$droverd_pid")
  n=$(jq -r '.pings // .calls' "$dir/$3.json")
  all=$(awk -v n="$n" -v s="$seconds" 'BEGIN { printf "%d", n * (s + 1) / s }')
  per_task_ms $((c1 - c0)) "$all" >"$dir/$3.cpu"
}
drover_log "ping: $agents sessions, ${seconds}s (2025-11-25 ping, 2026-07-28 server/discover)"
run_rate ping legacy ping
run_rate ping modern mping
drover_log "tool calls (heartbeat): $agents agents, ${seconds}s, each era"
run_rate call legacy call
run_rate call modern mcall

p50=$(jq -r '.dispatch_p50_ms' "$dir/dispatch.json")
p99=$(jq -r '.dispatch_p99_ms' "$dir/dispatch.json")
s50=$(jq -r '.from_send_p50_ms' "$dir/dispatch.json")
s99=$(jq -r '.from_send_p99_ms' "$dir/dispatch.json")
ap50=$(jq -r '.dispatch_p50_ms' "$dir/dispatch.async.json")
ap99=$(jq -r '.dispatch_p99_ms' "$dir/dispatch.async.json")
ping=$(jq -r '.ping_per_s' "$dir/ping.json")
ping_cpu=$(jq -r '.client_cpu_s * 1000 / .pings' "$dir/ping.json")
mping=$(jq -r '.ping_per_s' "$dir/mping.json")
call=$(jq -r '.call_per_s' "$dir/call.json")
mcall=$(jq -r '.call_per_s' "$dir/mcall.json")
ping_dcpu=$(cat "$dir/ping.cpu") mping_dcpu=$(cat "$dir/mping.cpu")
call_dcpu=$(cat "$dir/call.cpu") mcall_dcpu=$(cat "$dir/mcall.cpu")
list() { awk -v f="${2:-%.1f}" '{ printf (NR > 1 ? "/" : "") f, $1 }' "$1"; }

echo
printf '%-46s %s\n' "measure ($agents agents, ${seconds}s runs, $rounds rounds)" "median [per round]"
printf '%-46s %s\n' "----------------------------------------------" "------------------"
printf '%-46s %s\n' "database connections: pgbench / droverd" "$agents / $workers"
printf '%-46s %s [%s]\n' "pgbench, droverd's SQL: tasks/s" "$pg_tps" "$(list "$dir/pg_tps")"
printf '%-46s %s [%s]\n' "droverd over MCP /mcp: tasks/s" "$dr_tps" "$(list "$dir/dr_tps")"
printf '%-46s %s [%s]\n' "ratio droverd / pgbench (paired per round)" "$ratio" "$(list "$dir/ratios" %.3f)"
printf '%-46s %s [%s]\n' "yardstick dequeue_2tx: tasks/s" "$qb_tps" "$(list "$dir/qb_tps")"
printf '%-46s %s [%s]\n' "ratio droverd / yardstick" "$ratio_qb" "$(list "$dir/ratios_qb" %.3f)"
printf '%-46s %s [%s]\n' "synchronous_commit=off: pgbench tasks/s" "$pg_atps" "$(list "$dir/pg_tps.async")"
printf '%-46s %s [%s]\n' "synchronous_commit=off: droverd tasks/s" "$dr_atps" "$(list "$dir/dr_tps.async")"
printf '%-46s %s [%s]\n' "synchronous_commit=off: yardstick tasks/s" "$qb_atps" "$(list "$dir/qb_tps.async")"
printf '%-46s %s [%s]\n' "synchronous_commit=off: droverd / pgbench" "$ratio_a" "$(list "$dir/ratios.async" %.3f)"
printf '%-46s %s [%s]\n' "synchronous_commit=off: droverd / yardstick" "$ratio_qba" "$(list "$dir/ratios_qb.async" %.3f)"
printf '%-46s %s\n' "disk flushes/s (measured in this run)" "$flush"
printf '%-46s %s [%s]\n' "droverd CPU per task (ms)" "$(median %.3f <"$dir/dr_cpu")" "$(list "$dir/dr_cpu" %.3f)"
printf '%-46s %s [%s]\n' "drover-bench (agents) CPU per task (ms)" "$(median %.3f <"$dir/client_cpu")" "$(list "$dir/client_cpu" %.3f)"
if [ -n "$benchpg_data" ]; then
  printf '%-46s %s [%s]\n' "PostgreSQL CPU per task, pgbench run (ms)" "$(median %.3f <"$dir/pg_cpu_pgbench")" "$(list "$dir/pg_cpu_pgbench" %.3f)"
  printf '%-46s %s [%s]\n' "PostgreSQL CPU per task, droverd run (ms)" "$(median %.3f <"$dir/pg_cpu_drover")" "$(list "$dir/pg_cpu_drover" %.3f)"
fi
printf '%-46s %.3f\n' "dispatch commit->receive p50 (ms)" "$p50"
printf '%-46s %.3f\n' "dispatch commit->receive p99 (ms)" "$p99"
printf '%-46s %.3f\n' "  same from INSERT sent, p50 (ms)" "$s50"
printf '%-46s %.3f\n' "  same from INSERT sent, p99 (ms)" "$s99"
printf '%-46s %.3f\n' "  synchronous_commit=off droverd, p50 (ms)" "$ap50"
printf '%-46s %.3f\n' "  synchronous_commit=off droverd, p99 (ms)" "$ap99"
printf '%-46s %.1f\n' "MCP ping/s" "$ping"
printf '%-46s %.3f\n' "drover-bench CPU per ping (ms)" "$ping_cpu"
echo
printf '%-46s %.1f / %.1f\n' "MCP 2026-07-28 server/discover/s / call/s" "$mping" "$mcall"
printf '%-46s %.1f\n' "MCP 2025-11-25 tool call (heartbeat)/s" "$call"
printf '%-46s %.3f / %.3f\n' "droverd CPU per ping: 2025-11-25 / 2026-07-28 (ms)" "$ping_dcpu" "$mping_dcpu"
printf '%-46s %.3f / %.3f\n' "droverd CPU per tool call: 2025-11-25 / 2026-07-28" "$call_dcpu" "$mcall_dcpu"
printf '{"drover_tasks_per_s":%.1f,"pgbench_tasks_per_s":%.1f,"ratio":%.3f,"dispatch_p50_ms":%.3f,"dispatch_p99_ms":%.3f,"ping_per_s":%.1f,"modern_ping_per_s":%.1f,"call_per_s":%.1f,"modern_call_per_s":%.1f,"droverd_cpu_per_ping_ms":%.3f,"droverd_cpu_per_modern_ping_ms":%.3f,"droverd_cpu_per_call_ms":%.3f,"droverd_cpu_per_modern_call_ms":%.3f,"agents":%d,' \
  "$dr_tps" "$pg_tps" "$ratio" "$p50" "$p99" "$ping" "$mping" "$call" "$mcall" \
  "$ping_dcpu" "$mping_dcpu" "$call_dcpu" "$mcall_dcpu" "$agents"
printf '"yardstick_tasks_per_s":%.1f,"ratio_yardstick":%.3f,"drover_async_tasks_per_s":%.1f,"pgbench_async_tasks_per_s":%.1f,"ratio_async":%.3f,"yardstick_async_tasks_per_s":%.1f,"ratio_yardstick_async":%.3f,"flush_per_s":%.0f,"dispatch_async_p50_ms":%.3f,"dispatch_async_p99_ms":%.3f}\n' \
  "$qb_tps" "$ratio_qb" "$dr_atps" "$pg_atps" "$ratio_a" "$qb_atps" "$ratio_qba" "$flush" "$ap50" "$ap99"
