#!/usr/bin/env bash
# Drover's main job on the embedded default: a local PostgreSQL cluster under .drover/ in the
# checkout, the schema migrated, and a queue round trip shown. Idempotent: a second run reuses
# the cluster and its data.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$DROVER_ROOT"

drover_deps
drover_log "building"
drover_build build/run

state="$DROVER_ROOT/.drover"
pgdata="$state/pg"
port=${DROVER_PG_PORT:-5488}
mkdir -p "$state"
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ "$(id -u)" -eq 0 ]; then chown postgres "$state"; fi
if [ ! -f "$pgdata/PG_VERSION" ]; then
  drover_log "creating a PostgreSQL cluster in $pgdata"
  as_pg "$pgbin/initdb" -D "$pgdata" -A trust -U drover >/dev/null
fi
if ! as_pg "$pgbin/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
  drover_log "starting PostgreSQL on 127.0.0.1:$port"
  as_pg "$pgbin/pg_ctl" -D "$pgdata" -w -l "$state/postgres.log" \
    -o "-p $port -k $state -c listen_addresses=127.0.0.1" start >/dev/null
fi
export DATABASE_URL="host=$state port=$port user=drover dbname=postgres"
build/run/droverd migrate
build/run/droverd selftest
echo "DATABASE_URL=$DATABASE_URL"
