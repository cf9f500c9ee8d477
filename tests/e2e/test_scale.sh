#!/usr/bin/env bash
# Smoke test of the scale load generator so it cannot rot: drover-scale with 300 agents (half
# WebSocket, half HTTP keep-alive) heartbeating every second for 3 s against a droverd in the
# test's schema, agents and tokens inserted in bulk with SQL exactly as scripts/scale.sh does.
# Checks that every connection came up and every heartbeat was answered and landed in
# agents.last_heartbeat_at. Then the long-poll mode: the same agents each hold get_next_task
# (wait 2 s, so empty answers and re-polls happen too) while heartbeating, tasks go in at 10/s,
# and every task must be claimed exactly once and completed, as the database confirms.
# No performance threshold.
source "$(dirname "$0")/../protocol/lib.sh"
PROTO_PORT_RANGE=${PROTO_PORT_RANGE:-18980-18999}
DROVER_PORT_RANGE=$PROTO_PORT_RANGE
command -v jq >/dev/null || proto_missing "jq not installed"
[ -x "$PROTO_BUILD/drover-scale" ] || proto_missing "drover-scale not built"

proto_db
n=300
uuid="('00000000-0000-4000-9000-' || lpad(g::text, 12, '0'))"
tok="('drv_' || encode(sha256(convert_to('scale-' || g, 'UTF8')), 'hex'))"
proto_psql -c "INSERT INTO agents (id, name, status, backend)
               SELECT $uuid::uuid, 'scale-' || g, 'initializing', 'none' FROM generate_series(1, $n) g" \
  -c "INSERT INTO api_tokens (name, scope, token_hash, agent_id)
      SELECT 'scale-' || g, 'agent', sha256(convert_to($tok, 'UTF8')), $uuid::uuid
      FROM generate_series(1, $n) g"
proto_psql -F' ' -c "SELECT $uuid, $tok FROM generate_series(1, $n) g" >"$PROTO_TMP/tokens"
proto_serve --workers 4
timeout 60 "$PROTO_BUILD/drover-scale" --port "$PROTO_PORT" --tokens "$PROTO_TMP/tokens" --conns $n \
  --ws 0.5 --interval 1 --seconds 3 >"$PROTO_TMP/scale.json" 2>"$PROTO_TMP/scale.log" ||
  proto_fail "drover-scale failed: $(cat "$PROTO_TMP/scale.json" "$PROTO_TMP/scale.log")"
j=$(cat "$PROTO_TMP/scale.json")
jq -e ".established == $n and .ws_conns == $((n / 2)) and .heartbeats_ok >= $((2 * n))
       and .heartbeats_failed == 0 and .closed_by_server == 0 and .hb_p99_ms > 0" <<<"$j" >/dev/null ||
  proto_fail "bad result: $j"
beat=$(proto_psql -c "SELECT count(*) FROM agents WHERE name LIKE 'scale-%' AND status = 'idle'
                      AND last_heartbeat_at IS NOT NULL")
[ "$beat" = "$n" ] || proto_fail "$beat of $n agents show a heartbeat"
proto_log "heartbeats: $j"

# ---- long-polls: every agent holds get_next_task while heartbeating; tasks arrive ----
timeout 60 "$PROTO_BUILD/drover-scale" --port "$PROTO_PORT" --tokens "$PROTO_TMP/tokens" --conns $n \
  --ws 0.5 --interval 1 --seconds 8 --poll 2 --tasks-per-s 10 >"$PROTO_TMP/poll.json" \
  2>"$PROTO_TMP/poll.log" || proto_fail "drover-scale --poll failed: $(cat "$PROTO_TMP/poll.json" "$PROTO_TMP/poll.log")"
j=$(cat "$PROTO_TMP/poll.json")
# 150 WebSocket agents on one connection each, 150 HTTP agents on two.
jq -e ".agents == $n and .connections == $((n + n / 2)) and .established == $((n + n / 2))
       and .heartbeats_failed == 0 and .polls_refused == 0 and .polls_held_mid >= $((n * 9 / 10)) and .polls_held_end >= $((n * 9 / 10))
       and .polls_empty > 0 and .tasks_inserted >= 20 and .tasks_claimed == .tasks_inserted
       and .tasks_completed == .tasks_inserted and .tasks_claimed_twice == 0
       and .claim_p99_ms > 0" <<<"$j" >/dev/null || proto_fail "bad long-poll result: $j"
done=$(proto_psql -c "SELECT count(*) FROM tasks WHERE title LIKE 'scale-task-%' AND state = 'completed'
                      AND agent_id::text LIKE '00000000-0000-4000-9000-%'")
ins=$(jq .tasks_inserted <<<"$j")
[ "$done" = "$ins" ] || proto_fail "$done of $ins tasks completed in the database"
left=$(proto_psql -c "SELECT count(*) FROM tasks WHERE state <> 'completed'")
[ "$left" = 0 ] || proto_fail "$left tasks not completed"
proto_log "PASS: scale smoke: heartbeats and long-polls: $j"
