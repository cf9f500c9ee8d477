#!/usr/bin/env bash
# Smoke test of scripts/callgrind.sh so it cannot rot: a few claims and heartbeats (on /rpc, and
# on /mcp in both MCP eras) under callgrind against the test's own schema (BENCH_PG=env) and this
# build. Checks the JSON line (instruction counts positive, the modern/legacy ratio), and that the comparison works both ways: against a baseline
# of this build type with the counts just measured it reports no regression, and against one
# with counts far below it reports a regression (exit 3 with CALLGRIND_STRICT=1). No
# performance threshold.
source "$(dirname "$0")/../protocol/lib.sh"
command -v jq >/dev/null || proto_missing "jq not installed"
command -v valgrind >/dev/null || proto_missing "valgrind not installed"
command -v callgrind_control >/dev/null || proto_missing "callgrind_control not installed"

proto_db
run() { # baseline-file [extra env...]: each run on a port free at its start
  local b=$1 port
  shift
  port=$(proto_port)
  env BENCH_PG=env BENCH_BUILD_DIR=$PROTO_BUILD CALLGRIND_TASKS=10 CALLGRIND_BEATS=20 CALLGRIND_ERA_BEATS=20 BENCH_PORT=$port \
    CALLGRIND_BASELINE=$b "$@" timeout 300 "$PROTO_ROOT/scripts/callgrind.sh" 2>>"$PROTO_TMP/cg.log"
}
btype=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$PROTO_BUILD/CMakeCache.txt")
btype=${btype:-none}
echo '{}' >"$PROTO_TMP/none.json"
first=$(run "$PROTO_TMP/none.json" | tail -n 1) || proto_fail "scripts/callgrind.sh failed: $(tail -5 "$PROTO_TMP/cg.log")"
jq -e '.claim_complete_ir > 10000 and .heartbeat_ir > 1000 and .heartbeat_legacy_mcp_ir > 1000 and
  .heartbeat_modern_mcp_ir > 1000 and .modern_legacy_ratio > 0 and .regression == false' <<<"$first" >/dev/null ||
  proto_fail "bad JSON line: $first"
scale() { # factor: a baseline of this build type at the measured counts x factor
  jq --arg t "$btype" --argjson f "$1" '{claim_complete_ir, heartbeat_ir, heartbeat_legacy_mcp_ir,
    heartbeat_modern_mcp_ir} | map_values(. * $f | floor) + {build_type: $t}' <<<"$first"
}
# A baseline at the measured counts + 50%: no regression.
scale 1.5 >"$PROTO_TMP/high.json"
ok=$(run "$PROTO_TMP/high.json" CALLGRIND_STRICT=1 | tail -n 1) || proto_fail "a regression reported against a higher baseline"
jq -e '.regression == false and .claim_complete_change_pct < 0 and .heartbeat_modern_mcp_change_pct < 0' <<<"$ok" >/dev/null || proto_fail "bad comparison: $ok"
# A baseline at half the counts: a regression, and exit 3 when strict.
scale 0.5 >"$PROTO_TMP/low.json"
set +e
bad=$(run "$PROTO_TMP/low.json" CALLGRIND_STRICT=1 | tail -n 1)
rc=$?
set -e
[ "$rc" = 3 ] || proto_fail "no exit 3 for a regression (exit $rc): $bad"
jq -e '.regression == true and .claim_complete_change_pct > 50 and .heartbeat_legacy_mcp_change_pct > 50' <<<"$bad" >/dev/null || proto_fail "regression not reported: $bad"
proto_log "PASS: callgrind smoke: $first"
