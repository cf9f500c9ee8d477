# Sourced by the ops e2e tests: a droverd in a schema of its own on a free loopback port, with
# admin, operator and agent tokens. Relies only on the PG* environment (the rest of the caller's
# is scrubbed: harness.sh; ops_start gives the test a HOME of its own). Sets DROVERD, CTL, URL,
# ADMIN, OPERATOR, AGENT_TOKEN, AGENT_ID and OPS_DIR; ops_stop runs on exit.
set -euo pipefail
# shellcheck source=harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

: "${DROVER_BUILD_DIR:?}" "${DROVER_SOURCE_DIR:?}"
DROVERD=$DROVER_BUILD_DIR/droverd
CTL=$DROVER_BUILD_DIR/agent/droverctl
OPS_DIR=$(mktemp -d)
OPS_SCHEMA=ops_e2e_$$
OPS_PID=

ops_psql() { psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }

ops_stop() {
  if [ -n "$OPS_PID" ]; then kill "$OPS_PID" 2>/dev/null || true; drover_wait_pid 90 "$OPS_PID" 2>/dev/null || true; fi
  PGOPTIONS= ops_psql -c "DROP SCHEMA IF EXISTS $OPS_SCHEMA CASCADE" >/dev/null 2>&1 || true
  rm -rf "$OPS_DIR"
}
trap ops_stop EXIT

if ! PGCONNECT_TIMEOUT=10 ops_psql -c 'SELECT 1' >/dev/null 2>&1; then
  echo "no PostgreSQL reachable through PG*"
  if [ "${DROVER_TEST_REQUIRE_DB:-0}" = 1 ] || [ "${CI:-}" = true ]; then exit 1; fi
  exit 77
fi

ops_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

ops_start() {
  drover_harness_home "$OPS_DIR/home"
  PGOPTIONS= ops_psql -c "CREATE SCHEMA $OPS_SCHEMA" >/dev/null
  export PGOPTIONS="-c search_path=$OPS_SCHEMA"
  "$DROVERD" migrate >"$OPS_DIR/migrate.log" 2>&1
  ADMIN=$("$DROVERD" token create --scope admin --name e2e-admin 2>/dev/null)
  OPERATOR=$("$DROVERD" token create --scope operator --name e2e-operator 2>/dev/null)
  eval "$("$DROVERD" token create --scope agent --name e2e-agent 2>/dev/null)"
  AGENT_TOKEN=$DROVER_TOKEN
  unset DROVER_TOKEN
  local port
  port=$(ops_free_port)
  URL=http://127.0.0.1:$port
  "$DROVERD" serve --listen "127.0.0.1:$port" --workers 3 --sweep-interval 1 --pod-backend none \
    --log-level warn >"$OPS_DIR/droverd.log" 2>&1 &
  OPS_PID=$!
  for _ in $(seq 1 100); do
    curl -sf --max-time 2 "$URL/health" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "droverd did not start:"; cat "$OPS_DIR/droverd.log"; exit 1
}

# curl wrapper: ops_http TOKEN METHOD PATH [BODY] -> prints "STATUS BODY"
ops_http() {
  local tok=$1 method=$2 path=$3 body=${4:-}
  local args=(-s -o "$OPS_DIR/body" -w '%{http_code}' -X "$method" "$URL$path")
  [ -n "$tok" ] && args+=(-H "Authorization: Bearer $tok")
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data "$body")
  local st
  st=$(curl "${args[@]}")
  printf '%s %s\n' "$st" "$(cat "$OPS_DIR/body")"
}

# An MCP tool call as the agent (the seed endpoint).
ops_tool() {
  curl -sf -X POST "$URL/tools/call" -H "Authorization: Bearer $AGENT_TOKEN" \
    -H 'Content-Type: application/json' --data "{\"name\":\"$1\",\"arguments\":$2}"
}

ops_fail() { echo "FAIL: $*"; [ -f "$OPS_DIR/droverd.log" ] && tail -20 "$OPS_DIR/droverd.log"; exit 1; }
ops_expect() { # ops_expect WHAT WANT GOT
  [ "$2" = "$3" ] || ops_fail "$1: want '$2', got '$3'"
}
