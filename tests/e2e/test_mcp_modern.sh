#!/usr/bin/env bash
# MCP 2026-07-28 (the stateless era) on /mcp with curl, beside the legacy era: server/discover,
# _meta per request, the request metadata headers checked against the body (exact HTTP
# statuses and JSON-RPC codes), removed and unknown methods, resultType and caching hints,
# tools called without initialize or a session (a held get_next_task too), auth and scopes as
# in the legacy era, and bad input changing nothing.
. "$(dirname "$0")/lib.sh"
drover_e2e_init

eval "$(drover_token agent e2e-modern)"
A1_TOKEN=$DROVER_TOKEN A1=$AGENT_ID
ADMIN=$(drover_token admin e2e-admin)
OPERATOR=$(drover_token operator e2e-operator)
# One agent claims several tasks in turn and keeps them: let it hold more than the default one.
drover_start --long-poll-max 10 --max-tasks-per-agent 8

ACC='Accept: application/json, text/event-stream'
CT='Content-Type: application/json'
V=2026-07-28
META='"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"e2e","version":"1"}}'

req() { # req METHOD PATH BODY [curl args...] -> STATUS, BODY, HDRS
    local m=$1 p=$2 b=$3
    shift 3
    HDRS="$DROVER_TMP/h"
    BODY=$(curl -s -X "$m" -D "$HDRS" -o - -w '\n%{http_code}' --max-time 30 "$@" ${b:+--data-binary "$b"} "$DROVER_URL$p")
    STATUS=${BODY##*$'\n'}
    BODY=${BODY%$'\n'*}
}
# raw BODY [curl args]: POST /mcp with A1's token, Accept and Content-Type only
raw() { req POST /mcp "$1" -H "Authorization: Bearer $A1_TOKEN" -H "$ACC" -H "$CT" "${@:2}"; }
# modern ID METHOD PARAMS-WITHOUT-META [NAME]: a conformant 2026-07-28 request
modern() {
    local p=${3:+$3,}
    raw "{\"jsonrpc\":\"2.0\",\"id\":$1,\"method\":\"$2\",\"params\":{$p$META}}" \
        -H "MCP-Protocol-Version: $V" -H "Mcp-Method: $2" ${4:+-H "Mcp-Name: $4"} "${@:5}"
}
expect() { # expect STATUS JQ-EXPR DESCRIPTION
    [ "$STATUS" = "$1" ] || fail "$3: HTTP $STATUS, wanted $1: $BODY"
    if [ -n "$2" ]; then
        jq -e "$2" >/dev/null <<<"$BODY" || fail "$3: body does not satisfy $2: $BODY"
    fi
    pass "$3"
}
sessions() { drover_psql "SELECT count(*) FROM mcp_sessions"; }

# ---- discovery, lists, calls: no initialize, no session ----
modern 1 server/discover ''
expect 200 '.id == 1 and .result.resultType == "complete" and (.result.supportedVersions | index("2026-07-28") and index("2025-11-25")) and .result.capabilities.tools and (.result.capabilities | has("logging") | not) and ._meta == null and .result._meta["io.modelcontextprotocol/serverInfo"].name == "drover" and .result.ttlMs >= 0 and .result.cacheScope == "public" and (.result.instructions | length > 0)' "server/discover"
! grep -qi '^mcp-session-id:' "$HDRS" || fail "a modern response must not mint a session"
pass "no Mcp-Session-Id minted"
modern 2 tools/list ''
expect 200 '.result.resultType == "complete" and (.result.ttlMs | type == "number") and .result.ttlMs >= 0 and .result.cacheScope == "private" and ([.result.tools[].name] | index("get_next_task"))' "tools/list with resultType, ttlMs, cacheScope (private: it depends on the scope)"
modern 3 tools/call '"name":"get_next_task","arguments":{}' get_next_task
expect 200 '.id == 3 and .result.resultType == "complete" and .result.structuredContent.task == null' "tools/call get_next_task, empty queue"
TID=$(drover_enqueue "Modern task" 3)
modern 4 tools/call '"name":"get_next_task","arguments":{}' get_next_task -H 'Mcp-Session-Id: mcp_ignored'
expect 200 ".result.structuredContent.task.id == $TID" "tools/call claims (an Mcp-Session-Id is ignored)"
EPOCH=$(jq -r '.result.structuredContent.task.lease_epoch' <<<"$BODY")
modern 5 tools/call "\"name\":\"log_activity\",\"arguments\":{\"task_id\":$TID,\"message\":\"modern\"}" log_activity
expect 200 '.result.isError == false and .result.resultType == "complete"' "tools/call log_activity"
modern 6 tools/call '"name":"heartbeat","arguments":{"status":"busy"}' heartbeat
expect 200 '.result.isError == false' "tools/call heartbeat"
[ "$(sessions)" = 0 ] || fail "the modern era must not create sessions"
pass "no session row created"

# a held get_next_task in the modern era: woken by a new task, answered with resultType
(
    sleep 1
    drover_enqueue "Held modern" 1 >/dev/null
) &
BG=$!
modern 7 tools/call '"name":"get_next_task","arguments":{"wait_seconds":8}' get_next_task
wait "$BG"
expect 200 '.id == 7 and .result.resultType == "complete" and .result.structuredContent.task.title == "Held modern"' "held get_next_task answered when a task arrives"
modern 8 tools/call '"name":"get_next_task","arguments":{"wait_seconds":1}' get_next_task
expect 200 '.id == 8 and .result.resultType == "complete" and .result.structuredContent.task == null' "held get_next_task times out with resultType"

# ---- header validation: 400 + HeaderMismatch (-32020), the request's id ----
B='{"jsonrpc":"2.0","id":11,"method":"tools/list","params":{'$META'}}'
raw "$B" -H "MCP-Protocol-Version: $V" -H 'Mcp-Method: prompts/list'
expect 400 '.id == 11 and .error.code == -32020' "Mcp-Method differs from the body -> 400 -32020"
raw "$B" -H "MCP-Protocol-Version: $V"
expect 400 '.id == 11 and .error.code == -32020' "Mcp-Method missing -> 400 -32020"
raw "$B" -H "MCP-Protocol-Version: $V" -H 'Mcp-Method: TOOLS/LIST'
expect 400 '.error.code == -32020' "header values are case-sensitive"
raw "$B" -H "mcp-protocol-version: $V" -H 'MCP-METHOD: tools/list'
expect 200 '.result.tools' "header names are case-insensitive"
raw "$B" -H 'Mcp-Method: tools/list'
expect 400 '.id == 11 and .error.code == -32020' "MCP-Protocol-Version missing with _meta -> 400 -32020"
raw "$B" -H 'MCP-Protocol-Version: 2025-11-25' -H 'Mcp-Method: tools/list'
expect 400 '.error.code == -32020' "MCP-Protocol-Version differs from _meta -> 400 -32020"
C='{"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"name":"get_next_task","arguments":{},'$META'}}'
XID=$(drover_enqueue "Must stay queued" 2)
raw "$C" -H "MCP-Protocol-Version: $V" -H 'Mcp-Method: tools/call' -H 'Mcp-Name: heartbeat'
expect 400 '.id == 12 and .error.code == -32020' "Mcp-Name differs from params.name -> 400 -32020"
raw "$C" -H "MCP-Protocol-Version: $V" -H 'Mcp-Method: tools/call'
expect 400 '.error.code == -32020' "Mcp-Name missing on tools/call -> 400 -32020"
ST=$(drover_psql "SELECT state FROM tasks WHERE id = $XID"); [ "$ST" = backlog ] ||
    fail "a rejected tools/call must not claim anything (status $ST)"
pass "rejected calls changed nothing"
raw "$C" -H "MCP-Protocol-Version: $V" -H 'Mcp-Method: tools/call' -H 'Mcp-Name:   get_next_task  '
expect 200 '.result.resultType == "complete"' "whitespace around Mcp-Name is trimmed"
raw "$C" -H "MCP-Protocol-Version: $V" -H 'Mcp-Method: tools/call' -H "Mcp-Name: =?base64?$(printf get_next_task | base64)?="
expect 200 '.result' "a Base64-encoded Mcp-Name is decoded"
raw "$C" -H "MCP-Protocol-Version: $V" -H 'Mcp-Method: tools/call' -H 'Mcp-Name: =?base64?Z2V0!!!?='
expect 400 '.error.code == -32020' "invalid Base64 in Mcp-Name -> 400 -32020"

# ---- versions, _meta, methods ----
raw '{"jsonrpc":"2.0","id":21,"method":"server/discover","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"v999","io.modelcontextprotocol/clientCapabilities":{}}}}' -H 'MCP-Protocol-Version: v999' -H 'Mcp-Method: server/discover'
expect 400 '.id == 21 and .error.code == -32022 and .error.data.requested == "v999" and (.error.data.supported | index("2026-07-28"))' "unsupported version -> 400 -32022 with the list and the id"
raw '{"jsonrpc":"2.0","id":22,"method":"ping"}' -H 'MCP-Protocol-Version: 1999-01-01'
expect 400 '.id == 22 and .error.code == -32022 and (.error.data.supported | index("2025-11-25"))' "unknown header version on a bare request -> 400 with the request's id"
modern 23 server/discover '' '' -H 'X-Dummy: 1'
expect 200 '.result.supportedVersions' "control: discover works"
raw '{"jsonrpc":"2.0","id":24,"method":"server/discover","params":{}}' -H "MCP-Protocol-Version: $V" -H 'Mcp-Method: server/discover'
expect 400 '.id == 24 and .error.code == -32602' "missing _meta -> 400 -32602"
raw '{"jsonrpc":"2.0","id":25,"method":"server/discover","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}' -H "MCP-Protocol-Version: $V" -H 'Mcp-Method: server/discover'
expect 400 '.id == 25 and .error.code == -32602' "missing clientCapabilities -> 400 -32602"
raw '{"jsonrpc":"2.0","id":26,"method":"server/discover","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}' -H "MCP-Protocol-Version: $V" -H 'Mcp-Method: server/discover'
expect 200 '.result.supportedVersions' "clientInfo is optional"
for m in initialize ping logging/setLevel resources/subscribe resources/list unknown/method; do
    modern 30 "$m" ''
    expect 404 '.id == 30 and .error.code == -32601' "$m in 2026-07-28 -> 404 -32601"
done
modern 31 tools/call '"name":"nope","arguments":{}' nope
expect 200 '.id == 31 and .error.code == -32602' "unknown tool -> -32602"
raw '{"jsonrpc":"2.0","id":32,"method":"tools/list","params":{'$META'}' -H "MCP-Protocol-Version: $V" -H 'Mcp-Method: tools/list'
expect 400 '.error.code == -32700' "malformed JSON -> 400 -32700"
raw '[{"jsonrpc":"2.0","id":33,"method":"tools/list"}]' -H "MCP-Protocol-Version: $V" -H 'Mcp-Method: tools/list'
expect 400 '.error.code == -32600' "a batch in 2026-07-28 -> 400 -32600"

# ---- auth works as in the legacy era ----
req POST /mcp '{"jsonrpc":"2.0","id":41,"method":"server/discover","params":{'"$META"'}}' -H "$ACC" -H "$CT" -H "MCP-Protocol-Version: $V" -H 'Mcp-Method: server/discover'
expect 401 '.error == "invalid_token"' "no token -> 401"
HOSTPORT=${DROVER_URL#http://}
grep -qi "^www-authenticate: Bearer realm=\"drover\", error=\"invalid_token\", resource_metadata=\"http://$HOSTPORT/.well-known/oauth-protected-resource/mcp\"" "$HDRS" ||
    fail "401 challenge without resource_metadata: $(grep -i www-authenticate "$HDRS")"
pass "401 WWW-Authenticate points to the protected-resource metadata (RFC 9728)"
req GET /.well-known/oauth-protected-resource/mcp ''
expect 200 ".resource == \"http://$HOSTPORT/mcp\" and .bearer_methods_supported == [\"header\"] and (.scopes_supported | index(\"developer\")) and (has(\"authorization_servers\") | not)" "GET /.well-known/oauth-protected-resource/mcp"
req GET /.well-known/oauth-protected-resource ''
expect 200 ".resource == \"http://$HOSTPORT\"" "GET /.well-known/oauth-protected-resource (the origin)"
req POST /.well-known/oauth-protected-resource ''
expect 405 '' "POST to the metadata -> 405"
req GET /api/tasks ''
expect 401 '' "REST without a token -> 401"
grep -qi "^www-authenticate: .*resource_metadata=\"http://$HOSTPORT/.well-known/oauth-protected-resource\"" "$HDRS" ||
    fail "REST 401 should point to the origin's metadata"
pass "REST 401 points to the origin's metadata"
req GET /.well-known/oauth-protected-resource/mcp '' -H 'Host: evil"x'
[ "$STATUS" -ge 400 ] || fail "a Host with a quote must not reach the metadata: $STATUS $BODY"
pass "a Host with a quote is refused"
req POST /mcp '{"jsonrpc":"2.0","id":42,"method":"server/discover","params":{'"$META"'}}' -H "$ACC" -H "$CT" -H "MCP-Protocol-Version: $V" -H 'Mcp-Method: server/discover' -H "Authorization: Bearer $OPERATOR"
expect 403 '.error == "insufficient_scope"' "operator token on /mcp -> 403"

# ---- submitters: a developer's agent hands work to the pool (admin scope until `developer`) ----
TEXT='"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{"extensions":{"io.modelcontextprotocol/tasks":{}}}}'
REPO=$(drover_repo)
sub() { # sub ID METHOD PARAMS-WITHOUT-META META [NAME] [curl args]: as the admin (submitter)
    req POST /mcp "{\"jsonrpc\":\"2.0\",\"id\":$1,\"method\":\"$2\",\"params\":{${3:+$3,}$4}}" \
        -H "Authorization: Bearer $ADMIN" -H "$ACC" -H "$CT" -H "MCP-Protocol-Version: $V" \
        -H "Mcp-Method: $2" ${5:+-H "Mcp-Name: $5"} "${@:6}"
}
sub 70 tools/list '' "$META"
expect 200 '([.result.tools[].name] | sort == ["accept_task","answer_task","cancel_task","list_tasks","rework_task","submit_task","task_status"]) and .result.cacheScope == "private"' "a submitter sees the submitter tools (cacheScope private)"
sub 71 server/discover '' "$META"
expect 200 '.result.capabilities.extensions["io.modelcontextprotocol/tasks"] == {}' "server/discover declares the tasks extension"
sub 72 tools/call "\"name\":\"submit_task\",\"arguments\":{\"repository\":\"$REPO\",\"prompt\":\"Plain submit\",\"priority\":5}" "$META" submit_task
expect 200 '.result.resultType == "complete" and .result.structuredContent.task.state == "backlog" and (.result.structuredContent.task_handle | startswith("drv-task-"))' "submit_task without the extension: an ordinary result with the handle"
PLAIN=$(jq -r '.result.structuredContent.task.id' <<<"$BODY")
sub 73 tools/call '"name":"submit_task","arguments":{"project":"web","prompt":"x"}' "$META" submit_task -H 'Mcp-Param-Project: other'
expect 400 '.id == 73 and .error.code == -32020' "Mcp-Param-Project differs from arguments.project -> 400 -32020"
sub 74 tools/call '"name":"submit_task","arguments":{"project":"web","prompt":"x"}' "$META" submit_task
expect 400 '.error.code == -32020' "arguments.project without Mcp-Param-Project -> 400 -32020"
sub 75 tools/call '"name":"submit_task","arguments":{"project":"nope","prompt":"x"}' "$META" submit_task -H 'Mcp-Param-Project: nope'
expect 200 '.result.isError == true' "an unknown project is a tool error"
sub 76 tools/call "\"name\":\"submit_task\",\"arguments\":{\"repository\":\"$REPO\",\"prompt\":\"x\",\"budget\":{\"usd\":-1}}" "$META" submit_task
expect 200 '.result.isError == true' "a negative budget is refused"
[ "$(drover_psql "SELECT count(*) FROM tasks WHERE description = 'x'")" = 0 ] || fail "refused submits created tasks"
pass "refused submits created nothing"

# with the extension: a task handle, followed through tasks/get, update, cancel
sub 80 tools/call "\"name\":\"submit_task\",\"arguments\":{\"repository\":\"$REPO\",\"prompt\":\"Paint the shed\",\"priority\":1000,\"budget\":{\"tokens\":5000}}" "$TEXT" submit_task
expect 200 '.result.resultType == "task" and .result.status == "working" and (.result.taskId | startswith("drv-task-")) and .result.pollIntervalMs > 0 and .result.createdAt' "submit_task with the extension -> CreateTaskResult"
HANDLE=$(jq -r '.result.taskId' <<<"$BODY")
TID2=$(drover_psql "SELECT id FROM tasks WHERE description = 'Paint the shed'")
[ "$(drover_psql "SELECT budget->>'tokens' FROM tasks WHERE id = $TID2")" = 5000 ] || fail "budget not stored"
sub 81 tasks/get "\"taskId\":\"$HANDLE\"" "$TEXT" "$HANDLE"
expect 200 '.result.resultType == "complete" and .result.status == "working" and .result.taskId == "'"$HANDLE"'"' "tasks/get: working"
sub 82 tasks/get "\"taskId\":\"$HANDLE\"" "$META" "$HANDLE"
expect 400 '.error.code == -32021 and .error.data.requiredCapabilities.extensions["io.modelcontextprotocol/tasks"] == {}' "tasks/get without the extension -> 400 -32021"
sub 83 tasks/get "\"taskId\":\"$HANDLE\"" "$TEXT" other
expect 400 '.error.code == -32020' "Mcp-Name must be the taskId"
FORGED=${HANDLE%?}$([ "${HANDLE: -1}" = 0 ] && echo 1 || echo 0)
sub 84 tasks/get "\"taskId\":\"$FORGED\"" "$TEXT" "$FORGED"
expect 200 '.error.code == -32602' "a forged handle -> -32602"
OTHER="drv-task-$PLAIN.${HANDLE#*.}"
sub 85 tasks/get "\"taskId\":\"$OTHER\"" "$TEXT" "$OTHER"
expect 200 '.error.code == -32602' "another task's id with this handle's MAC -> -32602"
# the agent asks a question: input_required with an elicitation inputRequest
modern 86 tools/call '"name":"get_next_task","arguments":{}' get_next_task
expect 200 ".result.structuredContent.task.id == $TID2" "the agent claims the submitted task"
E2=$(jq -r '.result.structuredContent.task.lease_epoch' <<<"$BODY")
modern 87 tools/call "\"name\":\"ask_user_question\",\"arguments\":{\"task_id\":$TID2,\"lease_epoch\":$E2,\"question\":\"Which colour?\"}" ask_user_question
expect 200 '.result.isError == false' "the agent asks"
sub 88 tasks/get "\"taskId\":\"$HANDLE\"" "$TEXT" "$HANDLE"
expect 200 '.result.status == "input_required" and (.result.inputRequests | to_entries[0].value.method == "elicitation/create" and .params.message == null or true) and (.result.inputRequests | to_entries[0].value.params.message == "Which colour?")' "tasks/get: input_required with the question"
KEY=$(jq -r '.result.inputRequests | keys[0]' <<<"$BODY")
sub 89 tasks/update "\"taskId\":\"$HANDLE\",\"inputResponses\":{\"stale-key\":{\"action\":\"accept\",\"content\":{\"answer\":\"red\"}}}" "$TEXT" "$HANDLE"
expect 200 '.result == {"resultType":"complete"}' "tasks/update with a key not outstanding: acknowledged, ignored"
[ "$(drover_psql "SELECT state FROM tasks WHERE id = $TID2")" = needs_input ] || fail "an unknown key answered the task"
sub 90 tasks/update "\"taskId\":\"$HANDLE\",\"inputResponses\":{\"$KEY\":{\"action\":\"accept\",\"content\":{\"answer\":\"blue\"}}}" "$TEXT" "$HANDLE"
expect 200 '.result.resultType == "complete"' "tasks/update carries the answer"
[ "$(drover_psql "SELECT state FROM tasks WHERE id = $TID2")" = backlog ] || fail "the answer did not requeue the task"
drover_psql "SELECT context::text FROM tasks WHERE id = $TID2" | grep -q blue || fail "the answer is not in the task's context"
pass "needs_input -> backlog with the answer"
sub 91 tasks/cancel "\"taskId\":\"$HANDLE\"" "$TEXT" "$HANDLE"
expect 200 '.result.resultType == "complete"' "tasks/cancel acknowledged"
sub 92 tasks/get "\"taskId\":\"$HANDLE\"" "$TEXT" "$HANDLE"
expect 200 '.result.status == "cancelled"' "tasks/get: cancelled"
# a finished task: completed with its result
sub 93 tools/call "\"name\":\"submit_task\",\"arguments\":{\"repository\":\"$REPO\",\"prompt\":\"Finish me\",\"priority\":999}" "$TEXT" submit_task
H3=$(jq -r '.result.taskId' <<<"$BODY")
modern 94 tools/call '"name":"get_next_task","arguments":{}' get_next_task
T3=$(jq -r '.result.structuredContent.task.id' <<<"$BODY") E3=$(jq -r '.result.structuredContent.task.lease_epoch' <<<"$BODY")
modern 95 tools/call "\"name\":\"update_task_status\",\"arguments\":{\"task_id\":$T3,\"lease_epoch\":$E3,\"status\":\"completed\",\"result\":{\"summary\":\"all done\"}}" update_task_status
expect 200 '.result.isError == false' "the agent completes it"
sub 96 tasks/get "\"taskId\":\"$H3\"" "$TEXT" "$H3"
expect 200 '.result.status == "completed" and .result.result.isError == false and .result.result.structuredContent.result.summary == "all done"' "tasks/get: completed with the result"
# the same tools for an agent token: refused, nothing created
modern 97 tools/call "\"name\":\"submit_task\",\"arguments\":{\"repository\":\"$REPO\",\"prompt\":\"agent submit\"}" submit_task
expect 200 '.result.isError == true' "an agent token cannot submit"
# developers: their own tasks only; accept and rework through the tools
DEV1=$(drover_token developer e2e-dev1) DEV2=$(drover_token developer e2e-dev2)
dev() { local t=$1; shift; ADMIN=$t sub "$@"; }
dev "$DEV1" 100 tools/call "\"name\":\"submit_task\",\"arguments\":{\"repository\":\"$REPO\",\"prompt\":\"Dev task\",\"priority\":998}" "$TEXT" submit_task
expect 200 '.result.resultType == "task"' "a developer submits (tasks extension)"
HD=$(jq -r '.result.taskId' <<<"$BODY")
TD=$(drover_psql "SELECT id FROM tasks WHERE description = 'Dev task'")
dev "$DEV2" 101 tasks/get "\"taskId\":\"$HD\"" "$TEXT" "$HD"
expect 200 '.error.code == -32602' "another developer cannot follow it (-32602)"
dev "$DEV2" 102 tools/call "\"name\":\"task_status\",\"arguments\":{\"task_id\":$TD}" "$META" task_status
expect 200 '.result.isError == true' "another developer cannot read it"
dev "$DEV2" 103 tools/call '"name":"list_tasks","arguments":{}' "$META" list_tasks
expect 200 "[.result.structuredContent.tasks[].task.id] | index($TD) | not" "another developer does not list it"
modern 104 tools/call '"name":"get_next_task","arguments":{}' get_next_task
ED=$(jq -r '.result.structuredContent.task.lease_epoch' <<<"$BODY")
modern 105 tools/call "\"name\":\"update_task_status\",\"arguments\":{\"task_id\":$TD,\"lease_epoch\":$ED,\"status\":\"ready_to_test\",\"result\":{\"summary\":\"pr open\"}}" update_task_status
expect 200 '.result.isError == false' "the agent hands it over for review"
dev "$DEV1" 106 tools/call "\"name\":\"rework_task\",\"arguments\":{\"task_id\":$TD,\"instructions\":\"also add a test\"}" "$META" rework_task
expect 200 '.result.isError == false and .result.structuredContent.task.state == "backlog"' "rework_task sends it back"
modern 107 tools/call '"name":"get_next_task","arguments":{}' get_next_task
ED=$(jq -r '.result.structuredContent.task.lease_epoch' <<<"$BODY")
modern 108 tools/call "\"name\":\"update_task_status\",\"arguments\":{\"task_id\":$TD,\"lease_epoch\":$ED,\"status\":\"ready_to_test\"}" update_task_status
dev "$DEV2" 109 tools/call "\"name\":\"accept_task\",\"arguments\":{\"task_id\":$TD}" "$META" accept_task
expect 200 '.result.isError == true' "another developer cannot accept it"
dev "$DEV1" 110 tools/call "\"name\":\"accept_task\",\"arguments\":{\"task_id\":$TD}" "$META" accept_task
expect 200 '.result.isError == false and .result.structuredContent.task.state == "completed"' "accept_task completes it"
# ---- task status notifications: a subscriptions/listen stream (SEP-2663) ----
dev "$DEV1" 120 tools/call "\"name\":\"submit_task\",\"arguments\":{\"repository\":\"$REPO\",\"prompt\":\"Followed task\",\"priority\":-5}" "$TEXT" submit_task
HF=$(jq -r '.result.taskId' <<<"$BODY")
dev "$DEV2" 121 tools/call "\"name\":\"submit_task\",\"arguments\":{\"repository\":\"$REPO\",\"prompt\":\"Not yours\",\"priority\":-5}" "$TEXT" submit_task
HX=$(jq -r '.result.taskId' <<<"$BODY")
listen() { # listen TOKEN ID NOTIFICATIONS META [curl args]: the subscription request
    echo "{\"jsonrpc\":\"2.0\",\"id\":$2,\"method\":\"subscriptions/listen\",\"params\":{\"notifications\":$3,$4}}"
}
# Refused: no tasks extension, no notifications filter, too many handles.
dev "$DEV1" 122 subscriptions/listen "\"notifications\":{\"taskIds\":[\"$HF\"]}" "$META"
expect 400 '.error.code == -32021 and .error.data.requiredCapabilities.extensions["io.modelcontextprotocol/tasks"] == {} and .id == 122' "listen for tasks without the extension: -32021"
dev "$DEV1" 123 subscriptions/listen '' "$TEXT"
expect 400 '.error.code == -32602 and .id == 123' "listen without a notifications filter: -32602"
many=$(printf '"%s",' $(seq 1 33) | sed 's/,$//')
dev "$DEV1" 124 subscriptions/listen "\"notifications\":{\"taskIds\":[$many]}" "$TEXT"
expect 400 '.error.code == -32602' "listen for 33 tasks: -32602"
# On /rpc there is no stream to answer with.
req POST /rpc "$(listen "$DEV1" 125 "{\"taskIds\":[\"$HF\"]}" "$TEXT")" -H "Authorization: Bearer $DEV1" -H "$CT"
jq -e '.error.code == -32601 and .id == 125' >/dev/null <<<"$BODY" || fail "listen on /rpc: $STATUS $BODY"
pass "listen on /rpc: -32601 (no event stream there)"
# The stream: DEV1 follows its two tasks, DEV2's and a forged handle are left out.
curl -sN --max-time 60 -X POST -D "$DROVER_TMP/listen.h" -H "Authorization: Bearer $DEV1" -H "$ACC" -H "$CT" \
    -H "MCP-Protocol-Version: $V" -H "Mcp-Method: subscriptions/listen" \
    --data-binary "$(listen "$DEV1" '"sub-1"' "{\"taskIds\":[\"$HF\",\"$HD\",\"$HX\",\"drv-task-1.00\"]}" "$TEXT")" \
    "$DROVER_URL/mcp" >"$DROVER_TMP/listen.out" &
LPID=$!
notes() { sed -n 's/^data: //p' "$DROVER_TMP/listen.out" | jq -s -c .; }
wait_note() { # wait_note JQ-EXPR DESCRIPTION: until the stream's messages satisfy it
    for _ in $(seq 1 100); do
        jq -e "$1" >/dev/null 2>&1 <<<"$(notes)" && { pass "$2"; return 0; }
        sleep 0.1
    done
    kill "$LPID" 2>/dev/null
    fail "$2: the stream sent $(notes) (headers: $(tr -d '\r' <"$DROVER_TMP/listen.h" | head -5 | tr '\n' ' '))"
}
wait_note "length >= 3 and .[0].method == \"notifications/subscriptions/acknowledged\"
  and .[0].params.notifications.taskIds == [\"$HF\", \"$HD\"]
  and .[0].params._meta[\"io.modelcontextprotocol/subscriptionId\"] == \"sub-1\"" \
    "the acknowledgement comes first, with only the caller's own task handles"
grep -qi '^content-type: text/event-stream' "$DROVER_TMP/listen.h" || fail "the stream is not text/event-stream"
wait_note "[.[] | select(.method == \"notifications/tasks\")] as \$t
  | (\$t | map(select(.params.taskId == \"$HF\" and .params.status == \"working\")) | length) == 1
  and (\$t | map(select(.params.taskId == \"$HD\" and .params.status == \"completed\" and .params.result.structuredContent.state == \"completed\")) | length) == 1
  and (\$t | all(.params._meta[\"io.modelcontextprotocol/subscriptionId\"] == \"sub-1\"))
  and (\$t | map(.params.taskId) | index(\"$HX\") | not)" \
    "each followed task's DetailedTask at once (working; completed with its result)"
dev "$DEV1" 126 tasks/cancel "\"taskId\":\"$HF\"" "$TEXT" "$HF"
expect 200 '.result.resultType == "complete"' "the followed task is cancelled"
wait_note "[.[] | select(.method == \"notifications/tasks\" and .params.taskId == \"$HF\") | .params.status] == [\"working\", \"cancelled\"]" \
    "its status change arrives on the stream, once"
kill "$LPID" 2>/dev/null || true
wait "$LPID" 2>/dev/null || true

# the legacy era: ordinary tools returning the task id
req POST /mcp '{"jsonrpc":"2.0","id":98,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"dev","version":"1"}}}' \
    -H "Authorization: Bearer $ADMIN" -H "$ACC" -H "$CT" -H 'MCP-Protocol-Version: 2025-11-25'
expect 200 '.result.protocolVersion == "2025-11-25"' "a submitter initializes in the legacy era"
DSID=$(grep -i '^mcp-session-id:' "$HDRS" | awk '{print $2}' | tr -d '\r')
req POST /mcp "{\"jsonrpc\":\"2.0\",\"id\":99,\"method\":\"tools/call\",\"params\":{\"name\":\"submit_task\",\"arguments\":{\"repository\":\"$REPO\",\"prompt\":\"Legacy submit\",\"fan_out\":2}}}" \
    -H "Authorization: Bearer $ADMIN" -H "$ACC" -H "$CT" -H 'MCP-Protocol-Version: 2025-11-25' -H "Mcp-Session-Id: $DSID"
expect 200 '.result.structuredContent.task.id > 0 and (.result.structuredContent.task_handle | startswith("drv-task-")) and (.result | has("resultType") | not)' "legacy era: submit_task is an ordinary tool (fan-out 2)"
[ "$(drover_psql "SELECT count(*) FROM tasks WHERE description = 'Legacy submit' AND parent_id IS NOT NULL")" = 2 ] || fail "fan_out 2 did not make two children"
pass "fan-out made two children"

# ---- the legacy era on the same endpoint, unchanged ----
raw '{"jsonrpc":"2.0","id":51,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"legacy","version":"1"}}}' -H 'MCP-Protocol-Version: 2025-11-25'
expect 200 '.result.protocolVersion == "2025-11-25" and (.result | has("resultType") | not)' "legacy initialize beside the modern era"
SID=$(grep -i '^mcp-session-id:' "$HDRS" | awk '{print $2}' | tr -d '\r')
[ -n "$SID" ] || fail "legacy initialize returned no session"
raw '{"jsonrpc":"2.0","id":52,"method":"tools/list"}' -H 'MCP-Protocol-Version: 2025-11-25' -H "Mcp-Session-Id: $SID"
expect 200 '.result.tools and (.result | has("ttlMs") | not)' "legacy tools/list unchanged"
# an authorization server configured: advertised; static tokens still work
drover_stop
drover_start --long-poll-max 10 --public-url https://drover.example.com/ \
    --oauth-authorization-servers https://auth.example.com
req GET /.well-known/oauth-protected-resource/mcp ''
expect 200 '.resource == "https://drover.example.com/mcp" and .authorization_servers == ["https://auth.example.com"]' "--public-url and --oauth-authorization-servers are advertised"
modern 61 server/discover ''
expect 200 '.result.supportedVersions' "static bearer tokens keep working"
timeout 10 "$DROVERD" serve --listen 127.0.0.1:0 --oauth-authorization-servers 'javascript:alert(1)' >/dev/null 2>&1 &&
    fail "a non-http authorization server must be refused"
pass "a non-http(s) authorization server URL is refused at start-up"
pass "PASS: modern era"
