#!/usr/bin/env bash
# Drover's main job on the embedded default, in one command on a fresh Debian 12 machine:
# installs what is missing, builds, starts a local PostgreSQL cluster under .drover/ in the
# checkout, migrates it, creates the `demo` project whose remote is a local bare git repository,
# and runs droverd with the `process` pod backend (a pool of 2-10 local drover-agent processes).
# It prints the dashboard URL, an admin token, the demo repository and a sample command, the
# first three also as DROVER_URL=, DROVER_TOKEN= and DROVER_DEMO_REPO= lines.
#
# Ctrl-C stops droverd (which stops its agents) and PostgreSQL; nothing is lost: running the
# script again resumes with the same database, repository and token.
#
# Environment (all optional):
#   DROVER_STATE_DIR   where the cluster, the demo repository and logs live (default .drover)
#   DROVER_PORT        droverd's port on 127.0.0.1 (default 8080)
#   DROVER_PG_PORT     PostgreSQL's port on 127.0.0.1 (default 5488)
#   DROVER_BUILD_DIR   use this existing build instead of building build/run
#   DROVER_MIN_AGENTS / DROVER_MAX_AGENTS   the pool's bounds on first start (default 2 / 10)
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$DROVER_ROOT"

state=${DROVER_STATE_DIR:-$DROVER_ROOT/.drover}
port=${DROVER_PORT:-8080}
pgport=${DROVER_PG_PORT:-5488}
build=${DROVER_BUILD_DIR:-}

if [ -z "$build" ]; then
  drover_deps
  drover_log "building"
  drover_build build/run
  build=$DROVER_ROOT/build/run
fi
droverd=$build/droverd
agent=$build/agent/drover-agent
[ -x "$droverd" ] && [ -x "$agent" ] || { drover_log "no droverd/drover-agent in $build"; exit 1; }

mkdir -p "$state/logs" "$state/repos"
state=$(cd "$state" && pwd)
pgdata=$state/pg
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
# PostgreSQL refuses to run as root: the cluster belongs to the postgres user.
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ "$(id -u)" -eq 0 ]; then
  mkdir -p "$pgdata" && chown postgres "$pgdata" && chmod 700 "$pgdata"
  chmod o+x "$state"
fi

pg_stop() { as_pg "$pgbin/pg_ctl" -D "$pgdata" -m fast -w stop >/dev/null 2>&1 || true; }
if [ ! -f "$pgdata/PG_VERSION" ]; then
  drover_log "creating a PostgreSQL cluster in $pgdata"
  as_pg "$pgbin/initdb" -D "$pgdata" -A trust -U drover >"$state/logs/initdb.log"
fi
if ! as_pg "$pgbin/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
  drover_log "starting PostgreSQL on 127.0.0.1:$pgport"
  as_pg "$pgbin/pg_ctl" -D "$pgdata" -w -l "$pgdata/postgres.log" \
    -o "-p $pgport -k $pgdata -c listen_addresses=127.0.0.1" start >/dev/null
fi
export DATABASE_URL="host=$pgdata port=$pgport user=drover dbname=postgres"
unset PGOPTIONS

"$droverd" migrate >/dev/null

# The demo project: a bare repository with one commit, created once.
repo_url=$(agent/examples/make-demo-repo.sh "$state/repos")
demo_repo=${repo_url#file://}
"$droverd" project add --name demo --repo-url "$repo_url" --default-branch main >/dev/null

# One admin token, created once and kept (mode 600) so a re-run prints the same one.
tokfile=$state/admin-token
if [ -s "$tokfile" ] && psql "$DATABASE_URL" -qAtX -c \
  "SELECT 1 FROM api_tokens WHERE name = 'run.sh admin' AND revoked_at IS NULL" | grep -q 1; then
  token=$(cat "$tokfile")
else
  token=$("$droverd" token create --scope admin --name "run.sh admin" 2>/dev/null | tail -1)
  (umask 077 && printf '%s\n' "$token" >"$tokfile")
fi
# First start only: the pool's bounds (later changes through the API or dashboard stick).
psql "$DATABASE_URL" -qAtX -c "UPDATE pool_settings SET min_agents = ${DROVER_MIN_AGENTS:-2},
  max_agents = ${DROVER_MAX_AGENTS:-10}, updated_by = 'run.sh'
  WHERE updated_by IS NULL" >/dev/null

url=http://127.0.0.1:$port
drover_log "starting droverd on $url with local agents (logs: $state/logs)"
# The demo's repository is a local path: enable it (droverd's default is https and ssh only).
DROVER_REPO_PROTOCOLS=${DROVER_REPO_PROTOCOLS:-https,ssh,file} \
"$droverd" serve --listen "127.0.0.1:$port" --pod-backend process \
  --agent-command "$agent" --agent-log-dir "$state/logs/agents" \
  --agent-server-url "$url" >>"$state/logs/droverd.log" 2>&1 &
droverd_pid=$!

stopping=0
shutdown() {
  [ $stopping = 1 ] && return
  stopping=1
  drover_log "stopping droverd and its agents"
  kill -TERM "$droverd_pid" 2>/dev/null || true
  wait "$droverd_pid" 2>/dev/null || true
  drover_log "stopping PostgreSQL"
  pg_stop
  drover_log "stopped; run scripts/run.sh again to resume with the same data"
}
trap 'shutdown; exit 0' INT TERM

for _ in $(seq 100); do
  curl -fsS "$url/ready" >/dev/null 2>&1 && break
  if ! kill -0 "$droverd_pid" 2>/dev/null; then
    drover_log "droverd exited; last lines of $state/logs/droverd.log:"
    tail -20 "$state/logs/droverd.log" >&2
    pg_stop
    exit 1
  fi
  sleep 0.2
done

coder="the demo coding command (agent/examples/demo-coder.sh: a deterministic change, not AI)"
if command -v claude >/dev/null 2>&1 && { [ -n "${ANTHROPIC_API_KEY:-}" ] || [ -d "$HOME/.claude" ]; }; then
  coder="Claude Code (claude -p)"
fi
cat <<EOF

Drover is running.
  Dashboard:        $url/
  Admin token:      $token
  Demo repository:  $demo_repo   (project "demo")
  Agents run:       $coder

Submit a task:
  curl -s -X POST $url/api/tasks -H "Authorization: Bearer $token" \\
       -H 'Content-Type: application/json' \\
       -d '{"project": "demo", "title": "Add a greeting", "prompt": "Add a file that says hello"}'
Then watch it on the dashboard, or: git --git-dir $demo_repo branch --list 'drover/*'
Ctrl-C stops everything.

DROVER_URL=$url
DROVER_TOKEN=$token
DROVER_DEMO_REPO=$demo_repo
EOF

while kill -0 "$droverd_pid" 2>/dev/null; do
  wait "$droverd_pid" || true
done
[ $stopping = 1 ] || { drover_log "droverd exited on its own (see $state/logs/droverd.log)"; pg_stop; exit 1; }
