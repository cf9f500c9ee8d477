#!/usr/bin/env bash
# The shell tests depend on nothing in the caller's environment they do not set themselves
# (tests/e2e/harness.sh), and their waits are bounded. test_serve_cli.sh runs twice in a hostile
# environment and must pass both times within a deadline:
#  1. DATABASE_URL names the test database itself, reachable, and nothing else is changed.
#     Before harness.sh this made the "unreachable database" step hang forever: DATABASE_URL
#     wins over the PG* variables the step overrides, so droverd found a database and served.
#  2. DATABASE_URL names a database that is not there (every droverd command would fail), and
#     besides: droverd settings that break it (DROVER_LOG_LEVEL=error hides the log lines the
#     test reads, DROVER_AUTH=maybe stops every start), proxies that refuse every connection
#     (curl to droverd would fail through them), a HOME and CURL_HOME whose .curlrc routes
#     through such a proxy, credentials, a kubeconfig and the agent's settings.
. "$(dirname "$0")/lib.sh"
drover_e2e_init
DEADLINE=300

# Where the test database is, spelled out: a DATABASE_URL with a host and port of its own.
host=${PGHOST:-$(drover_psql "SELECT coalesce(host(inet_server_addr()),
                  split_part(current_setting('unix_socket_directories'), ',', 1))")}
port=${PGPORT:-$(drover_psql "SELECT current_setting('port')")}
reachable="host=$host port=$port${PGUSER:+ user=$PGUSER}${PGDATABASE:+ dbname=$PGDATABASE}"
PGOPTIONS= PGHOST=/nonexistent PGPORT=1 psql -X -q -d "$reachable" -c "SELECT 1" >/dev/null ||
    fail "the spelled-out DATABASE_URL ($reachable) does not reach the test database"

hostile_home=$DROVER_TMP/hostile-home
mkdir -p "$hostile_home"
echo 'proxy = http://127.0.0.1:1' >"$hostile_home/.curlrc"

run() { # WHAT ENV... : test_serve_cli.sh with ENV added to this (scrubbed) environment
    local what=$1 t0=$SECONDS rc=0
    shift
    env "$@" timeout "$DEADLINE" bash "$(dirname "$0")/test_serve_cli.sh" >"$DROVER_TMP/run.log" 2>&1 ||
        rc=$?
    if [ "$rc" != 0 ]; then
        tail -n 30 "$DROVER_TMP/run.log" >&2
        [ "$rc" = 124 ] && fail "$what: test_serve_cli.sh did not finish within $DEADLINE s"
        fail "$what: test_serve_cli.sh failed (exit $rc)"
    fi
    grep -q '^ok - an unreachable database exits 1 with a message' "$DROVER_TMP/run.log" ||
        fail "$what: the unreachable-database step did not pass: $(cat "$DROVER_TMP/run.log")"
    pass "$what: test_serve_cli.sh passed in $((SECONDS - t0)) s"
}

run "DATABASE_URL naming the reachable test database" DATABASE_URL="$reachable"
run "DATABASE_URL naming no database, droverd settings, proxies, a hostile HOME, credentials" \
    DATABASE_URL="postgresql://drover@127.0.0.1:1/nowhere?connect_timeout=2" \
    DROVER_LOG_LEVEL=error DROVER_AUTH=maybe DROVER_WORKERS=lots DROVER_URL=http://127.0.0.1:1 \
    DROVER_TOKEN=drv_not_a_token DROVER_POD_BACKEND=kubernetes \
    http_proxy=http://127.0.0.1:1 https_proxy=http://127.0.0.1:1 ALL_PROXY=http://127.0.0.1:1 \
    HTTPS_PROXY=http://127.0.0.1:1 NO_PROXY= \
    HOME="$hostile_home" CURL_HOME="$hostile_home" XDG_CONFIG_HOME="$hostile_home" \
    KUBECONFIG=/nonexistent/kubeconfig KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT=1 \
    ANTHROPIC_API_KEY=sk-ant-not-a-key CLAUDE_CODE_OAUTH_TOKEN=not-a-token \
    MCP_SERVER_URL=http://127.0.0.1:1/mcp HEARTBEAT_INTERVAL=0
