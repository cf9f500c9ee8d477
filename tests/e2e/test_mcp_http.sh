#!/usr/bin/env bash
# droverd serve over HTTP with curl: MCP lifecycle on /mcp, the bad-input table (exact HTTP
# statuses and JSON-RPC codes), auth, sessions, every tool, the seed endpoints, long-poll wake
# by NOTIFY, notifications/cancelled, database restart recovery and SIGTERM.
. "$(dirname "$0")/lib.sh"
drover_e2e_init

eval "$(drover_token agent e2e-agent)"
A1_TOKEN=$DROVER_TOKEN A1=$AGENT_ID
eval "$(drover_token agent e2e-other)"
A2_TOKEN=$DROVER_TOKEN A2=$AGENT_ID
ADMIN=$(drover_token admin e2e-admin)
OPERATOR=$(drover_token operator e2e-operator)
drover_start --long-poll-max 10

ACC='Accept: application/json, text/event-stream'
CT='Content-Type: application/json'

# req METHOD PATH BODY [curl args...] -> sets STATUS, BODY, HDRS
req() {
    local m=$1 p=$2 b=$3
    shift 3
    HDRS="$DROVER_TMP/h"
    BODY=$(curl -s -X "$m" -D "$HDRS" -o - -w '\n%{http_code}' "$@" ${b:+--data-binary "$b"} "$DROVER_URL$p")
    STATUS=${BODY##*$'\n'}
    BODY=${BODY%$'\n'*}
}
mcp() { # mcp BODY [extra curl args] with A1's token and session
    req POST /mcp "$1" -H "Authorization: Bearer $A1_TOKEN" -H "$ACC" -H "$CT" \
        ${SID:+-H "Mcp-Session-Id: $SID"} -H "MCP-Protocol-Version: ${VER:-2025-11-25}" "${@:2}"
}
expect() { # expect STATUS JQ-EXPR DESCRIPTION
    [ "$STATUS" = "$1" ] || fail "$3: HTTP $STATUS, wanted $1: $BODY"
    if [ -n "$2" ]; then
        jq -e "$2" >/dev/null <<<"$BODY" || fail "$3: body does not satisfy $2: $BODY"
    fi
    pass "$3"
}
call() { # call TOOL ARGS-JSON -> the tool result in BODY
    mcp "{\"jsonrpc\":\"2.0\",\"id\":$RANDOM,\"method\":\"tools/call\",\"params\":{\"name\":\"$1\",\"arguments\":$2}}"
}

# ---- health, ready, static ----
req GET /health ''
expect 200 '.status == "ok"' "/health"
req GET /ready ''
expect 200 '.status == "ready"' "/ready"
req GET /nope.html ''
expect 404 '.error.code == "not_found"' "unknown static path is 404"
req GET / ''
if [ "$STATUS" = 200 ]; then # a dashboard is embedded: it must come with a CSP without inline code
    grep -qi "^content-security-policy:.*script-src 'self'" "$HDRS" || fail "dashboard without a CSP"
    grep -qi "^content-security-policy:.*unsafe-inline" "$HDRS" && fail "CSP allows inline code"
    pass "GET / serves the dashboard with a CSP that forbids inline scripts"
else
    expect 404 '.error.code == "not_found"' "GET / is 404 when no dashboard is embedded"
fi

# ---- lifecycle ----
SID=
mcp '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"e2e","version":"1"}}}'
expect 200 '.result.protocolVersion == "2025-11-25" and .result.capabilities.tools and .result.capabilities.logging and .result.serverInfo.name == "drover"' "initialize"
SID=$(grep -i '^mcp-session-id:' "$HDRS" | awk '{print $2}' | tr -d '\r')
[ -n "$SID" ] || fail "initialize returned no Mcp-Session-Id"
[ "$(drover_psql "SELECT count(*) FROM mcp_sessions WHERE id = '$SID'")" = 1 ] || fail "session not stored"
pass "session stored in mcp_sessions"
mcp '{"jsonrpc":"2.0","method":"notifications/initialized"}'
expect 202 '' "notifications/initialized -> 202"
[ -z "$BODY" ] || fail "202 must have no body"
mcp '{"jsonrpc":"2.0","id":2,"method":"ping"}'
expect 200 '.id == 2 and .result == {}' "ping"
mcp '{"jsonrpc":"2.0","id":3,"method":"tools/list"}'
expect 200 '[.result.tools[].name] | sort == ["ask_user_question","create_branch","create_pull_request","get_approval","get_git_credential","get_next_task","heartbeat","log_activity","request_approval","trigger_preview_deploy","update_task_status"]' "tools/list names"
jq -e 'all(.result.tools[]; .title and .description and .inputSchema.type == "object" and .outputSchema.type == "object")' <<<"$BODY" >/dev/null || fail "every tool needs title, description, schemas"
pass "every tool has title, description, inputSchema, outputSchema"
mcp '{"jsonrpc":"2.0","id":4,"method":"logging/setLevel","params":{"level":"debug"}}'
expect 200 '.result == {}' "logging/setLevel debug"
mcp '{"jsonrpc":"2.0","id":5,"method":"logging/setLevel","params":{"level":"loud"}}'
expect 200 '.error.code == -32602' "logging/setLevel bad level -> -32602"
mcp '{"jsonrpc":"2.0","id":6,"method":"resources/list"}'
expect 200 '.error.code == -32601' "unknown method -> -32601"
mcp '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"nope"}}'
expect 200 '.error.code == -32602' "unknown tool -> -32602"
mcp '{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"get_next_task","arguments":[]}}'
expect 200 '.error.code == -32602' "arguments not an object -> -32602"

# version negotiation
SAVE=$SID SID=
mcp '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18"}}'
expect 200 '.result.protocolVersion == "2025-06-18"' "initialize echoes 2025-06-18"
mcp '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2099-01-01"}}'
expect 200 '.result.protocolVersion == "2025-11-25"' "unknown version -> 2025-11-25"
SID=$SAVE

# ---- transport errors ----
req POST /mcp '{"jsonrpc":"2.0","id":1,"method":"ping"}' -H "Authorization: Bearer $A1_TOKEN" -H 'Accept: application/json' -H "$CT" -H "Mcp-Session-Id: $SID"
expect 406 '.error.code == -32000' "Accept without text/event-stream -> 406"
req POST /mcp '{"jsonrpc":"2.0","id":1,"method":"ping"}' -H "Authorization: Bearer $A1_TOKEN" -H "$ACC" -H 'Content-Type: text/plain' -H "Mcp-Session-Id: $SID"
expect 415 '.error.code == -32000' "text/plain -> 415"
VER=1999-01-01 mcp '{"jsonrpc":"2.0","id":1,"method":"ping"}'
expect 400 '.id == 1 and .error.code == -32022 and (.error.data.supported | index("2025-11-25"))' "unsupported MCP-Protocol-Version -> 400 with the supported versions and the id"
mcp '{"jsonrpc":"2.0","id":1,"method":"ping"}' -H 'Origin: http://evil.example.com'
expect 403 '.error.code == -32000' "foreign Origin -> 403"
mcp '{"jsonrpc":"2.0","id":1,"method":"ping"}' -H 'Host: evil.example.com'
expect 403 '' "foreign Host -> 403"
req GET /mcp '' -H "Authorization: Bearer $A1_TOKEN" -H 'Accept: text/event-stream'
expect 405 '' "GET /mcp -> 405"
grep -qi '^allow: POST, DELETE' "$HDRS" || fail "405 without Allow header"
pass "405 carries Allow"
SID=mcp_nosuchsession mcp '{"jsonrpc":"2.0","id":1,"method":"ping"}'
expect 404 '.error.code == -32000' "unknown session -> 404"
SAVE=$SID SID=
mcp '{"jsonrpc":"2.0","id":1,"method":"ping"}'
expect 400 '.error.code == -32000' "missing session on a non-initialize request -> 400"
SID=$SAVE
mcp '{"jsonrpc":"2.0","id":1,"method":'
expect 400 '.error.code == -32700 and .id == null' "malformed JSON -> 400 -32700"
mcp '{"jsonrpc":"1.0","id":1,"method":"ping"}'
expect 400 '.error.code == -32600' "jsonrpc 1.0 -> -32600"
mcp '{"jsonrpc":"2.0","id":{"x":1},"method":"ping"}'
expect 400 '.error.code == -32600' "object id -> -32600"
mcp "$(printf '{"jsonrpc":"2.0","id":1,"method":"p\xffing"}')"
expect 400 '.error.code == -32700' "invalid UTF-8 -> -32700"
DEEP=$(printf '%.0s[' $(seq 1 200))$(printf '%.0s]' $(seq 1 200))
mcp "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"x\":$DEEP}}"
expect 400 '.error.code == -32700' "nesting 200 deep -> -32700"
mcp '[{"jsonrpc":"2.0","id":1,"method":"ping"}]'
expect 200 '.error.code == -32600' "batch under 2025-11-25 -> -32600"
VER=2025-03-26 mcp '[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/initialized"},{"jsonrpc":"2.0","id":2,"method":"nope"}]'
expect 200 'length == 2 and .[0].result == {} and .[1].error.code == -32601' "batch under 2025-03-26"
{ printf '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"'; head -c 1100000 /dev/zero | tr '\0' 'a'; printf '"}}'; } >"$DROVER_TMP/big.json"
mcp "@$DROVER_TMP/big.json"
expect 413 '' "oversized body -> 413"

req POST /rpc '{"jsonrpc":"2.0","id":1,"method":"ping"}' -H "Authorization: Bearer $A1_TOKEN" -H "$CT" -H 'Transfer-Encoding: chunked'
expect 411 '.error.code == -32600' "chunked request body -> 411 (not a hang)"

# ---- auth ----
req POST /mcp '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25"}}' -H "$ACC" -H "$CT"
expect 401 '.error == "invalid_token"' "no token -> 401"
grep -qi '^www-authenticate: Bearer realm="drover", error="invalid_token"' "$HDRS" || fail "401 without WWW-Authenticate"
pass "401 carries WWW-Authenticate"
req POST /mcp '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25"}}' -H "$ACC" -H "$CT" -H "Authorization: Bearer drv_$(printf '0%.0s' $(seq 1 64))"
expect 401 '' "unknown token -> 401"
req POST /mcp '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25"}}' -H "$ACC" -H "$CT" -H "Authorization: Bearer $OPERATOR"
expect 403 '.error == "insufficient_scope"' "operator token on /mcp -> 403 (agents and submitters only)"
req POST /mcp '{"jsonrpc":"2.0","id":1,"method":"ping"}' -H "$ACC" -H "$CT" -H "Authorization: Bearer $A2_TOKEN" -H "Mcp-Session-Id: $SID"
expect 404 '' "another token's session -> 404"
req POST /tools/call '{"name":"heartbeat","arguments":{}}' -H "$CT" -H "Authorization: Bearer $A1_TOKEN" -H "X-Agent-ID: $A2"
expect 403 '' "X-Agent-ID of another agent -> 403"
call heartbeat "{\"agentId\":\"$A2\"}"
expect 200 '.result.isError == true' "agentId of another agent -> isError"
req GET /api/whoami '' -H "Authorization: Bearer $A1_TOKEN"
expect 403 '.error.code == "forbidden"' "agent token on /api -> 403"
req GET /api/whoami '' -H "Authorization: Bearer $ADMIN"
expect 200 '.scope == "admin"' "admin token on /api/whoami"
req GET /api/whoami ''
expect 401 '.error.code == "unauthorized"' "no token on /api -> 401"
req GET /api/nothing '' -H "Authorization: Bearer $ADMIN"
expect 404 '.error.code == "not_found"' "unknown /api path -> 404"

# ---- tools ----
call get_next_task '{}'
expect 200 '.result.structuredContent.task == null and (.result.content[0].text | fromjson | .task == null)' "get_next_task with an empty queue"
call get_next_task '{"wait_seconds":"x"}'
expect 200 '.result.isError == true' "bad wait_seconds -> isError"
TID=$(drover_enqueue "Add the widget" 5)
call get_next_task '{}'
expect 200 ".result.structuredContent.task.id == $TID and .result.structuredContent.task.lease_epoch >= 1" "get_next_task claims"
EPOCH=$(jq -r '.result.structuredContent.task.lease_epoch' <<<"$BODY")
call create_branch "{\"task_id\":$TID,\"lease_epoch\":$EPOCH}"
expect 200 ".result.structuredContent.branch == \"drover/$TID-add-the-widget\"" "create_branch default name"
call create_branch "{\"task_id\":$TID,\"lease_epoch\":$EPOCH}"
expect 200 '.result.structuredContent.created == false' "create_branch is idempotent"
call create_branch "{\"task_id\":$TID,\"lease_epoch\":$EPOCH,\"name\":\"bad..name\"}"
expect 200 '.result.isError == true' "create_branch refuses an invalid ref"
call create_branch "{\"task_id\":$TID,\"lease_epoch\":$((EPOCH + 7))}"
expect 200 '.result.isError == true and (.result.content[0].text | fromjson | .error.code == "stale_epoch")' "create_branch with a stale epoch"
call log_activity "{\"task_id\":$TID,\"message\":\"started\",\"level\":\"info\"}"
expect 200 '.result.structuredContent.logged == 1' "log_activity one line"
call log_activity "{\"task_id\":$TID,\"entries\":[{\"message\":\"a\"},{\"message\":\"b\",\"level\":\"warning\"}]}"
expect 200 '.result.structuredContent.logged == 2' "log_activity batch"
call log_activity "{\"task_id\":999999,\"message\":\"x\"}"
expect 200 '.result.isError == true' "log_activity unknown task -> isError"
call heartbeat "{\"status\":\"busy\",\"task_ids\":[$TID]}"
expect 200 ".result.structuredContent.tasks[0].id == $TID and .result.structuredContent.tasks[0].cancelled == false" "heartbeat"
call create_pull_request "{\"task_id\":$TID,\"lease_epoch\":$EPOCH,\"title\":\"Add the widget\"}"
expect 200 ".result.structuredContent.pull_request.head == \"drover/$TID-add-the-widget\"" "create_pull_request"
[ "$(drover_psql "SELECT pull_request->>'head' FROM tasks WHERE id = $TID")" = "drover/$TID-add-the-widget" ] || fail "pull request not recorded"
pass "pull request recorded on the task"
# another agent cannot touch it
req POST /tools/call "{\"name\":\"update_task_status\",\"arguments\":{\"task_id\":$TID,\"lease_epoch\":$EPOCH,\"status\":\"completed\"}}" -H "$CT" -H "Authorization: Bearer $A2_TOKEN"
expect 200 '.isError == true and (.content[0].text | fromjson | .error.code == "forbidden")' "foreign task -> forbidden"
call update_task_status "{\"task_id\":$TID,\"lease_epoch\":$EPOCH,\"status\":\"flying\"}"
expect 200 '.result.isError == true' "unknown status -> isError"
call ask_user_question "{\"task_id\":$TID,\"lease_epoch\":$EPOCH,\"question\":\"Which colour?\"}"
expect 200 '.result.structuredContent.task.state == "needs_input" and .result.structuredContent.task.question == "Which colour?"' "ask_user_question -> needs_input"
call update_task_status "{\"task_id\":$TID,\"lease_epoch\":$EPOCH,\"status\":\"completed\"}"
expect 200 '.result.isError == true' "update after the lease is gone -> isError"
[ "$(drover_psql "SELECT state FROM tasks WHERE id = $TID")" = needs_input ] || fail "refused update changed the task"
pass "a refused update changes nothing"

# ---- seed endpoints ----
TID=$(drover_enqueue "Seed task")
req POST /tools/call '{"name":"get_next_task","arguments":{}}' -H "$CT" -H "Authorization: Bearer $A1_TOKEN" -H "X-Agent-ID: $A1"
expect 200 ".content[0].text | fromjson | .task.id == $TID" "/tools/call get_next_task (jq .content[0].text | fromjson | .task.id)"
EPOCH=$(jq -r '.content[0].text | fromjson | .task.lease_epoch' <<<"$BODY")
req POST /heartbeat "{\"agentId\":\"$A1\",\"status\":\"busy\"}" -H "$CT" -H "Authorization: Bearer $A1_TOKEN"
expect 200 ".tasks[0].id == $TID" "/heartbeat"
req POST /rpc "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\",\"params\":{\"name\":\"update_task_status\",\"arguments\":{\"task_id\":$TID,\"lease_epoch\":$EPOCH,\"status\":\"completed\"}}}" -H "$CT" -H "Authorization: Bearer $A1_TOKEN"
expect 200 '.result.structuredContent.task.state == "completed"' "/rpc update_task_status completed"

# ---- long-poll: woken by NOTIFY ----
START=$(date +%s%N)
( sleep 1; drover_enqueue "Wake me" >/dev/null ) &
BG=$!
call get_next_task '{"wait_seconds":8}'
END=$(date +%s%N)
drover_wait_pid 30 $BG
expect 200 '.result.structuredContent.task.title == "Wake me"' "held get_next_task gets the task enqueued meanwhile"
MS=$(((END - START) / 1000000))
[ "$MS" -lt 1900 ] || fail "wake took ${MS} ms (enqueued at ~1000 ms)"
pass "long-poll woke ${MS} ms after start (task enqueued at ~1000 ms)"
EPOCH=$(jq -r '.result.structuredContent.task.lease_epoch' <<<"$BODY")
TID=$(jq -r '.result.structuredContent.task.id' <<<"$BODY")
call update_task_status "{\"task_id\":$TID,\"lease_epoch\":$EPOCH,\"status\":\"completed\"}"

# ---- long-poll: a back-off that ends wakes no NOTIFY; the periodic recheck finds the task ----
# The insert's NOTIFY fires while run_after is still ahead, so that claim finds nothing; nothing
# else notifies when run_after passes.
TID=$(drover_psql "INSERT INTO tasks (title, description, repo_url, run_after)
                   VALUES ('Later', 'x', 'https://git.example/r.git', now() + interval '2 s') RETURNING id")
START=$(date +%s%N)
call get_next_task '{"wait_seconds":10}'
END=$(date +%s%N)
expect 200 ".result.structuredContent.task.id == $TID" "held get_next_task gets a task whose run_after passed"
MS=$(((END - START) / 1000000))
[ "$MS" -ge 1500 ] && [ "$MS" -lt 6000 ] || fail "delayed task handed over after ${MS} ms (due at ~2000)"
pass "delayed task handed over ${MS} ms after the poll began (due at ~2000 ms)"
EPOCH=$(jq -r '.result.structuredContent.task.lease_epoch' <<<"$BODY")
call update_task_status "{\"task_id\":$TID,\"lease_epoch\":$EPOCH,\"status\":\"completed\"}"

# deadline
START=$(date +%s)
call get_next_task '{"wait_seconds":1}'
expect 200 '.result.structuredContent.task == null' "held get_next_task times out with task:null"

# ---- notifications/cancelled ends a held poll ----
( sleep 0.7; mcp '{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":4242}}' ) &
BG=$!
START=$(date +%s%N)
mcp '{"jsonrpc":"2.0","id":4242,"method":"tools/call","params":{"name":"get_next_task","arguments":{"wait_seconds":8}}}'
END=$(date +%s%N)
drover_wait_pid 30 $BG
MS=$(((END - START) / 1000000))
[ "$MS" -lt 3000 ] || fail "cancelled poll still held for ${MS} ms"
expect 200 '.result.structuredContent.task == null' "notifications/cancelled ends the held poll (${MS} ms)"

# ---- DELETE ends the session ----
req DELETE /mcp '' -H "Authorization: Bearer $A1_TOKEN" -H "Mcp-Session-Id: $SID"
expect 200 '' "DELETE /mcp"
mcp '{"jsonrpc":"2.0","id":1,"method":"ping"}'
expect 404 '' "deleted session -> 404"

# ---- revocation takes effect within the cache TTL ----
eval "$(drover_token agent e2e-revoked)"
R_TOKEN=$DROVER_TOKEN
req POST /tools/call '{"name":"heartbeat","arguments":{}}' -H "$CT" -H "Authorization: Bearer $R_TOKEN"
expect 200 '.isError == false' "fresh token works"
"$DROVERD" token revoke e2e-revoked 2>/dev/null || fail "token revoke failed"
ok=0
for _ in $(seq 1 24); do
    req POST /tools/call '{"name":"heartbeat","arguments":{}}' -H "$CT" -H "Authorization: Bearer $R_TOKEN"
    [ "$STATUS" = 401 ] && ok=1 && break
    sleep 0.5
done
[ $ok = 1 ] || fail "revoked token still accepted after 12 s"
pass "revoked token refused within the cache TTL"

# ---- database connections killed: requests succeed again ----
N=$(drover_psql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '$DROVER_APPNAME'")
[ "$N" -ge 2 ] || fail "expected droverd's connections to terminate, found $N"
pass "terminated $N droverd database connections"
sleep 0.5
# Every worker notices its dead connection and reconnects before running the request: even
# the first requests after the kill succeed (more than the worker count, to hit each one).
for i in $(seq 1 8); do
    req POST /tools/call '{"name":"heartbeat","arguments":{}}' -H "$CT" -H "Authorization: Bearer $A1_TOKEN"
    [ "$STATUS" = 200 ] && jq -e '.isError == false' >/dev/null <<<"$BODY" ||
        fail "request $i after the database connections were killed: $STATUS $BODY"
done
pass "requests right after the kill succeed (workers reconnect first)"
req GET /ready ''
expect 200 '' "ready again after the connections were killed"
sleep 1 # the LISTEN thread reconnects with back-off
( sleep 1; drover_enqueue "After restart" >/dev/null ) &
BG=$!
req POST /tools/call '{"name":"get_next_task","arguments":{"wait_seconds":8}}' -H "$CT" -H "Authorization: Bearer $A1_TOKEN"
drover_wait_pid 30 $BG
expect 200 '.content[0].text | fromjson | .task.title == "After restart"' "long-poll works after the LISTEN connection was killed"

# ---- /metrics counts what happened above: tool calls, claims, the DB pool ----
curl -s "$DROVER_URL/metrics" >"$DROVER_TMP/metrics" || fail "GET /metrics"
for series in 'drover_tool_calls_total{tool="get_next_task"}' 'drover_tool_calls_total{tool="update_task_status"}' \
    'drover_claim_duration_seconds_count' 'drover_db_pool_connections'; do
    v=$(grep -F "$series" "$DROVER_TMP/metrics" | head -1 | awk '{print $NF}')
    awk -v v="${v:-0}" 'BEGIN { exit !(v > 0) }' || fail "$series is ${v:-missing} after the calls above"
done
pass "/metrics counts tool calls, claims and the DB pool"

# ---- SIGTERM answers held polls and exits 0 ----
curl -s --max-time 30 -o "$DROVER_TMP/held" -w '%{http_code}' -X POST -H "$CT" -H "Authorization: Bearer $A1_TOKEN" \
    --data '{"name":"get_next_task","arguments":{"wait_seconds":9}}' "$DROVER_URL/tools/call" >"$DROVER_TMP/held.status" &
CURL=$!
sleep 0.8
START=$(date +%s%N)
drover_stop || fail "droverd exited non-zero on SIGTERM"
drover_wait_pid 30 $CURL || true
END=$(date +%s%N)
[ "$(cat "$DROVER_TMP/held.status")" = 200 ] || fail "held poll not answered on SIGTERM"
jq -e '.structuredContent.task == null' "$DROVER_TMP/held" >/dev/null || fail "held poll answer: $(cat "$DROVER_TMP/held")"
pass "SIGTERM answered the held poll with task:null and exited 0 in $(((END - START) / 1000000)) ms"
