#!/usr/bin/env bash
# droverd under valgrind memcheck, end to end: a fresh schema, droverd serve under
#   valgrind --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99
# an MCP session over /mcp (initialize, tools/list, get_next_task, heartbeat, log, status
# update), the seed endpoints (POST /tools/call, POST /heartbeat, as scripts/seed-agent.sh does),
# REST calls with an operator token, then SIGTERM. Fails on any memcheck error or definite leak;
# only third-party one-time allocations are suppressed (tests/valgrind/drover.supp, one comment
# per entry). The ASan run of scripts/test.sh skips it (two memory checkers do not stack).
# scripts/valgrind.sh runs the same thing on its own.
source "$(dirname "$0")/../protocol/lib.sh"
PROTO_PORT_RANGE=${PROTO_PORT_RANGE:-18960-18979}
DROVER_PORT_RANGE=$PROTO_PORT_RANGE
command -v jq >/dev/null || proto_missing "jq not installed"
command -v valgrind >/dev/null || proto_missing "valgrind not installed"
[ -z "${DROVER_SANITIZED:-}" ] || proto_missing "a sanitized build cannot run under valgrind"

proto_db
proto_agent_token valgrind-agent
op=$("$PROTO_DROVERD" token create --scope admin --name valgrind-admin 2>/dev/null | tail -1)
[ -n "$op" ] || proto_fail "no operator token"
task=$(proto_enqueue "valgrind task" "memcheck e2e")

port=$(proto_port)
url="http://127.0.0.1:$port"
vlog=$PROTO_TMP/valgrind.log
valgrind --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite \
  --error-exitcode=99 --num-callers=30 --track-fds=no \
  --suppressions="$PROTO_ROOT/tests/valgrind/drover.supp" --log-file="$vlog" \
  "$PROTO_DROVERD" serve --listen "127.0.0.1:$port" --pod-backend none --workers 2 \
  >"$PROTO_TMP/droverd.log" 2>&1 &
vpid=$!
DROVER_PID=$vpid # proto_cleanup stops it if the test fails early
for _ in $(seq 600); do
  curl -fsS --max-time 2 -o /dev/null "$url/ready" 2>/dev/null && break
  kill -0 "$vpid" 2>/dev/null || proto_fail "droverd under valgrind exited: $(tail -20 "$vlog")"
  sleep 0.1
done
curl -fsS -o /dev/null "$url/ready" || proto_fail "droverd under valgrind never became ready"

auth=(-H "Authorization: Bearer $DROVER_TOKEN" -H 'Content-Type: application/json'
  -H 'Accept: application/json, text/event-stream')
mcp() { # body -> response body (JSON, or the data line of an SSE reply)
  curl -fsS --max-time 60 -X POST "$url/mcp" "${auth[@]}" ${sid:+-H "Mcp-Session-Id: $sid"} \
    ${sid:+-H "MCP-Protocol-Version: 2025-11-25"} -D "$PROTO_TMP/h" -d "$1" | sed -n 's/^data: //p;/^{/p'
}
sid=""
mcp '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"valgrind","version":"1"}}}' >"$PROTO_TMP/init.json"
sid=$(tr -d '\r' <"$PROTO_TMP/h" | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: //p')
[ -n "$sid" ] || proto_fail "initialize gave no session: $(cat "$PROTO_TMP/init.json")"
curl -fsS -o /dev/null -X POST "$url/mcp" "${auth[@]}" -H "Mcp-Session-Id: $sid" \
  -H "MCP-Protocol-Version: 2025-11-25" -d '{"jsonrpc":"2.0","method":"notifications/initialized"}' ||
  proto_fail "notifications/initialized"
mcp '{"jsonrpc":"2.0","id":2,"method":"tools/list"}' | jq -e '.result.tools | length > 3' >/dev/null ||
  proto_fail "tools/list"
r=$(mcp '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"get_next_task","arguments":{"wait_seconds":1}}}')
jq -e ".result.isError != true" <<<"$r" >/dev/null || proto_fail "get_next_task: $r"
got=$(jq -r '.result.content[0].text' <<<"$r")
[ "$(jq -r '.task.id // .id' <<<"$got")" = "$task" ] || proto_fail "get_next_task gave $got, want task $task"
epoch=$(jq -r '.task.lease_epoch // .lease_epoch // empty' <<<"$got")
mcp '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"heartbeat","arguments":{"status":"busy","task_ids":['"$task"']}}}' |
  jq -e '.result.isError != true' >/dev/null || proto_fail "heartbeat"
mcp '{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"no_such_tool","arguments":{}}}' >/dev/null ||
  proto_fail "unknown tool call"
mcp '{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"update_task_status","arguments":{"task_id":'"$task"',"status":"completed"'"${epoch:+,\"lease_epoch\":$epoch}"'}}}' |
  jq -e '.result.isError != true' >/dev/null || proto_fail "update_task_status"
curl -s -o /dev/null -X POST "$url/mcp" -d 'not json' "${auth[@]}" -H "Mcp-Session-Id: $sid" || true

# The seed endpoints, as scripts/seed-agent.sh calls them.
seed=(-H "Authorization: Bearer $DROVER_TOKEN" -H "X-Agent-ID: $AGENT_ID" -H 'Content-Type: application/json')
curl -fsS -o /dev/null -X POST "$url/heartbeat" "${seed[@]}" \
  -d "{\"agentId\":\"$AGENT_ID\",\"status\":\"idle\"}" || proto_fail "POST /heartbeat"
curl -fsS -o /dev/null -X POST "$url/tools/call" "${seed[@]}" \
  -d '{"name":"get_next_task","arguments":{"wait_seconds":0}}' || proto_fail "POST /tools/call"

# REST, admin scope; and a refused call.
curl -fsS -o /dev/null -H "Authorization: Bearer $op" "$url/api/tasks" || proto_fail "GET /api/tasks"
curl -fsS -o /dev/null -H "Authorization: Bearer $op" "$url/api/agents" || proto_fail "GET /api/agents"
curl -fsS -o /dev/null -X POST -H "Authorization: Bearer $op" -H 'Content-Type: application/json' \
  "$url/api/tasks" -d '{"title":"via REST","prompt":"memcheck","repository":"https://git.example/x.git"}' || proto_fail "POST /api/tasks"
code=$(curl -s -o /dev/null -w '%{http_code}' "$url/api/tasks")
[ "$code" = 401 ] || proto_fail "no token: HTTP $code"
[ "$(proto_psql -c "SELECT state FROM tasks WHERE id = $task")" = completed ] || proto_fail "task not completed"

kill -TERM "$vpid"
st=0
drover_wait_pid 180 "$vpid" || st=$?
DROVER_PID=""
grep -E "ERROR SUMMARY|definitely lost|indirectly lost|possibly lost" "$vlog" >&2 || true
[ "$st" -eq 0 ] || proto_fail "droverd under valgrind exited $st: $(grep -A40 -m1 -E '^==[0-9]+== (Invalid|Conditional|Syscall|Mismatched|.*definitely lost in)' "$vlog" || tail -60 "$vlog")"
grep -q "ERROR SUMMARY: 0 errors" "$vlog" || proto_fail "memcheck reported errors: $(tail -40 "$vlog")"
proto_log "PASS: memcheck clean: $(grep -o 'ERROR SUMMARY.*' "$vlog")"
