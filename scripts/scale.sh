#!/usr/bin/env bash
# Drover at scale (issue 7): 10,000 concurrent agents against one droverd, half on HTTP
# keep-alive (POST /heartbeat, and a second connection holding a get_next_task long-poll over
# /mcp) and half on one WebSocket each (/ws: heartbeats and the held get_next_task multiplexed),
# heartbeating at the real interval (30 s) and compressed (1 s) while every agent holds a
# long-poll (wait_seconds SCALE_POLL, drover-agent's default 20) and tasks arrive at
# SCALE_TASKS_PER_S; droverd's RSS and CPU, heartbeat throughput and latency, and claim latency
# (INSERT commit -> task in a held poll's answer), next to the pgbench ceiling of droverd's
# claim+complete SQL measured in the same run on the same cluster. Bounded: every phase has a
# fixed length; it stops by itself.
#
# Builds Release into build/bench, raises the descriptor limit (ulimit -n to the hard limit;
# droverd --max-connections), starts a private PostgreSQL cluster (scripts/lib/benchpg.sh, as
# scripts/bench.sh) and
# droverd on 127.0.0.1. Agents: SCALE_CONNS agent rows and tokens inserted in bulk with SQL
# (one agent and one token per connection; api_tokens.token_hash = SHA-256 of the token text,
# as server/store/tokens.c stores it), so no two connections share an agent.
#
# Env (defaults): SCALE_CONNS=10000 (agents) SCALE_WS=0.5 (fraction on WebSockets)
#   SCALE_PHASES="30:60 1:60" (interval:seconds per phase)  SCALE_WORKERS=8 (droverd --workers)
#   SCALE_POLL=20 (get_next_task wait_seconds every agent holds; 0 = heartbeats only)
#   SCALE_TASKS_PER_S=10 (tasks inserted during each phase, claimed by the held polls)
#   SCALE_DISPATCH=200 (with SCALE_POLL=0 only: tasks for a drover-bench dispatch claim probe of
#   SCALE_DISPATCH_AGENTS=8 separate long-polling agents; 0 = none)
#   SCALE_EVENT_LOOP=epoll (droverd --event-loop; poll = lws's own loop, for comparison)
#   SCALE_IDLE_TIMEOUT=90 (droverd --idle-timeout; see below)  SCALE_PGBENCH_SECONDS=10  SCALE_PORT=18920  SCALE_DIR (scratch; default a new /tmp dir)
#   SCALE_BUILD_DIR (use this build)  SCALE_HB_BATCH=64 (droverd --heartbeat-batch: heartbeats
#   per group-commit statement; 1 = each its own, for a same-machine comparison)
# Ends with one JSON line per phase.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/benchpg.sh"
cd "$DROVER_ROOT"

conns=${SCALE_CONNS:-10000}
wsfrac=${SCALE_WS:-0.5}
phases=${SCALE_PHASES:-30:60 1:60}
workers=${SCALE_WORKERS:-8}
poll=${SCALE_POLL:-20}
tps=${SCALE_TASKS_PER_S:-10}
ndispatch=${SCALE_DISPATCH:-200}
[ "$poll" -eq 0 ] || ndispatch=0 # the held polls themselves measure claim latency
dagents=${SCALE_DISPATCH_AGENTS:-8}
pgsecs=${SCALE_PGBENCH_SECONDS:-10}
port=${SCALE_PORT:-18920}
# droverd's --idle-timeout (default 30) closes keep-alive connections idle that long; with the
# default 30 s heartbeat an HTTP agent's connection then races the close at every beat (measured:
# ~1 % of heartbeats failed, connections torn down). Keep it above the heartbeat interval.
idle=${SCALE_IDLE_TIMEOUT:-90}
evloop=${SCALE_EVENT_LOOP:-epoll}
hbbatch=${SCALE_HB_BATCH:-64}
benchpg_scratch drover-scale "${SCALE_DIR:-}"
dir=$benchpg_dir

benchpg_release "${SCALE_BUILD_DIR:-}"
build=$benchpg_build
for b in droverd drover-bench drover-scale; do
  [ -x "$build/$b" ] || { drover_log "$build/$b is missing"; exit 1; }
done

# One descriptor per connection on each side (drover-scale and droverd are separate processes),
# plus PostgreSQL connections, files and the listener. With long-polls an HTTP agent has two
# connections (poll and heartbeat, as drover-agent's two clients), a WebSocket agent one.
nconn=$conns
[ "$poll" -eq 0 ] || nconn=$((conns + conns - $(awk -v n="$conns" -v f="$wsfrac" 'BEGIN{printf "%d", n * f + 0.5}')))
need=$((nconn + 1024))
[ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -ge "$need" ] ||
  { drover_log "ulimit -Hn is $(ulimit -Hn); $need descriptors are needed (raise the hard limit)"; exit 1; }
ulimit -Sn "$need" # the soft limit only: plain `ulimit -n` would lower the hard one too
drover_log "ulimit -n $(ulimit -Sn) (hard $(ulimit -Hn)); somaxconn $(cat /proc/sys/net/core/somaxconn);" \
  "ephemeral ports $(tr '\t' - </proc/sys/net/ipv4/ip_local_port_range)"

benchpg_start "$dir"
psql_q() { psql -qAtX -v ON_ERROR_STOP=1 "$@"; }
"$build/droverd" migrate >"$dir/migrate.log" 2>&1

# Agents and tokens in bulk: agent g has id ...-9000-<g>, token drv_<sha256("scale-g")> (68
# characters, the shape droverd issues); 1..conns heartbeat, the next $dagents probe claims.
total=$((conns + dagents))
drover_log "inserting $total agents and tokens"
uuid="('00000000-0000-4000-9000-' || lpad(g::text, 12, '0'))"
tok="('drv_' || encode(sha256(convert_to('scale-' || g, 'UTF8')), 'hex'))"
psql_q -c "INSERT INTO agents (id, name, status, backend)
           SELECT $uuid::uuid, 'scale-' || g, 'idle', 'none' FROM generate_series(1, $total) g" \
  -c "INSERT INTO api_tokens (name, scope, token_hash, agent_id)
      SELECT 'scale-' || g, 'agent', sha256(convert_to($tok, 'UTF8')), $uuid::uuid
      FROM generate_series(1, $total) g" \
  -c "INSERT INTO agents (id, name, status)
      SELECT ('00000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid, 'pgbench-' || g, 'idle'
      FROM generate_series(0, 7) g"
psql_q -F' ' -c "SELECT $uuid, $tok FROM generate_series(1, $conns) g" >"$dir/tokens"
psql_q -F' ' -c "SELECT $uuid, $tok FROM generate_series($conns + 1, $total) g" >"$dir/dtokens"

hz=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
fds() { ls "/proc/$1/fd" | wc -l; }

# The pgbench ceiling: droverd's own claim + complete SQL, 8 clients, on a pre-filled queue.
drover_log "pgbench reference: ${pgsecs}s, 8 clients, tests/bench/drover_2tx.sql"
psql_q -c "INSERT INTO tasks (title, description, repo_url)
           SELECT 'bench ' || g, 'benchmark task ' || g, 'https://git.example/bench.git'
           FROM generate_series(1, $((pgsecs * 8000 + 5000))) g" -c "VACUUM ANALYZE tasks" -c CHECKPOINT
pgbench -n -M prepared -c 8 -j 2 -T "$pgsecs" -f tests/bench/drover_2tx.sql >"$dir/pgbench.log" 2>&1 ||
  { cat "$dir/pgbench.log" >&2; exit 1; }
pg_tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$dir/pgbench.log" | head -1)
drover_log "pgbench: $pg_tps tasks/s (a task = claim + complete, 2 transactions)"
psql_q -c "DELETE FROM tasks WHERE state IN ('backlog', 'in_progress')" -c "VACUUM ANALYZE tasks" \
  -c "VACUUM ANALYZE agents"

"$build/droverd" serve --listen "127.0.0.1:$port" --workers "$workers" --pod-backend none \
  --max-connections "$((nconn + 512))" --max-connections-per-address "$((nconn + 512))" --idle-timeout "$idle" --event-loop "$evloop" --long-poll-max "$((poll > 60 ? poll : 60))" \
  --heartbeat-batch "$hbbatch" \
  >"$dir/droverd.log" 2>&1 &
benchpg_pids+=($!)
dpid=$!
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$port/ready" >/dev/null 2>&1 && break
  kill -0 "$dpid" 2>/dev/null || { drover_log "droverd exited"; exit 1; }
  sleep 0.1
done
sleep 1
rss_idle=$(rss_kb "$dpid")
drover_log "droverd idle: RSS $((rss_idle / 1024)) MiB, $(fds "$dpid") fds, limit $(awk '/Max open files/ {print $4}' "/proc/$dpid/limits")"

results=()
for ph in $phases; do
  interval=${ph%%:*}
  secs=${ph##*:}
  drover_log "phase: $conns agents, $nconn connections (WebSocket fraction $wsfrac), heartbeat every" \
    "${interval}s, long-poll ${poll}s, $tps tasks/s, ${secs}s"
  pollargs=()
  [ "$poll" -eq 0 ] || pollargs=(--poll "$poll" --tasks-per-s "$tps")
  "$build/drover-scale" --port "$port" --tokens "$dir/tokens" --conns "$conns" --ws "$wsfrac" \
    --interval "$interval" --seconds "$secs" "${pollargs[@]}" >"$dir/scale.$interval.json" \
    2>"$dir/scale.$interval.log" &
  spid=$!
  for _ in $(seq 1200); do
    grep -q "connections up" "$dir/scale.$interval.log" && break
    kill -0 "$spid" 2>/dev/null || break
    sleep 0.1
  done
  cat "$dir/scale.$interval.log" >&2
  c0=$(ticks "$dpid")
  t0=$(date +%s.%N)
  sleep 2
  rss_load=$(rss_kb "$dpid")
  nfd=$(fds "$dpid")
  p50=null p99=null
  if [ "$ndispatch" -gt 0 ]; then # claim latency from separate agents when none hold polls
    "$build/drover-bench" dispatch --url "http://127.0.0.1:$port" --tokens "$dir/dtokens" \
      --agents "$dagents" --count "$ndispatch" --wait 10 >"$dir/dispatch.$interval.json" \
      2>"$dir/dispatch.$interval.log" || true
    if [ -s "$dir/dispatch.$interval.json" ]; then
      p50=$(jq -r '.dispatch_p50_ms' "$dir/dispatch.$interval.json")
      p99=$(jq -r '.dispatch_p99_ms' "$dir/dispatch.$interval.json")
    else # an overloaded droverd may not hand a task over within --wait: say so, carry on
      drover_log "claim probe failed: $(tail -1 "$dir/dispatch.$interval.log")"
    fi
  fi
  # Sample CPU up to (not past) the end of the steady window.
  while kill -0 "$spid" 2>/dev/null; do
    rss_now=$(rss_kb "$dpid")
    [ "$rss_now" -le "$rss_load" ] || rss_load=$rss_now
    if grep -q "t=$((secs - 10 > 0 ? secs - 10 : 0))s" "$dir/scale.$interval.log" 2>/dev/null; then break; fi
    sleep 1
  done
  c1=$(ticks "$dpid")
  t1=$(date +%s.%N)
  st=0
  wait "$spid" || st=$?
  tail -n +2 "$dir/scale.$interval.log" >&2
  [ -s "$dir/scale.$interval.json" ] || { drover_log "drover-scale printed nothing"; exit 1; }
  [ "$st" -eq 0 ] || drover_log "drover-scale reported failures (status $st): see the JSON"
  j=$(cat "$dir/scale.$interval.json")
  line=$(jq -c --argjson rss_idle "$rss_idle" --argjson rss_load "$rss_load" --argjson nfd "$nfd" \
    --argjson c "$((c1 - c0))" --argjson hz "$hz" --argjson dt "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" \
    --argjson pg "$pg_tps" --argjson p50 "$p50" --argjson p99 "$p99" '
    . + {heartbeat_batch: '"$hbbatch"',
         droverd_rss_idle_mib: ($rss_idle / 1024 | . * 10 | round / 10),
         droverd_rss_loaded_mib: ($rss_load / 1024 | . * 10 | round / 10),
         rss_kib_per_conn: ((($rss_load - $rss_idle) / .established) | . * 100 | round / 100),
         rss_kib_per_agent: ((($rss_load - $rss_idle) / .agents) | . * 100 | round / 100),
         droverd_fds: $nfd,
         droverd_cpu_pct: (($c / $hz) / $dt * 100 | round),
         droverd_cpu_us_per_hb: (if .heartbeats_per_s > 0 then (($c / $hz) / $dt / .heartbeats_per_s * 1e6 | round) else null end),
         requests_per_s: ((.heartbeats_ok + .polls_sent + .tasks_completed) / .seconds | . * 10 | round / 10),
         droverd_cpu_us_per_request: (((.heartbeats_ok + .polls_sent + .tasks_completed) / .seconds) as $r
           | if $r > 0 then (($c / $hz) / $dt / $r * 1e6 | round) else null end),
         claim_p50_ms: (if $p50 == null then .claim_p50_ms else $p50 end),
         claim_p99_ms: (if $p99 == null then .claim_p99_ms else $p99 end),
         pgbench_tasks_per_s: $pg,
         hb_per_s_vs_pgbench: (.heartbeats_per_s / $pg | . * 1000 | round / 1000)}' <<<"$j")
  results+=("$line")
  sleep 2 # the server side of the closed connections goes away
done

echo
printf '%-8s %-6s %-6s %-6s %-8s %-9s %-8s %-7s %-9s %-9s %-8s %-7s %-9s %-9s %-9s\n' interval agents conns held hb/s "hb p50" "hb p99" late "RSS MiB" KiB/agent "CPU %" "us/hb" tasks "claim p50" "claim p99"
for l in "${results[@]}"; do
  jq -r '[.interval_s, .agents, .established, .polls_held_mid, .heartbeats_per_s, .hb_p50_ms,
          .hb_p99_ms, .late, .droverd_rss_loaded_mib, .rss_kib_per_agent, .droverd_cpu_pct,
          .droverd_cpu_us_per_hb, "\(.tasks_claimed)/\(.tasks_inserted)", .claim_p50_ms,
          .claim_p99_ms] | @tsv' <<<"$l" |
    awk -F'\t' '{ printf "%-8s %-6s %-6s %-6s %-8s %-9s %-8s %-7s %-9s %-9s %-8s %-7s %-9s %-9s %-9s\n", $1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15 }'
done
echo "pgbench ceiling (droverd's claim+complete SQL, 8 clients): $pg_tps tasks/s; droverd idle RSS $((rss_idle / 1024)) MiB"
echo
printf '%s\n' "${results[@]}"
