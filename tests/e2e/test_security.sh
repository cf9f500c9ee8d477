#!/usr/bin/env bash
# The security suite (docs/security.md) against a real droverd and PostgreSQL: per REST route
# no token / wrong scope / agent tokens on /api; per MCP tool no token, non-agent tokens,
# another agent's task and a replayed stale lease epoch; SQL metacharacters in every string
# field stored verbatim with nothing else changed; path traversal on the static route;
# oversized headers and bodies; Host / Origin spoofing; slow-loris (headers and body
# trickled); and a scan proving no token, forge credential or password reaches droverd's log,
# the activity / event rows or any API response.
DROVER_PORT_RANGE=${DROVER_SECURITY_PORTS:-18600-18639}
. "$(dirname "$0")/lib.sh"
drover_e2e_init
command -v python3 >/dev/null || drover_skip "python3 not installed"

eval "$(drover_token agent sec-agent-1)"
A1_TOKEN=$DROVER_TOKEN A1=$AGENT_ID
eval "$(drover_token agent sec-agent-2)"
A2_TOKEN=$DROVER_TOKEN
ADMIN=$(drover_token admin sec-admin)
OPER=$(drover_token operator sec-operator)
DEV=$(drover_token developer sec-developer)
# A forge credential droverd holds (the git forge never needs it, but it must never leak).
FORGE_SECRET="forgesecret-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
export DROVER_FORGE_TOKEN=$FORGE_SECRET
DB_PASSWORD_MARK="pgpass-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
export PGPASSWORD_UNUSED=$DB_PASSWORD_MARK
drover_start --idle-timeout 3 --max-body 65536 --log-level debug
PORT=${DROVER_URL##*:}
RESPONSES="$DROVER_TMP/responses"
: >"$RESPONSES"

ACC='Accept: application/json, text/event-stream'
CT='Content-Type: application/json'

# req METHOD PATH BODY [curl args...] -> STATUS, BODY (every body is kept for the leak scan)
req() {
    local m=$1 p=$2 b=$3
    shift 3
    BODY=$(curl -s -X "$m" -o - -w '\n%{http_code}' --max-time 20 "$@" ${b:+--data-binary "$b"} "$DROVER_URL$p")
    STATUS=${BODY##*$'\n'}
    BODY=${BODY%$'\n'*}
    printf '%s\n' "$BODY" >>"$RESPONSES"
}
expect_status() { # expect_status WANTED DESCRIPTION
    [ "$STATUS" = "$1" ] || fail "$2: HTTP $STATUS, wanted $1: $BODY"
}
alive() {
    curl -fsS --max-time 5 -o /dev/null "$DROVER_URL/health" || fail "droverd stopped answering after: $1"
    kill -0 "$DROVER_PID" 2>/dev/null || fail "droverd died after: $1"
}
call() { # call TOKEN TOOL ARGS -> STATUS/BODY of the seed endpoint /tools/call
    req POST /tools/call "{\"name\":\"$2\",\"arguments\":$3}" -H "$CT" ${1:+-H "Authorization: Bearer $1"}
}
tool_error() { # the error code a tool answered with ("" when it succeeded)
    jq -r '(.error.code // (if .isError then (.content[0].text | fromjson | .error.code) else "" end)) // ""' <<<"$BODY" 2>/dev/null
}

# targs TOOL EPOCH [TEXT-JSON]: valid arguments for TOOL on $TID
targs() {
    local e=$2 x=${3:-'"x"'}
    case $1 in
    create_branch) echo "{\"task_id\":$TID,\"lease_epoch\":$e}" ;;
    log_activity) echo "{\"task_id\":$TID,\"entries\":[{\"message\":$x}]}" ;; # not epoch-fenced
    update_task_status) echo "{\"task_id\":$TID,\"lease_epoch\":$e,\"status\":\"completed\"}" ;;
    heartbeat) echo '{"status":"busy"}' ;;
    ask_user_question) echo "{\"task_id\":$TID,\"lease_epoch\":$e,\"question\":$x}" ;;
    create_pull_request) echo "{\"task_id\":$TID,\"lease_epoch\":$e,\"title\":$x}" ;;
    request_approval) echo "{\"task_id\":$TID,\"lease_epoch\":$e,\"tool_name\":\"Bash\",\"input\":{\"command\":$x}}" ;;
    get_approval) echo "{\"task_id\":$TID,\"lease_epoch\":$e,\"approval_id\":1}" ;;
    *) echo "{\"task_id\":$TID,\"lease_epoch\":$e}" ;;
    esac
}

REPO=$(drover_repo)
TID=$(drover_enqueue sec-task)
TASKS_BEFORE=$(drover_psql "SELECT count(*) FROM tasks")

# ---- REST routes: no token, agent token, operator on admin routes --------------------------
# method path min-scope (none | operator | developer | admin); ids are an existing task / a
# harmless one. Developer routes refuse operators; admin routes refuse operators and developers.
ROUTES="GET /api/whoami operator
GET /api/stream/activity operator
POST /api/tasks developer
GET /api/tasks operator
GET /api/tasks/$TID operator
POST /api/tasks/999999/cancel developer
POST /api/tasks/999999/answer developer
POST /api/tasks/999999/retry developer
POST /api/tasks/999999/accept developer
POST /api/tasks/999999/rework developer
POST /api/tasks/999999/reject developer
GET /api/tasks/$TID/logs operator
GET /api/agents operator
GET /api/agents/$A1 operator
GET /api/agents/$A1/logs operator
GET /api/projects operator
POST /api/projects admin
GET /api/projects/nope operator
PUT /api/projects/nope admin
DELETE /api/projects/nope admin
GET /api/schedules operator
POST /api/schedules admin
DELETE /api/schedules/999999 admin
GET /api/tokens admin
POST /api/tokens admin
DELETE /api/tokens/999999 admin
GET /api/events operator
GET /api/notifications/endpoints operator
POST /api/notifications/endpoints admin
DELETE /api/notifications/endpoints/999999 admin
GET /api/notifications/deliveries operator
GET /api/projects/nope/webhook-deliveries operator
POST /api/hooks/alertmanager admin
GET /api/pool operator
PUT /api/pool admin
POST /api/pool/scale admin
POST /api/agents admin
DELETE /api/agents/00000000-0000-0000-0000-000000000000 admin
GET /api/approvals operator
GET /api/approvals/999999 operator
POST /api/approvals/999999/approve developer
POST /api/approvals/999999/deny developer
GET /api/projects/nope/policy operator
PUT /api/projects/nope/policy admin
GET /api/projects/nope/policy/versions operator
GET /metrics none
GET /api/openapi.json none"
n=0
while read -r m p scope; do
    [ "$scope" = none ] && continue
    body=
    [ "$m" = GET ] || [ "$m" = DELETE ] || body='{}'
    req "$m" "$p" "$body" -H "$CT" --max-time 3
    [ "$STATUS" = 401 ] || fail "$m $p without a token: HTTP $STATUS, wanted 401"
    req "$m" "$p" "$body" -H "$CT" -H "Authorization: Bearer drv_not_a_real_token" --max-time 3
    [ "$STATUS" = 401 ] || fail "$m $p with a made-up token: HTTP $STATUS, wanted 401"
    req "$m" "$p" "$body" -H "$CT" -H "Authorization: Bearer $A1_TOKEN" --max-time 3
    [ "$STATUS" = 403 ] || fail "$m $p with an agent token: HTTP $STATUS, wanted 403"
    if [ "$scope" = admin ] || [ "$scope" = developer ]; then
        req "$m" "$p" "$body" -H "$CT" -H "Authorization: Bearer $OPER" --max-time 3
        [ "$STATUS" = 403 ] || fail "$m $p with an operator token: HTTP $STATUS, wanted 403"
    fi
    if [ "$scope" = admin ]; then
        req "$m" "$p" "$body" -H "$CT" -H "Authorization: Bearer $DEV" --max-time 3
        [ "$STATUS" = 403 ] || fail "$m $p with a developer token: HTTP $STATUS, wanted 403"
    fi
    n=$((n + 1))
done <<<"$ROUTES"
[ "$(drover_psql "SELECT count(*) FROM tasks")" = "$TASKS_BEFORE" ] || fail "a refused request changed tasks"
pass "$n protected routes: 401 without / with a bad token, 403 for agents, 403 for operators on developer and admin routes, 403 for developers on admin routes"

# ---- forge webhooks: public routes that a missing or forged signature cannot pass -----------
for f in gitea gitlab github; do
    req POST "/api/hooks/forge/$f/nope" '{"action":"closed"}' -H "$CT" --max-time 3
    [ "$STATUS" = 401 ] || fail "unsigned $f webhook: HTTP $STATUS, wanted 401"
    req POST "/api/hooks/forge/$f/nope" '{"action":"closed"}' -H "$CT" -H 'X-Hub-Signature-256: sha256=00' \
        -H 'X-Gitea-Signature: 00' -H 'X-Gitlab-Token: guess' --max-time 3
    [ "$STATUS" = 401 ] || fail "forged $f webhook: HTTP $STATUS, wanted 401"
done
[ "$(drover_psql "SELECT count(*) FROM forge_deliveries")" = 0 ] || fail "a refused webhook was recorded"
pass "forge webhooks: unsigned and forged deliveries are 401 and recorded nowhere"

# ---- MCP tools: no token, operator/admin tokens, another agent's task, stale epoch ----------
TOOLS="get_next_task create_branch log_activity update_task_status heartbeat ask_user_question create_pull_request trigger_preview_deploy get_git_credential request_approval get_approval"
for t in $TOOLS; do
    call "" "$t" "$(targs "$t" 1)"
    [ "$STATUS" = 401 ] || fail "tool $t without a token: HTTP $STATUS"
    for tok in "$OPER" "$ADMIN"; do
        call "$tok" "$t" "$(targs "$t" 1)"
        [ "$STATUS" = 403 ] || [ "$(tool_error)" = forbidden ] ||
            fail "tool $t with a non-agent token: HTTP $STATUS $BODY"
    done
done
req POST /mcp '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"s","version":"1"}}}' -H "$ACC" -H "$CT" -H "Authorization: Bearer $OPER"
[ "$STATUS" = 403 ] || [ "$STATUS" = 401 ] || fail "an operator token opened an MCP session: HTTP $STATUS"
[ "$(drover_psql "SELECT count(*) FROM tasks WHERE agent_id IS NOT NULL")" = 0 ] || fail "a refused tool call claimed a task"
pass "every tool: 401 without a token, refused for operator and admin tokens"

call "$A1_TOKEN" get_next_task '{}'
[ "$(jq -r '.structuredContent.task.id // .task.id // empty' <<<"$BODY")" = "$TID" ] ||
    [ "$(jq -r '.content[0].text | fromjson | .task.id' <<<"$BODY" 2>/dev/null)" = "$TID" ] || fail "agent 1 did not claim the task: $BODY"
EPOCH=$(drover_psql "SELECT lease_epoch FROM tasks WHERE id = $TID")
for t in create_branch log_activity update_task_status heartbeat ask_user_question create_pull_request trigger_preview_deploy get_git_credential request_approval get_approval; do
    call "$A2_TOKEN" "$t" "$(targs "$t" "$EPOCH")"
    e=$(tool_error)
    case "$t:$e" in
    heartbeat:*) ;; # heartbeat is about the calling agent; checked below
    *:not_found | *:forbidden | *:not_owner | *:stale_epoch | *:conflict) ;;
    *) fail "agent 2 used $t on agent 1's task: HTTP $STATUS $BODY" ;;
    esac
done
[ "$(drover_psql "SELECT state || ' ' || lease_epoch FROM tasks WHERE id = $TID")" = "in_progress $EPOCH" ] ||
    fail "another agent's calls changed the task: $(drover_psql "SELECT state, lease_epoch FROM tasks WHERE id = $TID")"
[ "$(drover_psql "SELECT count(*) FROM activity WHERE task_id = $TID AND agent_id <> '$A1'")" = 0 ] ||
    fail "another agent wrote activity on the task"
pass "another agent's task: every tool refused, nothing changed"

# Lease lost (reaped): the epoch moves on; the old holder's writes must all be refused.
drover_psql "UPDATE tasks SET state = 'backlog', agent_id = NULL, lease_epoch = lease_epoch + 1 WHERE id = $TID" >/dev/null
STALE=$EPOCH
call "$A1_TOKEN" get_next_task '{}'
EPOCH=$(drover_psql "SELECT lease_epoch FROM tasks WHERE id = $TID")
[ "$EPOCH" -gt "$STALE" ] || fail "re-claim did not move the epoch"
ACT_BEFORE=$(drover_psql "SELECT count(*) FROM activity WHERE task_id = $TID")
for t in create_branch update_task_status ask_user_question create_pull_request trigger_preview_deploy get_git_credential request_approval get_approval; do
    call "$A1_TOKEN" "$t" "$(targs "$t" "$STALE" '"stale"')"
    [ "$(tool_error)" = stale_epoch ] || fail "$t with a replayed stale epoch: HTTP $STATUS $BODY"
done
[ "$(drover_psql "SELECT state FROM tasks WHERE id = $TID")" = in_progress ] || fail "a stale write changed the task"
[ "$(drover_psql "SELECT count(*) FROM activity WHERE task_id = $TID AND message = 'stale'")" = 0 ] || fail "a stale log landed"
pass "replayed stale lease epoch: every tool answers stale_epoch, nothing lands ($ACT_BEFORE activity rows kept)"

# ---- SQL metacharacters in every string field ---------------------------------------------
EVIL="x'); DROP TABLE tasks; -- \" \\\\ \$\$ %s %n ' OR '1'='1 \\\\x00; SELECT pg_sleep(5); /*"
EVIL_JSON=$(jq -Rn --arg s "$EVIL" '$s')
COUNTS_BEFORE=$(drover_psql "SELECT (SELECT count(*) FROM tasks), (SELECT count(*) FROM agents), (SELECT count(*) FROM api_tokens)")
req POST /api/tasks "{\"prompt\":$EVIL_JSON,\"title\":$EVIL_JSON,\"description\":$EVIL_JSON,\"repository\":\"$REPO\",\"branch\":$EVIL_JSON,\"model\":$EVIL_JSON}" -H "$CT" -H "Authorization: Bearer $ADMIN"
if [ "$STATUS" = 201 ] || [ "$STATUS" = 200 ] || [ "$STATUS" = 202 ]; then
    NID=$(jq -r '.id // .task.id // .tasks[0].id' <<<"$BODY")
    got=$(drover_psql "SELECT title FROM tasks WHERE id = $NID")
    [ "$got" = "$EVIL" ] || fail "title not stored verbatim: [$got]"
    req GET "/api/tasks/$NID" '' -H "Authorization: Bearer $OPER"
    jq -e --arg s "$EVIL" '(.title // .task.title) == $s' <<<"$BODY" >/dev/null || fail "title not returned verbatim: $BODY"
    EXPECT_TASKS=1
else
    [ "$STATUS" = 400 ] || fail "POST /api/tasks with metacharacters: HTTP $STATUS $BODY"
    EXPECT_TASKS=0
fi
req GET "/api/tasks?status=$(jq -rn --arg s "$EVIL" '$s|@uri')&project=$(jq -rn --arg s "$EVIL" '$s|@uri')" '' -H "Authorization: Bearer $OPER"
case "$STATUS" in 200 | 400 | 404) ;; *) fail "a metacharacter query string: HTTP $STATUS" ;; esac
req POST /api/projects "{\"name\":$EVIL_JSON,\"repository\":$EVIL_JSON}" -H "$CT" -H "Authorization: Bearer $ADMIN"
case "$STATUS" in 200 | 201 | 400 | 422) ;; *) fail "a metacharacter project: HTTP $STATUS $BODY" ;; esac
req POST /api/tokens "{\"name\":$EVIL_JSON,\"scope\":\"operator\"}" -H "$CT" -H "Authorization: Bearer $ADMIN"
case "$STATUS" in 200 | 201) [ "$(drover_psql "SELECT count(*) FROM api_tokens WHERE name = \$q\$$EVIL\$q\$")" = 1 ] || fail "token name not stored verbatim" ;;
400) ;; *) fail "a metacharacter token name: HTTP $STATUS $BODY" ;; esac
NEWTOK=$(jq -r '.token // empty' <<<"$BODY")
call "$A1_TOKEN" log_activity "{\"task_id\":$TID,\"entries\":[{\"message\":$EVIL_JSON,\"level\":\"info\"}]}"
[ "$(drover_psql "SELECT count(*) FROM activity WHERE task_id = $TID AND message = \$q\$$EVIL\$q\$")" = 1 ] ||
    fail "log_activity message not stored verbatim: $BODY"
call "$A1_TOKEN" ask_user_question "{\"task_id\":$TID,\"lease_epoch\":$EPOCH,\"question\":$EVIL_JSON}"
call "$A1_TOKEN" heartbeat "{\"status\":$EVIL_JSON}"
call "$A1_TOKEN" create_branch "{\"task_id\":$TID,\"lease_epoch\":$EPOCH,\"name\":$EVIL_JSON}"
[ -n "$(tool_error)" ] || fail "create_branch accepted a metacharacter branch name: $BODY"
git ls-remote "$REPO" | grep -q "DROP" && fail "a metacharacter branch reached the remote"
COUNTS_AFTER=$(drover_psql "SELECT (SELECT count(*) FROM tasks), (SELECT count(*) FROM agents), (SELECT count(*) FROM api_tokens)")
t0=${COUNTS_BEFORE%%|*} t1=${COUNTS_AFTER%%|*}
[ $((t1 - t0)) = "$EXPECT_TASKS" ] || fail "task count moved by $((t1 - t0)), wanted $EXPECT_TASKS"
[ "$(cut -d'|' -f2 <<<"$COUNTS_AFTER")" = "$(cut -d'|' -f2 <<<"$COUNTS_BEFORE")" ] || fail "agents changed"
[ "$(drover_psql "SELECT to_regclass('tasks') IS NOT NULL")" = t ] || fail "tasks table gone"
alive "SQL metacharacters"
pass "SQL metacharacters in every string field: stored verbatim, nothing else changed"

# ---- path traversal on the static route ---------------------------------------------------
for p in '/../../../../etc/passwd' '/%2e%2e/%2e%2e/etc/passwd' '/..%2f..%2fetc%2fpasswd' '/%2e%2e%2f%2e%2e%2fetc%2fpasswd' \
    '/index.html/../../sql/001_init.sql' '/.%2e/.%2e/etc/passwd' '/%252e%252e/etc/passwd' '/..\\..\\etc\\passwd' \
    '//etc/passwd' '/assets/../../../../etc/shadow' '/%c0%ae%c0%ae/etc/passwd' '/./././etc/passwd'; do
    out=$(curl -s --path-as-is --max-time 5 -o - -w '\n%{http_code}' "$DROVER_URL$p")
    code=${out##*$'\n'}
    case "$code" in 400 | 403 | 404 | 000) ;; 200) ;; *) fail "traversal $p: HTTP $code" ;; esac
    grep -q "root:\|CREATE TABLE" <<<"$out" && fail "traversal $p served a file outside the assets"
    if [ "$code" = 200 ]; then # lws normalised it to an embedded page: must be one
        grep -qi "<html\|<!doctype" <<<"$out" || fail "traversal $p answered 200 with: ${out:0:80}"
    fi
done
alive "path traversal"
pass "path traversal (dot segments, %2e, %2f, double encoding, overlong UTF-8, backslashes): nothing outside the embedded assets"

# ---- oversized headers and bodies ---------------------------------------------------------
BIGH=$(head -c 20000 /dev/zero | tr '\0' 'a')
code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' -H "X-Big: $BIGH" "$DROVER_URL/health")
case "$code" in 400 | 413 | 431 | 000) ;; *) fail "a 20 kB header: HTTP $code" ;; esac
code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $BIGH" "$DROVER_URL/api/whoami")
case "$code" in 400 | 401 | 413 | 431 | 000) ;; *) fail "a 20 kB Authorization: HTTP $code" ;; esac
code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' -H "Origin: http://127.0.0.1:$PORT$(head -c 400 /dev/zero | tr '\0' 'b')" "$DROVER_URL/api/whoami" -H "Authorization: Bearer $OPER")
[ "$code" = 403 ] || fail "an over-long Origin: HTTP $code"
head -c 200000 /dev/zero | tr '\0' ' ' >"$DROVER_TMP/big.json"
code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' -H "$CT" -H "Authorization: Bearer $ADMIN" --data-binary @"$DROVER_TMP/big.json" "$DROVER_URL/api/tasks")
[ "$code" = 413 ] || fail "a 200 kB body over --max-body: HTTP $code"
code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' -H "$CT" -H "$ACC" -H "Authorization: Bearer $A1_TOKEN" --data-binary @"$DROVER_TMP/big.json" "$DROVER_URL/mcp")
[ "$code" = 413 ] || fail "a 200 kB MCP body: HTTP $code"
code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' -H "$CT" -H "Authorization: Bearer $ADMIN" -H "Content-Length: 99999999999" --data-binary '{}' "$DROVER_URL/api/tasks")
case "$code" in 400 | 413 | 000) ;; *) fail "a lying huge Content-Length: HTTP $code" ;; esac
code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' -H "$CT" -H "Authorization: Bearer $ADMIN" -H "Transfer-Encoding: chunked" --data-binary @"$DROVER_TMP/big.json" "$DROVER_URL/api/tasks")
case "$code" in 400 | 411 | 413 | 000) ;; *) fail "a chunked body over --max-body: HTTP $code" ;; esac
alive "oversized headers and bodies"
pass "oversized headers (431/400 or closed), bodies over --max-body (413), chunked and lying lengths"

# ---- Host / Origin spoofing ---------------------------------------------------------------
for h in "Host: evil.example" "Host: evil.example:$PORT" "Host: 127.0.0.1.evil.example" "Host: localhost.evil.example:$PORT"; do
    req GET /api/whoami '' -H "$h" -H "Authorization: Bearer $OPER"
    expect_status 403 "$h on /api"
    req POST /mcp '{"jsonrpc":"2.0","id":1,"method":"ping"}' -H "$h" -H "$ACC" -H "$CT" -H "Authorization: Bearer $A1_TOKEN"
    expect_status 403 "$h on /mcp"
done
for o in "Origin: http://evil.example" "Origin: http://127.0.0.1.evil.example:$PORT" "Origin: null" "Origin: http://localhost:1"; do
    req GET /api/whoami '' -H "$o" -H "Authorization: Bearer $OPER"
    expect_status 403 "$o on /api"
    req POST /mcp '{"jsonrpc":"2.0","id":1,"method":"ping"}' -H "$o" -H "$ACC" -H "$CT" -H "Authorization: Bearer $A1_TOKEN"
    expect_status 403 "$o on /mcp"
    code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -H "$o" -H "Connection: Upgrade" -H "Upgrade: websocket" \
        -H "Sec-WebSocket-Version: 13" -H "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==" -H "Authorization: Bearer $A1_TOKEN" "$DROVER_URL/ws")
    [ "$code" != 101 ] || fail "$o upgraded to a WebSocket"
done
req GET /api/whoami '' -H "Origin: http://127.0.0.1:$PORT" -H "Authorization: Bearer $OPER"
expect_status 200 "the real Origin is accepted"
pass "Host and Origin spoofing: 403 on /api and /mcp, no WebSocket upgrade"

# ---- slow-loris: headers and body trickled ------------------------------------------------
# Each client trickles a byte a second forever; droverd (--idle-timeout 3) must close them
# while answering everyone else promptly.
cat >"$DROVER_TMP/loris.py" <<'EOF'
import socket, sys, time
port, mode, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
socks = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    if mode == "headers":
        s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    else:
        s.sendall(b"POST /api/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 100000\r\n\r\n{")
    socks.append(s)
start = time.time()
closed = 0
while time.time() - start < 25 and closed < n:
    closed = 0
    for s in socks:
        try:
            s.sendall(b"X-a: b\r\n" if mode == "headers" else b" ")
            s.settimeout(0.01)
            if s.recv(4096) == b"":
                closed += 1
                continue
        except socket.timeout:
            continue
        except OSError:
            closed += 1
    time.sleep(1)
print("%d %.1f" % (closed, time.time() - start))
EOF
for mode in headers body; do
    python3 "$DROVER_TMP/loris.py" "$PORT" "$mode" 20 >"$DROVER_TMP/loris.$mode" &
    LPID=$!
    sleep 1
    for _ in 1 2 3; do
        t0=$(date +%s%N)
        alive "slow-loris ($mode) in progress"
        [ $((($(date +%s%N) - t0) / 1000000)) -lt 2000 ] || fail "others waited over 2 s during the $mode slow-loris"
        sleep 0.5
    done
    drover_wait_pid 60 $LPID || fail "slow-loris ($mode): the client did not finish"
    read -r closed secs <"$DROVER_TMP/loris.$mode"
    [ "$closed" = 20 ] || fail "slow-loris ($mode): only $closed of 20 connections closed in ${secs}s"
    pass "slow-loris ($mode trickled): all 20 connections closed after ${secs}s, others served meanwhile"
done

# ---- no secret leaks: log, activity/events rows, API responses ----------------------------
req GET /api/tokens '' -H "Authorization: Bearer $ADMIN"
req GET /api/agents '' -H "Authorization: Bearer $OPER"
req GET "/api/agents/$A1" '' -H "Authorization: Bearer $OPER"
req GET /api/events '' -H "Authorization: Bearer $OPER"
req GET "/api/tasks/$TID/logs" '' -H "Authorization: Bearer $OPER"
req GET /api/pool '' -H "Authorization: Bearer $OPER"
req GET /metrics ''
req GET /api/whoami '' -H "Authorization: Bearer $ADMIN"
call "$A1_TOKEN" log_activity "{\"task_id\":$TID,\"entries\":[{\"message\":\"done\"}]}"
DUMP="$DROVER_TMP/db.txt"
for tbl in activity tasks agents mcp_sessions scale_events pool_audit alert_groups; do
    drover_psql "SELECT row_to_json(t) FROM $tbl t" >>"$DUMP" 2>/dev/null || true
done
SECRETS=("$A1_TOKEN" "$A2_TOKEN" "$ADMIN" "$OPER" "$FORGE_SECRET" "$DB_PASSWORD_MARK")
[ -n "$NEWTOK" ] && SECRETS+=("$NEWTOK")
drover_stop || true
for s in "${SECRETS[@]}"; do
    [ -n "$s" ] || continue
    grep -qF -- "$s" "$DROVER_LOG" && fail "a secret (${s:0:8}...) appears in droverd's log"
    grep -qF -- "$s" "$DUMP" && fail "a secret (${s:0:8}...) appears in database rows"
    # The one response allowed to carry a token is the one that created it.
    hits=$(grep -cF -- "$s" "$RESPONSES" || true)
    if [ "$s" = "$NEWTOK" ]; then
        [ "$hits" -le 1 ] || fail "the new token appears in $hits API responses (only its creation may show it)"
    else
        [ "$hits" = 0 ] || fail "a secret (${s:0:8}...) appears in an API response"
    fi
done
[ -s "$DROVER_LOG" ] || fail "droverd wrote no log to scan"
pass "no token, forge credential or password in droverd's log ($(wc -l <"$DROVER_LOG") lines), database rows or $(wc -l <"$RESPONSES") API responses"
