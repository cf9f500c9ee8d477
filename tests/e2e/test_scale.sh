#!/usr/bin/env bash
# Smoke test of the scale load generator so it cannot rot: drover-scale with 300 connections
# (half WebSocket, half HTTP keep-alive) heartbeating every second for 3 s against a droverd in
# the test's schema, agents and tokens inserted in bulk with SQL exactly as scripts/scale.sh
# does. Checks that every connection came up and every heartbeat was answered and landed in
# agents.last_heartbeat_at; no performance threshold.
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
proto_log "PASS: scale smoke: $j"
