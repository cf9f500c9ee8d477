#!/usr/bin/env bash
# The access log (issue 17): one logfmt line per HTTP request by default (method, path without
# its query, status, duration, bytes, the token's name or the agent's id), never a secret
# (tokens, queries, bodies); --access-log-format json writes JSON lines; --access-log off none.
source "$(dirname "$0")/../protocol/lib.sh"
command -v jq >/dev/null || proto_missing "jq not installed"

proto_db
proto_serve
admin=$(drover_token admin acc-admin)
proto_agent_token acc-agent
repo=$(proto_repo)

access() { grep 'mod=access' "$DROVER_LOG" || true; }
wait_line() { # pattern: an access line matching it appears (bounded)
  for _ in $(seq 1 50); do
    access | grep -Eq -- "$1" && return 0
    sleep 0.1
  done
  proto_fail "no access log line matches '$1'; got:
$(access)"
}

curl -fsS "$PROTO_URL/health" >/dev/null
wait_line '^ts=[0-9T:.-]+Z lvl=info mod=access method=GET path=/health status=200 duration_ms=[0-9.]+ bytes=[0-9]+ who=""$'

body=$(jq -cn --arg r "$repo" '{prompt: "the body must not be logged", repository: $r}')
curl -fsS -o /dev/null -X POST "$PROTO_URL/api/tasks" -H "Authorization: Bearer $admin" \
  -H 'Content-Type: application/json' -d "$body"
wait_line 'method=POST path=/api/tasks status=202 .* who=acc-admin$'

curl -sS -o /dev/null "$PROTO_URL/api/tasks?limit=1&token=QUERYSECRET" -H "Authorization: Bearer $admin"
wait_line 'method=GET path=/api/tasks status=200 .* who=acc-admin$'

curl -sS -o /dev/null "$PROTO_URL/api/tasks" -H "Authorization: Bearer drv_0000000000000000000000000000000000000000000000000000000000000000"
wait_line 'method=GET path=/api/tasks status=401 .* who=""$'

# A tool call is logged with the agent; a held long-poll when it is answered, with its wait.
curl -fsS -o /dev/null -X POST "$PROTO_URL/tools/call" -H "Authorization: Bearer $DROVER_TOKEN" \
  -H 'Content-Type: application/json' -d '{"name":"heartbeat","arguments":{}}'
wait_line "method=POST path=/tools/call status=200 .* who=$AGENT_ID\$"
proto_psql -c "UPDATE tasks SET state = 'cancelled'" >/dev/null
curl -fsS -o /dev/null -X POST "$PROTO_URL/tools/call" -H "Authorization: Bearer $DROVER_TOKEN" \
  -H 'Content-Type: application/json' -d '{"name":"get_next_task","arguments":{"wait_seconds":1}}'
wait_line "method=POST path=/tools/call status=200 duration_ms=(9[0-9]{2}|[1-9][0-9]{3,})\\.[0-9]+ bytes=[0-9]+ who=$AGENT_ID\$"

# Never a secret: no token, no query string, no body.
for secret in "$admin" "$DROVER_TOKEN" QUERYSECRET "the body must not be logged" drv_0000; do
  grep -qF -- "$secret" "$DROVER_LOG" && proto_fail "the log contains '$secret'"
done
drover_stop

# JSON lines.
: >"$DROVER_LOG"
proto_serve --access-log-format json
curl -fsS -o /dev/null "$PROTO_URL/api/tasks?token=QUERYSECRET" -H "Authorization: Bearer $admin"
for _ in $(seq 1 50); do grep -q '"mod":"access"' "$DROVER_LOG" && break; sleep 0.1; done
line=$(grep '"mod":"access"' "$DROVER_LOG" | grep '/api/tasks' | tail -1)
jq -e '.method == "GET" and .path == "/api/tasks" and .status == 200 and .who == "acc-admin"
       and (.duration_ms | type) == "number" and (.bytes | type) == "number"' <<<"$line" >/dev/null ||
  proto_fail "JSON access line: '$line'"
grep -q QUERYSECRET "$DROVER_LOG" && proto_fail "the JSON log has the query"
drover_stop

# Off.
: >"$DROVER_LOG"
proto_serve --access-log off
curl -fsS -o /dev/null "$PROTO_URL/health"
curl -fsS -o /dev/null "$PROTO_URL/ready"
sleep 0.5
[ -z "$(grep -E 'mod=access|"mod":"access"' "$DROVER_LOG")" ] || proto_fail "--access-log off still logs"
proto_log "PASS: access log lines in logfmt and JSON, with who, never a secret; off when asked"
