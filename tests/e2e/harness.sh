# shellcheck shell=bash
# What every shell test sources first (tests/e2e/lib.sh, ops_lib.sh, tests/protocol/lib.sh and
# tests/chaos/chaos.sh do it for theirs): a test depends on nothing in the caller's environment
# that it does not set itself, and every wait has a bound.
#
# Sourcing it removes what would change the behaviour of droverd, drover-agent, droverctl,
# git, curl or the MCP clients under test:
#   DATABASE_URL                    (it wins over the PG* variables the tests rely on)
#   DROVER_*  except the harness's own knobs kept below
#   the agent's settings: MCP_*, AGENT_ID, HEARTBEAT_INTERVAL, TASK_TIMEOUT, GIT_TOKEN, ...
#   ANTHROPIC_*, CLAUDE*            (credentials: a coding command must never be the real one)
#   KUBECONFIG, KUBERNETES_*        (the pool's Kubernetes backend)
#   http(s)_proxy, all_proxy, no_proxy and their upper-case forms (saved in
#                                   DROVER_HARNESS_PROXY for the one step that downloads)
#   GIT_*                           (GIT_DIR and friends from a hook, identities, credentials),
#                                   then git reads no system or global config
#   CURL_HOME, XDG_CONFIG_HOME      (they pick curl's and git's config files), VALGRIND_OPTS
#   the knobs of the scripts tests run: BENCH_* (scripts/bench.sh), MAX_TASKS, MAX_IDLE_POLLS,
#                                   WAIT_SECONDS, AGENT_WORK (scripts/seed-agent.sh)
# It keeps the connection to the test database (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE,
# PGPASSFILE, ...: the documented way to reach it), and the harness's knobs:
# DROVER_SOURCE_DIR, DROVER_BUILD_DIR, DROVER_TEST_*, DROVER_SANITIZED, DROVER_NPM_TOOLS,
# DROVER_PORT_RANGE, DROVER_SECURITY_PORTS, DROVER_E2E_*.
#
#   drover_harness_home DIR     makes DIR (a test's scratch directory) the HOME of everything
#                               the test runs: no ~/.gitconfig, ~/.curlrc, ~/.claude or
#                               ~/.pgpass of the caller's (PGPASSFILE keeps pointing at the
#                               caller's ~/.pgpass, a database connection setting); its .curlrc
#                               bounds every curl (--max-time 120, --connect-timeout 10) that
#                               does not set a tighter bound of its own
#   drover_wait_pid SECS PID    `wait PID` with a bound: PID's exit status, or 124 after it was
#                               still running SECS seconds later (then it is SIGKILLed)
#   drover_git_seed BARE WORK NAME
#                               a bare repository BARE whose main holds one commit (a README
#                               "# NAME" by seed@test), pushed from a new work tree WORK
#
# Idempotent: sourcing it twice does no harm.

drover_harness_scrub() {
    local name
    local keep='^(DROVER_SOURCE_DIR|DROVER_BUILD_DIR|DROVER_TEST_[A-Z0-9_]*|DROVER_SANITIZED|DROVER_NPM_TOOLS|DROVER_PORT_RANGE|DROVER_SECURITY_PORTS|DROVER_E2E_[A-Z0-9_]*)$'
    # (An array is never exported: a second sourcing in this shell keeps what the first saved.)
    if [[ "$(declare -p DROVER_HARNESS_PROXY 2>/dev/null)" != "declare -a"* ]]; then
        unset DROVER_HARNESS_PROXY
        DROVER_HARNESS_PROXY=()
        while IFS= read -r name; do
            DROVER_HARNESS_PROXY+=("$name=${!name}")
        done < <(compgen -e | grep -Ei '^(https?|ftp|all|no)_proxy$')
    fi
    while IFS= read -r name; do
        case $name in
        DROVER_*) [[ $name =~ $keep ]] && continue ;;
        esac
        unset "$name"
    done < <(compgen -e | grep -E '^(DATABASE_URL|DROVER_.*|MCP_.*|AGENT_ID|AGENT_WORK|HEARTBEAT_INTERVAL|TASK_TIMEOUT|MAX_TASKS|MAX_IDLE_POLLS|WAIT_SECONDS|ANTHROPIC_.*|CLAUDE.*|KUBECONFIG|KUBERNETES_.*|[Hh][Tt][Tt][Pp][Ss]?_[Pp][Rr][Oo][Xx][Yy]|[Ff][Tt][Pp]_[Pp][Rr][Oo][Xx][Yy]|[Aa][Ll][Ll]_[Pp][Rr][Oo][Xx][Yy]|[Nn][Oo]_[Pp][Rr][Oo][Xx][Yy]|GIT_.*|CURL_HOME|XDG_CONFIG_HOME|BENCH_.*|VALGRIND_OPTS)$')
    export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
    # The tests' repositories are local paths, git:// and plain http:// servers on loopback:
    # enabled here, as scripts/run.sh's demo does; droverd's own default is https,ssh (a test
    # of that default unsets this).
    export DROVER_REPO_PROTOCOLS=https,ssh,http,git,file
}
drover_harness_scrub

drover_harness_home() {
    local dir=$1
    mkdir -p "$dir" || return 1
    if [ -z "${PGPASSFILE:-}" ] && [ -n "${HOME:-}" ] && [ -f "$HOME/.pgpass" ]; then
        export PGPASSFILE=$HOME/.pgpass
    fi
    if [ -z "${PGSERVICEFILE:-}" ] && [ -n "${HOME:-}" ] && [ -f "$HOME/.pg_service.conf" ]; then
        export PGSERVICEFILE=$HOME/.pg_service.conf
    fi
    printf '%s\n' 'max-time = 120' 'connect-timeout = 10' >"$dir/.curlrc"
    export HOME=$dir
}

drover_wait_pid() {
    local secs=$1 pid=$2 i
    for ((i = 0; i < secs * 10; i++)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid"
            return
        fi
        sleep 0.1
    done
    echo "harness: process $pid was still running after $secs s: killed" >&2
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 124
}

drover_git_seed() {
    local bare=$1 work=$2
    git init -q --bare -b main "$bare"
    git init -q -b main "$work"
    echo "# $3" >"$work/README.md"
    git -C "$work" add -A
    git -C "$work" -c user.name=seed -c user.email=seed@test commit -qm initial
    git -C "$work" push -q "$bare" main
}
