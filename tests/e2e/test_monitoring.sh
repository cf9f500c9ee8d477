#!/usr/bin/env bash
# What platform teams plug in (issue 17): k8s/monitoring/drover-rules.yaml passes `promtool
# check rules` and its unit tests (`promtool test rules`: each alert fires on the series that
# should trigger it and stays quiet otherwise), the Grafana dashboard is valid JSON whose
# panels all have queries, and every metric name the dashboard and the rules query is one a
# live droverd's /metrics really exposes.
source "$(dirname "$0")/../protocol/lib.sh"
command -v jq >/dev/null || proto_missing "jq not installed"
command -v promtool >/dev/null || proto_missing "promtool not installed (Debian package prometheus)"
MON=$PROTO_ROOT/k8s/monitoring

promtool check rules "$MON/drover-rules.yaml" || proto_fail "promtool check rules"
(cd "$MON" && promtool test rules drover-rules.test.yaml) || proto_fail "promtool test rules"
jq -e '.panels | length > 0 and all(.[]; (.targets | length) > 0 and all(.targets[]; (.expr | length) > 0))' \
  "$MON/grafana-dashboard.json" >/dev/null || proto_fail "the dashboard has a panel without a query"
jq -e '[.panels[].id] | length == (unique | length)' "$MON/grafana-dashboard.json" >/dev/null ||
  proto_fail "the dashboard's panel ids are not unique"

# A live droverd with everything that is exported only once it exists: a scale decision (pool
# target, breaker), a pin, tool calls with and without errors.
proto_db
proto_serve
admin=$(drover_token admin mon-admin)
proto_agent_token mon-agent
proto_psql -c "INSERT INTO scale_events (replica, trigger, inputs, raw, target, current, reason)
               VALUES ('r', 'tick', '{}', 2, 2, 2, 'steady')" >/dev/null
curl -fsS -o /dev/null -X POST "$PROTO_URL/api/pool/scale" -H "Authorization: Bearer $admin" \
  -H 'Content-Type: application/json' -d '{"count": 3, "ttl_seconds": 600}'
for args in '{}' '{"status": "bogus"}'; do
  curl -fsS -o /dev/null -X POST "$PROTO_URL/tools/call" -H "Authorization: Bearer $DROVER_TOKEN" \
    -H 'Content-Type: application/json' -d "{\"name\":\"heartbeat\",\"arguments\":$args}"
done
curl -fsS -o /dev/null -X POST "$PROTO_URL/tools/call" -H "Authorization: Bearer $DROVER_TOKEN" \
  -H 'Content-Type: application/json' -d '{"name":"get_next_task","arguments":{}}'
curl -fsS "$PROTO_URL/metrics" >"$PROTO_TMP/metrics.txt" || proto_fail "GET /metrics"
promtool check metrics <"$PROTO_TMP/metrics.txt" || proto_fail "promtool check metrics"
grep -q '^drover_pool_breaker_open 0$' "$PROTO_TMP/metrics.txt" || proto_fail "no drover_pool_breaker_open 0"
grep -Eq '^drover_pool_target [0-9]+$' "$PROTO_TMP/metrics.txt" || proto_fail "no drover_pool_target"

# The names /metrics has (samples and families), and the names the queries use.
sed -n 's/^\(drover_[a-z0-9_]*\).*/\1/p; s/^# TYPE \(drover_[a-z0-9_]*\) .*/\1/p' "$PROTO_TMP/metrics.txt" |
  sort -u >"$PROTO_TMP/exposed"
{
  jq -r '.panels[].targets[].expr' "$MON/grafana-dashboard.json"
  grep -v '^ *#' "$MON/drover-rules.yaml"
} | grep -o 'drover_[a-z0-9_]*' | sort -u >"$PROTO_TMP/queried"
[ -s "$PROTO_TMP/queried" ] || proto_fail "no metric names found in the queries"
# The notification alerts' series exist before the first delivery (increase() needs the zero
# to see the first failure), and the rules do use them.
for n in drover_outbox_deliveries_total drover_outbox_messages drover_outbox_oldest_pending_seconds; do
  grep -qx "$n" "$PROTO_TMP/exposed" || proto_fail "/metrics does not expose $n before any delivery"
  grep -qx "$n" "$PROTO_TMP/queried" || proto_fail "neither the rules nor the dashboard query $n"
done
grep -q '^drover_outbox_deliveries_total{result="retry"} 0$' "$PROTO_TMP/metrics.txt" ||
  proto_fail "no drover_outbox_deliveries_total{result=\"retry\"} 0"
missing=$(comm -23 "$PROTO_TMP/queried" "$PROTO_TMP/exposed")
[ -z "$missing" ] || proto_fail "queried but not exposed by /metrics: $missing"
proto_log "PASS: rules checked and unit-tested; $(wc -l <"$PROTO_TMP/queried") queried metric names all exposed"
