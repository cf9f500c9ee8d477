# The private PostgreSQL cluster scripts/bench.sh, scale.sh, callgrind.sh and pingbench.sh measure
# against, and the build they measure. Source it
# after common.sh. PostgreSQL refuses to run as root, so as root the cluster belongs to the
# postgres user.
#
#   benchpg_start DIR [CONF_LINE...]   initdb in DIR/pg (trust, superuser drover), listen on a Unix
#                                      socket in DIR only, the settings of
#                                      shared/reference/queue-bench/pg_cluster.sh (so figures stay
#                                      comparable) plus CONF_LINEs; start it; export PG* for it
#   benchpg_stop                       stop it (fast), if started; safe in an EXIT trap
#   benchpg_as_pg CMD...               run CMD as the cluster's owner
#   benchpg_scratch PREFIX [KEEP_DIR]  set benchpg_dir to KEEP_DIR, or to a new /tmp/PREFIX.XXXXXX
#                                      removed at exit, and install the exit trap: it stops the
#                                      processes in benchpg_pids, then the cluster, and on
#                                      failure shows the tail of every DIR/*.log
#   benchpg_release [BUILD_DIR]        set benchpg_build to the build to measure: BUILD_DIR if
#                                      given, else a Release build made (with the Debian packages
#                                      it needs) in build/bench

benchpg_data=""
benchpg_bin=""
benchpg_dir=""
benchpg_build=""
benchpg_keep=""
benchpg_pids=()

benchpg_as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

benchpg_start() {
  local dir=$1 line
  shift
  benchpg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  benchpg_data=$dir/pg
  mkdir -p "$benchpg_data"
  [ "$(id -u)" -ne 0 ] || chown -R postgres "$dir"
  drover_log "initdb + start a private PostgreSQL in $benchpg_data (Unix socket only)"
  benchpg_as_pg "$benchpg_bin/initdb" -D "$benchpg_data" -A trust -U drover >"$dir/initdb.log" 2>&1
  cat >>"$benchpg_data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir'
port = 5432
max_connections = 300
shared_buffers = 1GB
max_wal_size = 4GB
checkpoint_timeout = 15min
CONF
  # (port: the socket's name; without it a PGPORT in the caller's environment would choose it.)
  for line in "$@"; do echo "$line" >>"$benchpg_data/postgresql.conf"; done
  benchpg_as_pg "$benchpg_bin/pg_ctl" -D "$benchpg_data" -w -l "$dir/postgres.log" start >/dev/null
  export PGHOST=$dir PGPORT=5432 PGUSER=drover PGDATABASE=postgres
  unset PGOPTIONS PGPASSWORD
}

benchpg_stop() {
  [ -z "$benchpg_data" ] ||
    benchpg_as_pg "$benchpg_bin/pg_ctl" -D "$benchpg_data" -m fast -w stop >/dev/null 2>&1 || true
}

benchpg_scratch() {
  benchpg_keep=${2:-}
  benchpg_dir=${2:-$(mktemp -d "/tmp/$1.XXXXXX")}
  mkdir -p "$benchpg_dir"
  trap benchpg_exit EXIT
}

benchpg_release() {
  if [ -n "${1:-}" ]; then
    benchpg_build=$1
  else
    drover_deps
    drover_log "building Release into build/bench"
    benchpg_build=build/bench
    drover_build "$benchpg_build" -DCMAKE_BUILD_TYPE=Release
  fi
}

benchpg_exit() {
  local rc=$? p f
  for p in "${benchpg_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${benchpg_pids[@]}"; do wait "$p" 2>/dev/null || true; done
  benchpg_stop
  if [ $rc -ne 0 ]; then
    for f in "$benchpg_dir"/*.log; do
      [ -f "$f" ] && { echo "---- $f (last 30 lines)" >&2; tail -n 30 "$f" >&2; }
    done
  fi
  [ -n "$benchpg_keep" ] || rm -rf "$benchpg_dir"
  exit $rc
}
