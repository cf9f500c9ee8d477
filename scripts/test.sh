#!/usr/bin/env bash
# The whole Drover test suite, on a fresh Debian 12 machine as root, with no other step:
# installs what is missing, builds with warnings as errors (plain and ASan+UBSan), starts a
# throwaway PostgreSQL cluster, runs every CTest test against it under both builds, tears the
# cluster down and prints CTest's summary line last. Exit status: 0 only when all passed.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$DROVER_ROOT"

# nginx and wrk for e2e_pingbench: the suites run in network namespaces with no way out, so
# what a test would install on demand must be here before they start.
drover_deps nginx-light wrk
# The pinned npm clients: MCP conformance, SDK, Inspector, Claude Code; playwright-core.
scripts/lib/npm-tools.sh
if ! cmp -s tests/browser/package-lock.json tests/browser/node_modules/.drover-lock 2>/dev/null; then
  drover_log "installing the browser test driver (npm ci --prefix tests/browser)"
  npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error >/dev/null
  cp tests/browser/package-lock.json tests/browser/node_modules/.drover-lock
fi

drover_log "building (warnings are errors)"
drover_build build/test -DDROVER_WERROR=ON
drover_log "building with ASan+UBSan"
drover_build build/asan -DDROVER_WERROR=ON -DDROVER_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
if [ "${DROVER_FUZZ_SMOKE:-1}" = 1 ]; then
  drover_log "building the fuzz targets (clang, libFuzzer)"
  CC=clang drover_build build/fuzz -DDROVER_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug
fi

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
export DROVER_TEST_REQUIRE_DB=1
export CK_TIMEOUT_MULTIPLIER=${CK_TIMEOUT_MULTIPLIER:-3}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Each suite runs in a network namespace of its own (a fresh loopback: no test of one build can
# meet a port of the other) against a throwaway PostgreSQL cluster of its own (pg_virtualenv -t:
# a temporary cluster, which works as root; its own port, so the two Unix sockets in
# /var/run/postgresql differ). The ASan+UBSan and the plain suite run at the same time: most
# tests wait on processes, sockets and timeouts rather than the CPU, so together they take
# little longer than the longer one alone.
# Without namespaces (not root) the two suites run one after the other.
netns=(unshare --net bash -c 'ip link set lo up && exec "$@"' _)
"${netns[@]}" true 2>/dev/null || netns=()
suite() { # log pgport build [ctest args...]
  local log=$1 pgport=$2 build=$3
  shift 3
  "${netns[@]}" pg_virtualenv -t -c "-p $pgport" -o max_connections=400 -o fsync=off \
    ctest --test-dir "$build" --output-on-failure "$@" >"$log" 2>&1
}

# Each build's suite is cut into shards (every Nth test, ctest -I), and every shard runs in a
# namespace and cluster of its own, all at once: the suites are long because their tests wait
# (on agents, timeouts, Claude Code starting), not because they keep both cores busy.
shards=${DROVER_TEST_SHARDS:-2}
[ ${#netns[@]} -gt 0 ] || shards=1
drover_log "running the suites against throwaway PostgreSQL clusters (ASan+UBSan and plain at once, $shards shard(s) each)"
set +e
rc=0
if [ -d build/fuzz ]; then
  suite "$logs/fuzz.log" 55431 build/fuzz -R "^fuzz_" || rc=1
  cat "$logs/fuzz.log"
fi
# Benchmarks and valgrind's tools measure the Release-like build; formatting needs one run.
asan() { # shard
  DROVER_SANITIZED=1 suite "$logs/asan.$1.log" $((55440 + $1)) build/asan -I "$1,,$shards" \
    -E "^e2e_(agent_image|bench|callgrind|format|pingbench|valgrind)$"
}
plain() { suite "$logs/test.$1.log" $((55460 + $1)) build/test -I "$1,,$shards" -E "^e2e_agent_image$"; }
pids=()
# The agent image's check needs Debian's mirror and the npm registry: outside the namespaces,
# with no database, beside the shards (counted with the plain run).
ctest --test-dir build/test --output-on-failure -R "^e2e_agent_image$" >"$logs/test.image.log" 2>&1 &
pids+=($!)
for i in $(seq "$shards"); do
  if [ ${#netns[@]} -gt 0 ]; then
    asan "$i" &
    pids+=($!)
    plain "$i" &
    pids+=($!)
  else
    asan "$i" || rc=1
    plain "$i" || rc=1
  fi
done
for p in "${pids[@]}"; do wait "$p" || rc=1; done
for i in $(seq "$shards"); do cat "$logs/asan.$i.log"; done
for i in $(seq "$shards"); do cat "$logs/test.$i.log"; done
cat "$logs/test.image.log"
set -e

# One summary line per build, CTest's wording, over all its shards: "N% tests passed, F tests
# failed out of T" (a shard that printed none counts as one failed test).
summary() { # build-prefix
  local f line total=0 failed=0
  for f in "$logs/$1".*.log; do
    line=$(grep -E '^[0-9]+% tests passed' "$f" 2>/dev/null | tail -1)
    if [[ $line =~ ([0-9]+)\ tests\ failed\ out\ of\ ([0-9]+) ]]; then
      failed=$((failed + BASH_REMATCH[1]))
      total=$((total + BASH_REMATCH[2]))
    else
      failed=$((failed + 1))
      total=$((total + 1))
    fi
  done
  echo "$(((total - failed) * 100 / total))% tests passed, $failed tests failed out of $total"
}
failures() { grep -hE '^[[:space:]]+[0-9]+ - .*\((Failed|Timeout|Not Run|SEGFAULT|Subprocess aborted|Exception)' "$logs/$1".*.log 2>/dev/null || true; }
echo
[ -f "$logs/fuzz.log" ] && echo "fuzz smoke:     $(grep -E '^[0-9]+% tests passed' "$logs/fuzz.log" | tail -1)"
# Skipped tests count as passed in CTest's line: name them, so that none hides.
skipped() { grep -hE '^[[:space:]]+[0-9]+ - .*\(Skipped\)' "$logs/$1".*.log 2>/dev/null | sed 's/$/ <- skipped/' || true; }
echo "ASan+UBSan run: $(summary asan)"
failures asan
skipped asan
echo "plain run:      $(summary test)"
failures test
skipped test
if [ $rc -ne 0 ]; then
  echo "FAILED (exit $rc)"
fi
# CTest's own summary line of the plain run, last.
summary test
exit $rc
