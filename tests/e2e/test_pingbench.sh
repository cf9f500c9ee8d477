#!/usr/bin/env bash
# Smoke test of scripts/pingbench.sh so it cannot rot: one 1-second round of wrk against
# droverd's /rpc ping and against nginx's fixed answer, in the test's own schema (BENCH_PG=env)
# with this build. Checks the one JSON line (both rates positive, the ratio their quotient);
# no performance threshold. Needs nginx and wrk (the script installs them when run as root).
source "$(dirname "$0")/../protocol/lib.sh"
command -v jq >/dev/null || proto_missing "jq not installed"
command -v nginx >/dev/null || proto_missing "nginx not installed (apt-get install nginx-light)"
command -v wrk >/dev/null || proto_missing "wrk not installed (apt-get install wrk)"

proto_db
port=$(proto_port)
BENCH_PG=env BENCH_BUILD_DIR=$PROTO_BUILD PINGBENCH_SECONDS=1 PINGBENCH_ROUNDS=1 PINGBENCH_CONNS=8 \
  PINGBENCH_PORT=$port BENCH_DIR=$PROTO_TMP/ping timeout 120 "$PROTO_ROOT/scripts/pingbench.sh" \
  >"$PROTO_TMP/ping.out" 2>"$PROTO_TMP/ping.log" ||
  proto_fail "scripts/pingbench.sh failed: $(tail -5 "$PROTO_TMP/ping.log")"
last=$(tail -n 1 "$PROTO_TMP/ping.out")
jq -e '.drover_ping_per_s > 0 and .nginx_per_s > 0 and .connections == 8 and .rounds == 1
       and ((.ratio - .drover_ping_per_s / .nginx_per_s) | fabs) < 0.01' <<<"$last" >/dev/null ||
  proto_fail "bad JSON line: $last"
proto_log "PASS: pingbench smoke: $last"
