#!/usr/bin/env bash
# droverd under valgrind memcheck, end to end (tests/e2e/test_valgrind.sh): a fresh schema,
# MCP tool calls over /mcp and the seed endpoints, REST calls, then SIGTERM. Fails on any
# memcheck error or definite leak; third-party noise only is suppressed in
# tests/valgrind/drover.supp. Needs a reachable PostgreSQL through the PG* environment (as
# scripts/test.sh provides under pg_virtualenv). Builds RelWithDebInfo into build/valgrind
# (no sanitizers: ASan and memcheck do not stack).
#
# Env: VALGRIND_BUILD_DIR (use this build instead)
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$DROVER_ROOT"

if [ -n "${VALGRIND_BUILD_DIR:-}" ]; then
  build=$VALGRIND_BUILD_DIR
else
  drover_deps
  drover_log "building RelWithDebInfo into build/valgrind"
  build=build/valgrind
  drover_build "$build"
fi
command -v valgrind >/dev/null || { drover_log "valgrind is not installed (apt-get install valgrind)"; exit 1; }
DROVER_TEST_REQUIRE_DB=1 DROVER_SOURCE_DIR=$DROVER_ROOT DROVER_BUILD_DIR=$(cd "$build" && pwd) \
  tests/e2e/test_valgrind.sh
