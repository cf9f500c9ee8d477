# Shared helpers for e2e tests that run a real droverd against the test PostgreSQL.
# Source it:  . "$(dirname "$0")/lib.sh"
#
#   drover_e2e_init            checks prerequisites (exit 77 = skipped, unless
#                              DROVER_TEST_REQUIRE_DB=1), creates a schema of its own, migrates
#                              it, and installs an EXIT trap that stops droverd and drops it
#   drover_token SCOPE NAME    prints a new token (agent scope: prints AGENT_ID=/DROVER_TOKEN=
#                              lines, use eval)
#   drover_start [ARGS...]     starts `droverd serve` on a free port of DROVER_PORT_RANGE
#                              (default 18100-18199), waits for /ready; sets DROVER_URL,
#                              DROVER_PID, DROVER_LOG
#   drover_stop                SIGTERM + wait (at most 90 s, then SIGKILL: status 124);
#                              returns droverd's exit status
#   DROVER_APPNAME             droverd's application_name (pg_stat_activity), e.g. to
#                              pg_terminate_backend its connections in a recovery test
#   drover_psql SQL            runs SQL in the test schema (prints unaligned tuples)
#   drover_enqueue TITLE [PRIO] inserts a runnable task, prints its id
#   fail MSG / pass MSG        report and exit 1 / print "ok - MSG"
#   drover_e2e_workdir NAME [DIR...]
#                              after drover_e2e_init, for a test that runs processes of its own:
#                              W, a scratch directory /tmp/drover-e2e-NAME.XXXXXX, and PIDS, an
#                              array to add their pids to; at exit each is stopped (SIGTERM, at
#                              most 30 s each, then SIGKILL) and W and the DIRs removed, then
#                              drover_cleanup runs; fail now prints "FAIL: MSG" and the tail of
#                              every $W/*.log and droverd's log
#   drover_e2e_agent_init NAME for a test of drover-agent ($AGENT) with a git server of its own:
#                              skipped without git or python3, failed when $AGENT is not built,
#                              then drover_e2e_init and drover_e2e_workdir NAME
#   drover_free_port LO-HI     prints the first port of the range nothing listens on, else fails
#
# Everything uses only the PG* environment (PGHOST, PGPORT, PGUSER, ...), as CI does; the rest
# of the caller's environment is scrubbed (harness.sh), and drover_e2e_init gives the test a
# HOME of its own under DROVER_TMP.

set -u
# shellcheck source=harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

: "${DROVER_BUILD_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build}"
: "${DROVER_PORT_RANGE:=18100-18199}"
DROVERD="$DROVER_BUILD_DIR/droverd"
DROVER_PID=""
DROVER_URL=""
DROVER_SCHEMA=""
DROVER_APPNAME=""
DROVER_TMP=""

fail() {
    echo "not ok - $*" >&2
    if [ -n "${DROVER_LOG:-}" ] && [ -f "$DROVER_LOG" ]; then
        echo "---- droverd log (last 40 lines) ----" >&2
        tail -n 40 "$DROVER_LOG" >&2
    fi
    exit 1
}

pass() {
    echo "ok - $*"
}

drover_skip() {
    if [ "${DROVER_TEST_REQUIRE_DB:-0}" = "1" ]; then
        echo "prerequisite missing (and DROVER_TEST_REQUIRE_DB=1): $*" >&2
        exit 1
    fi
    echo "skipped: $*" >&2
    exit 77
}

drover_psql() {
    psql -X -q -v ON_ERROR_STOP=1 -At -c "$1"
}

drover_cleanup() {
    local rc=$?
    drover_stop >/dev/null 2>&1 || true
    if [ -n "$DROVER_SCHEMA" ]; then
        PGOPTIONS= psql -X -q -c "DROP SCHEMA IF EXISTS $DROVER_SCHEMA CASCADE" >/dev/null 2>&1 || true
    fi
    [ -n "$DROVER_TMP" ] && rm -rf "$DROVER_TMP"
    exit $rc
}

drover_e2e_init() {
    command -v psql >/dev/null || drover_skip "psql not installed"
    command -v curl >/dev/null || drover_skip "curl not installed"
    command -v jq >/dev/null || drover_skip "jq not installed"
    [ -x "$DROVERD" ] || drover_skip "droverd not built at $DROVERD"
    PGOPTIONS= PGCONNECT_TIMEOUT=10 psql -X -q -c "SELECT 1" >/dev/null 2>&1 ||
        drover_skip "no PostgreSQL reachable"
    DROVER_SCHEMA="e2e_$(basename "$0" .sh | tr -c 'a-zA-Z0-9_\n' '_')_$$"
    DROVER_TMP=$(mktemp -d)
    drover_harness_home "$DROVER_TMP/home"
    DROVER_APPNAME="droverd_$DROVER_SCHEMA"
    trap drover_cleanup EXIT
    PGOPTIONS= psql -X -q -c "CREATE SCHEMA $DROVER_SCHEMA" >/dev/null || fail "cannot create schema"
    export PGOPTIONS="-c search_path=$DROVER_SCHEMA -c client_min_messages=warning"
    "$DROVERD" migrate >/dev/null || fail "droverd migrate failed"
}

drover_token() {
    "$DROVERD" token create --scope "$1" --name "$2" 2>/dev/null
}

# A real bare repository with one commit on main, made once per test: create_branch runs the
# git forge backend (git ls-remote + push) against it.
drover_repo() {
    local bare="$DROVER_TMP/remote.git" work="$DROVER_TMP/seed"
    if [ ! -d "$bare" ]; then
        git init -q --bare -b main "$bare"
        git init -q -b main "$work"
        git -C "$work" -c user.name=e2e -c user.email=e2e@localhost commit -q --allow-empty -m init
        git -C "$work" push -q "$bare" main
    fi
    echo "file://$bare"
}

drover_enqueue() {
    local repo
    repo=$(drover_repo)
    drover_psql "INSERT INTO tasks (title, repo_url, priority) VALUES ('$1', '$repo', ${2:-0}) RETURNING id"
}

# N agents named PREFIX-<i>, each holding a task of its own ("beaten <i>", claimed over /rpc, so
# droverd must be running), as lines "AGENT_ID TOKEN TASK_ID" in $DROVER_TMP/tokens: what the
# heartbeat load (tests/e2e/hbload.py) reads. drover_hb_agents N PREFIX
drover_hb_agents() {
    local i out agent token got
    : >"$DROVER_TMP/tokens"
    : >"$DROVER_TMP/agents"
    for i in $(seq "$1"); do
        out=$(drover_token agent "$2-$i") || fail "agent token"
        agent=$(sed -n 's/^AGENT_ID=//p' <<<"$out")
        token=$(sed -n 's/^DROVER_TOKEN=//p' <<<"$out")
        drover_enqueue "beaten $i" >/dev/null
        echo "$agent $token" >>"$DROVER_TMP/agents"
    done
    # One claim at a time: the queue hands the tasks out in order, one to each agent.
    while read -r agent token; do
        got=$(curl -s --max-time 10 -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
            -d '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_next_task","arguments":{}}}' \
            "$DROVER_URL/rpc" | jq -r '.result.structuredContent.task.id // empty')
        [ -n "$got" ] || fail "agent $agent claimed nothing"
        echo "$agent $token $got" >>"$DROVER_TMP/tokens"
    done <"$DROVER_TMP/agents"
}

# Is something listening on 127.0.0.1:$1?
drover_port_busy() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

drover_free_port() {
    local lo=${1%-*} hi=${1#*-} p
    for ((p = lo; p <= hi; p++)); do drover_port_busy "$p" || { echo "$p"; return 0; }; done
    fail "no free port in $1"
}

drover_e2e_workdir() {
    W=$(mktemp -d "/tmp/drover-e2e-$1.XXXXXX")
    DROVER_E2E_DIRS=("$W" "${@:2}")
    PIDS=()
    fail() {
        echo "FAIL: $*" >&2
        for f in "$W"/*.log "${DROVER_LOG:-/dev/null}"; do echo "--- $f"; tail -n 25 "$f"; done >&2
        exit 1
    }
    trap 'rc=$?; drover_e2e_workdir_cleanup; (exit $rc); drover_cleanup' EXIT
}

drover_e2e_agent_init() {
    command -v git >/dev/null || drover_skip "git is missing"
    command -v python3 >/dev/null || drover_skip "python3 is missing"
    [ -x "$AGENT" ] || fail "missing $AGENT (build first)"
    drover_e2e_init
    drover_e2e_workdir "$1"
}

drover_e2e_workdir_cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do drover_wait_pid 30 "$p" 2>/dev/null || true; done
    rm -rf "${DROVER_E2E_DIRS[@]}"
}

drover_start() {
    local lo=${DROVER_PORT_RANGE%-*} hi=${DROVER_PORT_RANGE#*-} port start i
    start=$((lo + $$ % (hi - lo + 1)))
    DROVER_LOG="$DROVER_TMP/droverd.log"
    for ((i = 0; i <= hi - lo; i++)); do
        port=$((lo + (start - lo + i) % (hi - lo + 1)))
        drover_port_busy "$port" && continue
        PGAPPNAME=$DROVER_APPNAME "$DROVERD" serve --listen "127.0.0.1:$port" --pod-backend none "$@" >>"$DROVER_LOG" 2>&1 &
        DROVER_PID=$!
        DROVER_URL="http://127.0.0.1:$port"
        for _ in $(seq 1 100); do
            if ! kill -0 "$DROVER_PID" 2>/dev/null; then
                DROVER_PID=""
                break # could not bind (a race for the port): try the next one
            fi
            if curl -fsS --max-time 2 -o /dev/null "$DROVER_URL/ready" 2>/dev/null; then
                return 0
            fi
            sleep 0.1
        done
        if [ -n "$DROVER_PID" ]; then
            fail "droverd did not become ready on port $port"
        fi
    done
    fail "no free port in $DROVER_PORT_RANGE"
}

drover_stop() {
    local rc=0
    [ -n "$DROVER_PID" ] || return 0
    kill -TERM "$DROVER_PID" 2>/dev/null || true
    drover_wait_pid 90 "$DROVER_PID" || rc=$?
    DROVER_PID=""
    return $rc
}
