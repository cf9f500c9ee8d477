#!/usr/bin/env bash
# MCP `ping` against nginx, same machine, same run (issue 16): wrk with PINGBENCH_CONNS (50)
# keep-alive connections POSTs a JSON-RPC ping to droverd's /rpc (bearer-authenticated, as an
# agent would), and the same request to an nginx that answers a fixed JSON-RPC body
# (`return 200`), PINGBENCH_ROUNDS (3) rounds of PINGBENCH_SECONDS (5) each, order alternating;
# the ratio is taken per round, the median reported. nginx and wrk are installed on demand
# (Debian's nginx-light and wrk: only this benchmark needs them).
# Ends with one JSON line: {"drover_ping_per_s","nginx_per_s","ratio","connections","rounds"}.
#
# Env: PINGBENCH_CONNS=50 PINGBENCH_THREADS=2 PINGBENCH_SECONDS=5 PINGBENCH_ROUNDS=3
#   PINGBENCH_PORT=18600 (droverd; nginx on +1) BENCH_BUILD_DIR BENCH_PG=own|env BENCH_DIR
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/benchpg.sh"
cd "$DROVER_ROOT"

conns=${PINGBENCH_CONNS:-50}
threads=${PINGBENCH_THREADS:-2}
secs=${PINGBENCH_SECONDS:-5}
rounds=${PINGBENCH_ROUNDS:-3}
port=${PINGBENCH_PORT:-18600}
nport=$((port + 1))
pgmode=${BENCH_PG:-own}
benchpg_scratch drover-pingbench "${BENCH_DIR:-}"
dir=$benchpg_dir

if ! command -v nginx >/dev/null || ! command -v wrk >/dev/null; then
  drover_deps nginx-light wrk
fi
benchpg_release "${BENCH_BUILD_DIR:-}"
build=$benchpg_build
[ "$pgmode" = own ] && benchpg_start "$dir"

"$build/droverd" migrate >"$dir/migrate.log" 2>&1
token=$("$build/droverd" token create --scope agent --name pingbench 2>/dev/null | sed -n 's/^DROVER_TOKEN=//p')
"$build/droverd" serve --listen "127.0.0.1:$port" --pod-backend none --max-connections 4096 --rate-limit 0 \
  >"$dir/droverd.log" 2>&1 &
benchpg_pids+=($!)
dpid=$!

body='{"jsonrpc":"2.0","id":1,"method":"ping"}'
mkdir -p "$dir/nginx"
cat >"$dir/nginx/nginx.conf" <<EOF
worker_processes auto;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/nginx/body;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$nport;
    location / {
      default_type application/json;
      return 200 '{"jsonrpc":"2.0","id":1,"result":{}}';
    }
  }
}
EOF
nginx -c "$dir/nginx/nginx.conf" -g 'daemon off;' >"$dir/nginx.log" 2>&1 &
benchpg_pids+=($!)
for p in "$port" "$nport"; do
  for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$p/" 2>/dev/null && break
    sleep 0.1
  done
done
reply=$(curl -s -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d "$body" "http://127.0.0.1:$port/rpc")
jq -e '.result' <<<"$reply" >/dev/null || { drover_log "droverd's ping: $reply"; exit 1; }

cat >"$dir/ping.lua" <<EOF
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
EOF
run() { # url -> requests/s
  wrk -t"$threads" -c"$conns" -d"${secs}s" -s "$dir/ping.lua" "$1" 2>&1 | tee -a "$dir/wrk.log" |
    awk '/^Requests\/sec:/ { print $2 }'
}
: >"$dir/dr" && : >"$dir/ng"
for r in $(seq "$rounds"); do
  if [ $((r % 2)) -eq 1 ]; then
    run "http://127.0.0.1:$port/rpc" >>"$dir/dr"; run "http://127.0.0.1:$nport/rpc" >>"$dir/ng"
  else
    run "http://127.0.0.1:$nport/rpc" >>"$dir/ng"; run "http://127.0.0.1:$port/rpc" >>"$dir/dr"
  fi
  drover_log "round $r: droverd $(tail -1 "$dir/dr")/s, nginx $(tail -1 "$dir/ng")/s"
done
grep -q "Non-2xx" "$dir/wrk.log" && { drover_log "wrk saw non-2xx answers: see $dir/wrk.log"; exit 1; }
median() { sort -g | awk -v f="${1:-%.1f}" '{ v[NR] = $1 } END { printf f, (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
paste "$dir/dr" "$dir/ng" | awk '{ printf "%.3f\n", ($2 > 0 ? $1 / $2 : 0) }' >"$dir/ratios"
printf '{"drover_ping_per_s":%s,"nginx_per_s":%s,"ratio":%s,"connections":%d,"rounds":%d}\n' \
  "$(median <"$dir/dr")" "$(median <"$dir/ng")" "$(median %.3f <"$dir/ratios")" "$conns" "$rounds"
