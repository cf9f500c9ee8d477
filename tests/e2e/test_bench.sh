#!/usr/bin/env bash
# Smoke test of the benchmark so it cannot rot: scripts/bench.sh with 2 agents and 1-second runs
# against the test's own schema (BENCH_PG=env) and this build. Checks that it ends with the one
# JSON line and that every figure in it is positive; no performance threshold.
source "$(dirname "$0")/../protocol/lib.sh"
command -v jq >/dev/null || proto_missing "jq not installed"
command -v pgbench >/dev/null || proto_missing "pgbench not installed"
[ -x "$PROTO_BUILD/drover-bench" ] || proto_missing "drover-bench not built"

proto_db
port=$(proto_port)
BENCH_PG=env BENCH_BUILD_DIR=$PROTO_BUILD BENCH_AGENTS=2 BENCH_SECONDS=1 BENCH_WARMUP=0.5 \
  BENCH_COUNT=10 BENCH_FILL=20000 BENCH_ROUNDS=2 BENCH_PORT=$port BENCH_DIR=$PROTO_TMP/bench \
  timeout 120 "$PROTO_ROOT/scripts/bench.sh" >"$PROTO_TMP/bench.out" 2>"$PROTO_TMP/bench.log" ||
  proto_fail "scripts/bench.sh failed: $(cat "$PROTO_TMP/bench.out")"
cat "$PROTO_TMP/bench.out"
last=$(tail -n 1 "$PROTO_TMP/bench.out")
jq -e '(keys | sort) == (["agents","call_per_s","dispatch_async_p50_ms","dispatch_async_p99_ms",
         "dispatch_p50_ms","dispatch_p99_ms","drover_async_tasks_per_s","drover_tasks_per_s",
         "droverd_cpu_per_call_ms","droverd_cpu_per_modern_call_ms",
         "droverd_cpu_per_modern_ping_ms","droverd_cpu_per_ping_ms","flush_per_s",
         "modern_call_per_s","modern_ping_per_s","pgbench_async_tasks_per_s",
         "pgbench_tasks_per_s","ping_per_s","ratio","ratio_async","ratio_yardstick",
         "ratio_yardstick_async","yardstick_async_tasks_per_s","yardstick_tasks_per_s"])
       and .agents == 2 and .drover_tasks_per_s > 0 and .pgbench_tasks_per_s > 0
       and .ratio > 0 and .dispatch_p50_ms > 0 and .dispatch_p99_ms >= .dispatch_p50_ms
       and .ping_per_s > 0 and .modern_ping_per_s > 0 and .call_per_s > 0
       and .modern_call_per_s > 0 and .droverd_cpu_per_call_ms >= 0
       and .droverd_cpu_per_modern_call_ms >= 0
       and .yardstick_tasks_per_s > 0 and .ratio_yardstick > 0
       and .drover_async_tasks_per_s > 0 and .pgbench_async_tasks_per_s > 0
       and .yardstick_async_tasks_per_s > 0 and .ratio_async > 0 and .flush_per_s > 0
       and .dispatch_async_p50_ms > 0' <<<"$last" >/dev/null ||
  proto_fail "bad final JSON line: $last"
proto_log "PASS: bench smoke: $last"
