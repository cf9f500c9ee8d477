#!/usr/bin/env bash
# Notifications out, against a real droverd + PostgreSQL and a receiver that is down for its
# first two deliveries, then recovers (tests/fakes/webhook_receiver.py):
#  1. endpoints through the API (admin only; bad input refused);
#  2. a task reaching needs_input leaves a message in the outbox in the same transaction; while
#     the receiver fails, the queue goes on (tasks are created and cancelled meanwhile); the
#     message is retried with back-off under the same webhook-id and delivered once the
#     receiver recovers, signed the Standard Webhooks way (the receiver verifies it);
#  3. /metrics counts the attempts by outcome (drover_outbox_deliveries_total: the two failed
#     ones as retry, the two successful ones as delivered) and its outbox gauges went from two
#     pending messages back to none;
#  4. the Slack-form endpoint gets {"text": ...}; events an endpoint did not ask for send
#     nothing; the delivery history is on the API.
source "$(dirname "$0")/ops_lib.sh"
# One sample of /metrics: scrape_metric 'NAME{LABELS}' -> its value, or "absent".
scrape_metric() {
  curl -sf "$URL/metrics" | awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print "absent" }'
}
SECRET="whsec_$(python3 -c 'import base64,os; print(base64.b64encode(os.urandom(32)).decode())')"
export DROVER_NOTIFY_SECRET=$SECRET
python3 "$DROVER_SOURCE_DIR/tests/fakes/webhook_receiver.py" --fail 2 --secret "$SECRET" \
  >"$OPS_DIR/recv.port" 2>"$OPS_DIR/recv.log" &
RECV_PID=$!
trap 'kill $RECV_PID 2>/dev/null || true; ops_stop' EXIT
for _ in $(seq 50); do grep -q PORT= "$OPS_DIR/recv.port" 2>/dev/null && break; sleep 0.1; done
RURL=http://127.0.0.1:$(sed -n 's/^PORT=//p' "$OPS_DIR/recv.port")
ops_start

# --- 1
r=$(ops_http "$ADMIN" POST /api/notifications/endpoints "{\"name\":\"ops\",\"url\":\"$RURL/hook\",\"events\":[\"needs_input\",\"failed\"]}")
ops_expect "create endpoint" 201 "${r%% *}"
r=$(ops_http "$ADMIN" POST /api/notifications/endpoints "{\"name\":\"chat\",\"url\":\"$RURL/slack\",\"format\":\"slack\",\"events\":[\"needs_input\"]}")
ops_expect "create slack endpoint" 201 "${r%% *}"
r=$(ops_http "$ADMIN" POST /api/notifications/endpoints '{"name":"bad","url":"ftp://x"}'); ops_expect "bad url" 400 "${r%% *}"
r=$(ops_http "$ADMIN" POST /api/notifications/endpoints "{\"name\":\"ops\",\"url\":\"$RURL/other\"}"); ops_expect "duplicate name" 409 "${r%% *}"
ops_expect "duplicate name said" "a notification endpoint named 'ops' exists already" "$(jq -r .error.message <<<"${r#* }")"
r=$(ops_http "$ADMIN" POST /api/notifications/endpoints "{\"name\":\"x\",\"url\":\"$RURL\",\"events\":[\"whenever\"]}"); ops_expect "bad event" 400 "${r%% *}"
r=$(ops_http "$OPERATOR" POST /api/notifications/endpoints "{\"name\":\"y\",\"url\":\"$RURL\"}"); ops_expect "operator create" 403 "${r%% *}"
r=$(ops_http "$OPERATOR" GET /api/notifications/endpoints); ops_expect "operator list" 200 "${r%% *}"
ops_expect "two endpoints" 2 "$(jq '.endpoints | length' <<<"${r#* }")"
# The URL's path may be the secret (Slack incoming webhooks): listed as origin + "/...".
ops_expect "url redacted" "$RURL/..." "$(jq -r '.endpoints[1].url' <<<"${r#* }")"
# Credentials in the authority are masked too, in what create returns and in the list.
CURL_USERINFO=${RURL/http:\/\//http://hookuser:s3cret-pw@}
r=$(ops_http "$ADMIN" POST /api/notifications/endpoints "{\"name\":\"cred\",\"url\":\"$CURL_USERINFO\",\"events\":[\"budget\"]}")
ops_expect "create endpoint with userinfo" 201 "${r%% *}"
ops_expect "userinfo masked on create" "${RURL/http:\/\//http://***@}" "$(jq -r .url <<<"${r#* }")"
cred_id=$(jq -r .id <<<"${r#* }")
r=$(ops_http "$ADMIN" GET /api/notifications/endpoints)
ops_expect "no password in the list" 0 "$(grep -c s3cret-pw <<<"${r#* }" || true)"
ops_expect "userinfo masked in the list" "${RURL/http:\/\//http://***@}" "$(jq -r '.endpoints[] | select(.name == "cred") | .url' <<<"${r#* }")"
r=$(ops_http "$ADMIN" DELETE "/api/notifications/endpoints/$cred_id"); ops_expect "delete endpoint" 200 "${r%% *}"

# --- 2
id=$(curl -sf -X POST "$URL/api/tasks" -H "Authorization: Bearer $ADMIN" --data '{"prompt":"ask me","repository":"file:///r.git"}' | jq -r .id)
ops_psql -c "UPDATE tasks SET state = 'needs_input', question = 'Which port?', reason = 'question' WHERE id = $id" >/dev/null
# A completed task: neither endpoint asked for it.
other=$(curl -sf -X POST "$URL/api/tasks" -H "Authorization: Bearer $ADMIN" --data '{"prompt":"quiet","repository":"file:///r.git"}' | jq -r .id)
ops_psql -c "UPDATE tasks SET state = 'completed' WHERE id = $other" >/dev/null
[ "$(ops_psql -c "SELECT count(*) FROM outbox")" = 2 ] || ops_fail "outbox: $(ops_psql -c 'SELECT * FROM outbox')"
# Both messages wait out the 5 s back-off of their failed first attempt: two pending, none
# delivered yet.
ops_expect "pending gauge while the receiver is down" 2 "$(scrape_metric 'drover_outbox_messages{state="pending"}')"
ops_expect "no delivery counted yet" 0 "$(scrape_metric 'drover_outbox_deliveries_total{result="delivered"}')"
# The queue is not held up while the receiver is down.
for i in 1 2 3; do
  r=$(ops_http "$ADMIN" POST /api/tasks "{\"prompt\":\"meanwhile $i\",\"repository\":\"r\"}"); ops_expect "queue goes on" 202 "${r%% *}"
done
deadline=$((SECONDS + 90))
while [ $SECONDS -lt $deadline ]; do
  n=$(ops_psql -c "SELECT count(*) FROM outbox WHERE state = 'delivered'")
  [ "$n" = 2 ] && break
  sleep 0.5
done
[ "$n" = 2 ] || ops_fail "not delivered: $(ops_psql -c 'SELECT id, state, attempts, last_error FROM outbox')"
got=$(curl -sf "$RURL/_fake/received")
ops_expect "receiver saw 2 failures then 2 deliveries" "503,503,200,200" "$(jq -r '[.[].status] | join(",")' <<<"$got")"
ops_expect "all signatures verify" true "$(jq '[.[].verified] | all' <<<"$got")"
hook_ids=$(jq -r '[.[] | select(.path == "/hook") | .id] | unique | length' <<<"$got")
ops_expect "one webhook-id across retries" 1 "$hook_ids"
ops_expect "generic body" "task.needs_input|Which port?" "$(jq -r '[.[] | select(.path == "/hook" and .status == 200)][0].body | "\(.type)|\(.data.task.question)"' <<<"$got")"
ops_expect "slack body" 1 "$(jq -r '[.[] | select(.path == "/slack" and .status == 200)][0].body.text | (test("needs_input") and test("Which port"))' <<<"$got" | grep -c true)"

# --- 3 (before 4 deletes an endpoint, and its messages with it)
ops_expect "failed attempts counted as retry" 2 "$(scrape_metric 'drover_outbox_deliveries_total{result="retry"}')"
ops_expect "deliveries counted" 2 "$(scrape_metric 'drover_outbox_deliveries_total{result="delivered"}')"
ops_expect "nothing counted dead" 0 "$(scrape_metric 'drover_outbox_deliveries_total{result="dead"}')"
ops_expect "pending gauge back to 0" 0 "$(scrape_metric 'drover_outbox_messages{state="pending"}')"
ops_expect "dead gauge" 0 "$(scrape_metric 'drover_outbox_messages{state="dead"}')"
ops_expect "no oldest pending age" 0 "$(scrape_metric drover_outbox_oldest_pending_seconds)"

# --- 4
r=$(ops_http "$OPERATOR" GET "/api/notifications/deliveries?task=$id")
ops_expect "history" 200 "${r%% *}"
ops_expect "history rows" 2 "$(jq '.deliveries | length' <<<"${r#* }")"
ops_expect "retried" true "$(jq '[.deliveries[] | select(.attempts > 1)] | length > 0' <<<"${r#* }")"
r=$(ops_http "$OPERATOR" GET "/api/notifications/deliveries?task=$other"); ops_expect "no messages for unasked events" 0 "$(jq '.deliveries | length' <<<"${r#* }")"
eid=$(ops_http "$ADMIN" GET /api/notifications/endpoints | cut -d' ' -f2- | jq '.endpoints[0].id')
r=$(ops_http "$ADMIN" DELETE "/api/notifications/endpoints/$eid"); ops_expect "delete" 200 "${r%% *}"

echo "ok - outbox: retried with back-off, delivered signed once the receiver recovered, counted in /metrics"
