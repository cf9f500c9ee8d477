#!/usr/bin/env bash
# The whole Drover test suite, on a fresh Debian 12 machine as root, with no other step:
# installs what is missing, builds with warnings as errors (plain and ASan+UBSan), starts a
# throwaway PostgreSQL cluster, runs every CTest test against it under both builds, tears the
# cluster down and prints CTest's summary line last. Exit status: 0 only when all passed.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$DROVER_ROOT"

drover_deps
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

# pg_virtualenv creates a temporary cluster (it works as root), exports PG* for it, runs the
# command, drops the cluster and passes the command's exit status through.
drover_log "running the suite against a throwaway PostgreSQL"
set +e
pg_virtualenv -o max_connections=400 -o fsync=off bash -c '
  rc=0
  if [ -d build/fuzz ]; then
    ctest --test-dir build/fuzz -R "^fuzz_" --output-on-failure >"$1/fuzz.log" 2>&1 || rc=1
    cat "$1/fuzz.log"
  fi
  DROVER_SANITIZED=1 ctest --test-dir build/asan --output-on-failure -E "^e2e_(bench|format|valgrind)" \
    >"$1/asan.log" 2>&1 || rc=1
  cat "$1/asan.log"
  ctest --test-dir build/test --output-on-failure >"$1/test.log" 2>&1 || rc=1
  cat "$1/test.log"
  exit $rc
' _ "$logs"
rc=$?
set -e

summary() { grep -E '^[0-9]+% tests passed' "$1" 2>/dev/null | tail -1; }
echo
[ -f "$logs/fuzz.log" ] && echo "fuzz smoke:     $(summary "$logs/fuzz.log")"
echo "ASan+UBSan run: $(summary "$logs/asan.log")"
echo "plain run:      $(summary "$logs/test.log")"
if [ $rc -ne 0 ]; then
  echo "FAILED (exit $rc)"
fi
# CTest's own summary line of the plain run, last.
summary "$logs/test.log" || echo "0% tests passed, 1 tests failed out of 1"
exit $rc
