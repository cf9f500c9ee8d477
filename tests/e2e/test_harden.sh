#!/usr/bin/env bash
# Server hardening (issue 13), each route of attack against a real droverd and PostgreSQL:
# the fence on every task tool (trigger_preview_deploy after completion and after the lease
# expired), the per-agent limit of tasks in progress, heartbeats that name other agents' tasks,
# usage that only goes up and only takes non-negative numbers, log lines from a former holder
# (grace, then refused; control characters refused), fan-out groups never claimed and their
# retry re-queuing the children, idempotency namespaces and 409 on reuse with another body, a
# negative Content-Length, h2c, the default origins, /ready, per-token rate limits, per-address
# connection caps, descriptor exhaustion (no spin, existing connections served, recovery), and
# event streams of a revoked token (ended) and per-token stream bounds.
DROVER_PORT_RANGE=${DROVER_HARDEN_PORTS:-19400-19439}
. "$(dirname "$0")/lib.sh"
drover_e2e_init
command -v python3 >/dev/null || drover_skip "python3 not installed"

eval "$(drover_token agent h-agent-1)"
A1_TOKEN=$DROVER_TOKEN A1=$AGENT_ID
eval "$(drover_token agent h-agent-2)"
A2_TOKEN=$DROVER_TOKEN
ADMIN=$(drover_token admin h-admin)
drover_start --max-tasks-per-agent 1 --sweep-interval 3600
PORT=${DROVER_URL##*:}
CT='Content-Type: application/json'

req() { # req METHOD PATH BODY [curl args...] -> STATUS, BODY, HDRS
    local m=$1 p=$2 b=$3
    shift 3
    BODY=$(curl -s -X "$m" -D "$DROVER_TMP/hdrs" -o - -w '\n%{http_code}' --max-time 20 "$@" \
        ${b:+--data-binary "$b"} "$DROVER_URL$p")
    STATUS=${BODY##*$'\n'}
    BODY=${BODY%$'\n'*}
}
call() { # call TOKEN TOOL ARGS
    req POST /tools/call "{\"name\":\"$2\",\"arguments\":$3}" -H "$CT" -H "Authorization: Bearer $1"
}
tool_error() {
    jq -r '(.error.code // (if .isError then (.content[0].text | fromjson | .error.code) else "" end)) // ""' <<<"$BODY" 2>/dev/null
}
tool_json() { jq -c '.content[0].text | fromjson' <<<"$BODY" 2>/dev/null; }
admin() { req "$@" -H "$CT" -H "Authorization: Bearer $ADMIN"; }
claim() { # claim TOKEN -> TID, EPOCH ("" when no task)
    call "$1" get_next_task '{"wait_seconds":0}'
    TID=$(tool_json | jq -r '.task.id // empty')
    EPOCH=$(tool_json | jq -r '.task.lease_epoch // empty')
}

# ---- the fence: trigger_preview_deploy after completion / after the lease expired ----------
REPO=$(drover_repo)
PID=$("$DROVERD" project add --name hp --repo-url "$REPO" \
    --settings '{"preview_webhook": "http://127.0.0.1:9/never"}' | sed -n 's/^PROJECT_ID=//p')
[ -n "$PID" ] || fail "project add failed"
T1=$(drover_psql "INSERT INTO tasks (title, project_id, priority) VALUES ('fence-1', $PID, 10) RETURNING id")
T2=$(drover_psql "INSERT INTO tasks (title, project_id, priority) VALUES ('fence-2', $PID, 9) RETURNING id")
claim "$A1_TOKEN"
[ "$TID" = "$T1" ] || fail "agent 1 claimed '$TID', wanted $T1: $BODY"
E1=$EPOCH
# The per-agent limit: a second claim while holding one answers no task.
claim "$A1_TOKEN"
[ -z "$TID" ] || fail "agent 1 claimed a second task ($TID) past --max-tasks-per-agent 1"
[ "$(drover_psql "SELECT state FROM tasks WHERE id = $T2")" = backlog ] || fail "task 2 left the backlog"
claim "$A2_TOKEN"
[ "$TID" = "$T2" ] || fail "agent 2 could not claim task 2: $BODY"
E2=$EPOCH
pass "an agent holds at most --max-tasks-per-agent tasks; others still claim"

# A heartbeat that names another agent's task learns nothing about it.
call "$A2_TOKEN" heartbeat "{\"status\":\"busy\",\"task_ids\":[$T1, $T2]}"
st=$(tool_json | jq -c "[.tasks[] | select(.id == $T1)][0]")
[ "$(jq -r .cancelled <<<"$st")" = true ] || fail "heartbeat: another agent's task not reported as not held: $st"
[ "$(jq -r .state <<<"$st")" = null ] || fail "heartbeat leaked another agent's task state: $st"
st=$(tool_json | jq -c "[.tasks[] | select(.id == $T2)][0]")
[ "$(jq -r .state <<<"$st")" = in_progress ] || fail "heartbeat: own task missing: $BODY"
pass "heartbeat answers only about the caller's own tasks"

# Lease expired: the preview webhook is not called.
drover_psql "UPDATE tasks SET lease_expires_at = now() - interval '1 second' WHERE id = $T1" >/dev/null
call "$A1_TOKEN" trigger_preview_deploy "{\"task_id\":$T1,\"lease_epoch\":$E1}"
e=$(tool_error)
# The pool's reaper runs on its own clock: when it has already returned the task to the
# backlog, the refusal is 'conflict' (not in progress) rather than 'stale_epoch' (expired).
if [ "$e" != stale_epoch ]; then
    [ "$e" = conflict ] && [ "$(drover_psql "SELECT state FROM tasks WHERE id = $T1")" = backlog ] ||
        fail "preview after the lease expired: '$e' (wanted stale_epoch): $BODY"
fi
# The pool's reaper may have returned it to the backlog meanwhile: agent 1 takes it again.
drover_psql "UPDATE tasks SET lease_expires_at = now() + interval '1 hour' WHERE id = $T1 AND state = 'in_progress'" >/dev/null
if [ "$(drover_psql "SELECT state FROM tasks WHERE id = $T1")" = backlog ]; then
    call "$A1_TOKEN" heartbeat '{"status":"idle"}' # the reaper marked it offline
    claim "$A1_TOKEN"
    [ "$TID" = "$T1" ] || fail "agent 1 could not take task 1 back: $BODY"
    E1=$EPOCH
fi
# Completed: refused as well.
call "$A2_TOKEN" update_task_status "{\"task_id\":$T2,\"lease_epoch\":$E2,\"status\":\"completed\"}"
[ -z "$(tool_error)" ] || fail "completing task 2: $BODY"
call "$A2_TOKEN" trigger_preview_deploy "{\"task_id\":$T2,\"lease_epoch\":$E2}"
e=$(tool_error)
[ "$e" = conflict ] || fail "preview after completion: '$e' (wanted conflict): $BODY"
[ "$(drover_psql "SELECT count(*) FROM tasks WHERE preview_url IS NOT NULL")" = 0 ] || fail "a preview was recorded"
pass "trigger_preview_deploy refused after the lease expired and after completion"

# ---- log_activity by a former holder: a short grace, then closed; control characters ----
call "$A2_TOKEN" log_activity "{\"task_id\":$T2,\"entries\":[{\"message\":\"late line\"}]}"
[ -z "$(tool_error)" ] || fail "a late line within the grace was refused: $BODY"
call "$A1_TOKEN" log_activity "{\"task_id\":$T2,\"entries\":[{\"message\":\"not mine\"}]}"
[ "$(tool_error)" = forbidden ] || fail "another agent logged on task 2: $BODY"
drover_psql "UPDATE tasks SET released_at = now() - interval '1 hour' WHERE id = $T2" >/dev/null
call "$A2_TOKEN" log_activity "{\"task_id\":$T2,\"entries\":[{\"message\":\"much later\"}]}"
[ "$(tool_error)" = conflict ] || fail "a former holder logged after the grace: $BODY"
[ "$(drover_psql "SELECT count(*) FROM activity WHERE message IN ('much later', 'not mine')")" = 0 ] ||
    fail "refused log lines landed"
for m in '"\u001b]0;owned\u0007"' '"ok\r[32mtests passed"' '"\u0000x"' '"a\u007fb"'; do
    call "$A1_TOKEN" log_activity "{\"task_id\":$T1,\"entries\":[{\"message\":$m}]}"
    [ -n "$(tool_error)" ] || fail "a log line with control characters was accepted: $m"
done
call "$A1_TOKEN" log_activity "{\"task_id\":$T1,\"entries\":[{\"message\":\"tab\\tand\\nnewline\"}]}"
[ -z "$(tool_error)" ] || fail "tab and newline refused: $BODY"
pass "former holder: late lines within the grace, refused after; C0 controls refused"

# ---- usage: non-negative numbers only, bounded, totals never go down ------------------------
call "$A1_TOKEN" heartbeat '{"status":"busy","usage":{"tokens":90,"usd":1.5}}'
call "$A1_TOKEN" heartbeat '{"status":"busy","usage":{"tokens":5}}'
[ "$(drover_psql "SELECT usage->>'tokens' FROM tasks WHERE id = $T1")" = 90 ] ||
    fail "usage went down: $(drover_psql "SELECT usage FROM tasks WHERE id = $T1")"
[ "$(drover_psql "SELECT usage->>'usd' FROM tasks WHERE id = $T1")" = 1.5 ] || fail "usage lost a key"
for u in '{"tokens":"lots"}' '{"tokens":-1}' '{"tokens":null}' '[1]' \
    "$(python3 -c 'import json; print(json.dumps({f"k{i}": 1 for i in range(17)}))')"; do
    call "$A1_TOKEN" heartbeat "{\"status\":\"busy\",\"usage\":$u}"
    [ -n "$(tool_error)" ] || [ "$STATUS" != 200 ] || fail "usage $u accepted: $BODY"
done
[ "$(drover_psql "SELECT usage->>'tokens' FROM tasks WHERE id = $T1")" = 90 ] || fail "refused usage changed the total"
# The budget trips on the merged total, whatever the latest report says.
drover_psql "UPDATE tasks SET budget = '{\"tokens\": 100}' WHERE id = $T1" >/dev/null
call "$A1_TOKEN" heartbeat '{"status":"busy","usage":{"tokens":150}}'
call "$A1_TOKEN" heartbeat '{"status":"busy","usage":{"tokens":1}}'
[ "$(drover_psql "SELECT state || ':' || reason || ':' || (usage->>'tokens') FROM tasks WHERE id = $T1")" = needs_input:budget:150 ] ||
    fail "budget: $(drover_psql "SELECT state, reason, usage FROM tasks WHERE id = $T1")"
pass "usage: numbers >= 0 only, at most 16 keys, per-key maximum kept; the budget trips on it"

# ---- fan-out groups: never claimed; retry re-queues the children ---------------------------
admin POST /api/tasks "{\"title\":\"grp\",\"prompt\":\"p\",\"repository\":\"$REPO\",\"agent_count\":2}"
[ "$STATUS" = 202 ] || fail "group submit: $STATUS $BODY"
G=$(jq -r .id <<<"$BODY")
admin POST "/api/tasks/$G/cancel" '{}'
[ "$STATUS" = 200 ] || fail "group cancel: $STATUS $BODY"
[ "$(drover_psql "SELECT count(*) FROM tasks WHERE parent_id = $G AND state = 'cancelled'")" = 2 ] || fail "children not cancelled"
admin POST "/api/tasks/$G/retry" '{}'
[ "$STATUS" = 200 ] || fail "group retry: $STATUS $BODY"
[ "$(drover_psql "SELECT state FROM tasks WHERE id = $G")" = in_progress ] ||
    fail "retried group is $(drover_psql "SELECT state FROM tasks WHERE id = $G"), wanted in_progress (open)"
[ "$(drover_psql "SELECT count(*) FROM tasks WHERE parent_id = $G AND state = 'backlog'")" = 2 ] ||
    fail "retry did not re-queue the children: $(drover_psql "SELECT id, state FROM tasks WHERE parent_id = $G")"
# Even a group parent put in the backlog by hand is never claimed.
drover_psql "UPDATE tasks SET state = 'backlog', agent_id = NULL, priority = 1000 WHERE id = $G" >/dev/null
eval "$(drover_token agent h-agent-3)"
A3_TOKEN=$DROVER_TOKEN
claim "$A3_TOKEN"
[ -n "$TID" ] && [ "$TID" != "$G" ] || fail "claim took the group parent ($TID) or nothing"
[ "$(drover_psql "SELECT parent_id FROM tasks WHERE id = $TID")" = "$G" ] || fail "claim did not take a child"
pass "groups are never claimed; retrying a cancelled group re-queues its children"

# ---- idempotency keys ----------------------------------------------------------------------
body="{\"title\":\"idem\",\"prompt\":\"p\",\"repository\":\"$REPO\"}"
for k in 'race-1#2' 'schedule:1:2' $'bad\x01key'; do
    admin POST /api/tasks "$body" -H "Idempotency-Key: $k"
    [ "$STATUS" = 400 ] || fail "client key '$k' in a server namespace: HTTP $STATUS $BODY"
done
admin POST /api/tasks "$body" -H "Idempotency-Key: idem-1"
[ "$STATUS" = 202 ] || fail "keyed submit: $STATUS $BODY"
I1=$(jq -r .id <<<"$BODY")
admin POST /api/tasks "$body" -H "Idempotency-Key: idem-1"
[ "$STATUS" = 202 ] && [ "$(jq -r .id <<<"$BODY")" = "$I1" ] && [ "$(jq -r .created <<<"$BODY")" = false ] ||
    fail "same key, same body: $STATUS $BODY"
admin POST /api/tasks "{\"title\":\"other\",\"prompt\":\"p\",\"repository\":\"$REPO\"}" -H "Idempotency-Key: idem-1"
[ "$STATUS" = 409 ] || fail "same key, another body: HTTP $STATUS $BODY"
admin POST /api/tasks "${body%\}},\"agent_count\":2}" -H "Idempotency-Key: idem-1"
[ "$STATUS" = 409 ] || fail "same key as a group: HTTP $STATUS $BODY"
pass "idempotency: server namespaces refused to clients; 409 on reuse with another body"

# ---- Alertmanager: the drover_project label chooses only where allowed; titles cut on UTF-8 --
alert() { # alert GROUPKEY ALERTNAME LABEL-PROJECT -> JSON payload
    jq -cn --arg k "$1" --arg n "$2" --arg p "$3" '{version: "4", groupKey: $k, status: "firing",
        commonLabels: {alertname: $n, drover_project: $p}, alerts: [{status: "firing", labels: {alertname: $n}}]}'
}
admin POST /api/hooks/alertmanager "$(alert g1 Disk hp)"
[ "$STATUS" = 403 ] || fail "a drover_project label chose a project without the receiver opting in: $STATUS $BODY"
admin POST "/api/hooks/alertmanager?projects=other,x" "$(alert g1 Disk hp)"
[ "$STATUS" = 403 ] || fail "a drover_project label outside ?projects= was taken: $STATUS $BODY"
admin POST "/api/hooks/alertmanager?projects=other,hp" "$(alert g1 Disk hp)"
[ "$STATUS" = 202 ] || fail "an allowed drover_project label was refused: $STATUS $BODY"
long=$(python3 -c 'print("x" + "é" * 150)') # byte 200 falls inside a two-byte character
admin POST "/api/hooks/alertmanager?project=hp" "$(alert g2 "$long" other)"
[ "$STATUS" = 202 ] || fail "an alert with a long multibyte name was refused: $STATUS $BODY"
title=$(jq -r .task.title <<<"$BODY")
[[ $title == "Alert: x"*"é (1 firing)" ]] || fail "alert title cut badly: $title"
pass "alerts: the drover_project label only where the URL allows it; titles cut on a character"

# ---- droverctl: control characters visible on a terminal; the token off the command line ----
CTL=$DROVER_BUILD_DIR/agent/droverctl
drover_psql "UPDATE tasks SET last_error = E'\\x1b]0;owned\\x07\\x1b[2K\\rtests passed \\xc2\\x9b31m', question = E'q\\x1b[1A' WHERE id = $T1" >/dev/null
# droverctl on a pseudo-terminal, as an operator runs it; the check reads the raw bytes
python3 - "$CTL" "$DROVER_URL" "$ADMIN" "$T1" <<'EOF' || fail "droverctl on a terminal: see above"
import os, pty, subprocess, sys
ctl, url, tok, tid = sys.argv[1:5]
m, s = pty.openpty()
env = dict(os.environ, DROVER_URL=url, DROVER_TOKEN=tok)
p = subprocess.Popen([ctl, "task", "show", tid], stdout=s, stderr=s, env=env)
os.close(s)
out = b""
while True:
    try:
        b = os.read(m, 65536)
    except OSError:
        break
    if not b:
        break
    out += b
p.wait(timeout=20)
bad = [c for c in out if (c < 0x20 and c not in (9, 10, 13)) or c == 0x7f]
if bad or b"\r" in out.replace(b"\r\n", b"") or b"\xc2\x9b" in out or b"\\x1b]0;owned" not in out:
    print("droverctl wrote to a terminal:", out, file=sys.stderr)
    sys.exit(1)
EOF
pass "droverctl renders control characters visibly on a terminal"
printf '%s\n' "$ADMIN" >"$DROVER_TMP/tokfile"
"$CTL" --url "$DROVER_URL" --token-file "$DROVER_TMP/tokfile" task show "$T1" >/dev/null || fail "--token-file"
printf '%s\n' "$ADMIN" | "$CTL" --url "$DROVER_URL" --token-file - task show "$T1" >/dev/null || fail "--token-file -"
"$CTL" --url "$DROVER_URL" --token "$ADMIN" task logs -f "$T1" >/dev/null 2>&1 &
CPID=$!
sleep 1
kill -0 $CPID 2>/dev/null || fail "droverctl task logs -f exited"
tr '\0' ' ' <"/proc/$CPID/cmdline" | grep -qF "$ADMIN" && fail "the token is visible in droverctl's command line"
kill $CPID
wait $CPID 2>/dev/null
pass "droverctl: --token-file (and stdin); --token scrubbed from its command line"

# ---- HTTP framing: Content-Length -5, h2c, origins, /ready ---------------------------------
raw() { # raw BYTES -> what droverd answered before closing (bounded)
    python3 - "$PORT" "$1" <<'EOF'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
out, end = b"", time.time() + 5
s.settimeout(1)
while time.time() < end:
    try:
        b = s.recv(65536)
    except socket.timeout:
        continue
    if not b:
        break
    out += b
print(out.decode("latin-1"))
EOF
}
smuggled="GET /health HTTP/1.1\\r\\nHost: 127.0.0.1:$PORT\\r\\n\\r\\n"
out=$(raw "POST /api/tasks HTTP/1.1\\r\\nHost: 127.0.0.1:$PORT\\r\\nAuthorization: Bearer $ADMIN\\r\\nContent-Type: application/json\\r\\nContent-Length: -5\\r\\n\\r\\n$smuggled")
grep -q '^HTTP/1.1 400' <<<"$out" || fail "Content-Length -5: $(head -1 <<<"$out")"
[ "$(grep -c '^HTTP/1.1' <<<"$out")" = 1 ] || fail "Content-Length -5: the rest was read as another request: $out"
out=$(raw "GET /health HTTP/1.1\\r\\nHost: 127.0.0.1:$PORT\\r\\nConnection: Upgrade, HTTP2-Settings\\r\\nUpgrade: h2c\\r\\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\\r\\n\\r\\n")
! grep -q '101 Switching' <<<"$out" || fail "h2c upgrade accepted: $out"
pass "Content-Length -5: 400 and closed; h2c refused"

req GET /api/whoami '' -H "Authorization: Bearer $ADMIN" -H "Origin: http://localhost"
[ "$STATUS" = 403 ] || fail "Origin http://localhost (port 80) allowed by default: $STATUS"
req GET /api/whoami '' -H "Authorization: Bearer $ADMIN" -H "Origin: http://127.0.0.1"
[ "$STATUS" = 403 ] || fail "Origin http://127.0.0.1 (port 80) allowed by default: $STATUS"
req GET /api/whoami '' -H "Authorization: Bearer $ADMIN" -H "Origin: http://127.0.0.1:$PORT"
[ "$STATUS" = 200 ] || fail "the listen address's own origin refused: $STATUS"
req GET /ready ''
[ "$STATUS" = 200 ] && [ "$(jq -c 'keys' <<<"$BODY")" = '["status"]' ] || fail "/ready: $STATUS $BODY"
pass "default origins: only the listen address's own; /ready answers a status only"

# ---- event streams: a revoked token's stream ends; streams per token are bounded -----------
VIEWER=$(drover_token operator h-viewer2)
curl -s -N --max-time 40 -H "Authorization: Bearer $VIEWER" "$DROVER_URL/api/stream/activity" >"$DROVER_TMP/sse" &
SSE_PID=$!
sleep 1
kill -0 $SSE_PID 2>/dev/null || fail "the event stream did not stay open"
"$DROVERD" token revoke h-viewer2 >/dev/null || fail "token revoke failed"
t0=$(date +%s)
wait $SSE_PID
dt=$(($(date +%s) - t0))
[ "$dt" -lt 30 ] || fail "a revoked token's stream stayed open ${dt}s"
pass "an event stream ends within ${dt}s of its token being revoked"
drover_stop

# ---- per-token rate limits and per-stream bounds (a droverd with small limits) ------------
drover_start --rate-limit 2 --rate-burst 5 --max-streams-per-token 2
PORT=${DROVER_URL##*:}
codes=""
for i in $(seq 1 12); do
    req GET /api/whoami '' -H "Authorization: Bearer $ADMIN"
    codes="$codes $STATUS"
    # The 429's own headers: on a loaded machine the bucket may refill before the last request.
    if [ "$STATUS" = 429 ]; then cp "$DROVER_TMP/hdrs" "$DROVER_TMP/hdrs.429"; fi
done
grep -q 429 <<<"$codes" || fail "no 429 after 12 requests at --rate-limit 2 --rate-burst 5: $codes"
grep -qi '^retry-after: [1-9]' "$DROVER_TMP/hdrs.429" || fail "429 without Retry-After: $(cat "$DROVER_TMP/hdrs.429")"
call "$A1_TOKEN" heartbeat '{"status":"idle"}'
[ "$STATUS" = 200 ] || fail "another token was limited by the admin's flood: $STATUS"
sleep 3
req GET /api/whoami '' -H "Authorization: Bearer $ADMIN"
[ "$STATUS" = 200 ] || fail "the limited token did not recover: $STATUS"
pass "per-token rate limit: 429 + Retry-After, other tokens unaffected, refills"
# Over WebSocket: a limited request is answered with its own id (not null), a limited
# notification not at all, and every request gets exactly one answer.
cat >"$DROVER_TMP/wsflood.py" <<'PY'
import base64, json, os, socket, struct, sys, time
port, token = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port))
key = base64.b64encode(os.urandom(16)).decode()
s.sendall((f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
           f"Sec-WebSocket-Protocol: mcp\r\nAuthorization: Bearer {token}\r\n\r\n").encode())
buf = b""
while b"\r\n\r\n" not in buf:
    buf += s.recv(4096)
head, buf = buf.split(b"\r\n\r\n", 1)
if b" 101 " not in head.split(b"\r\n")[0]:
    sys.exit("no upgrade: " + head.decode(errors="replace"))
def send(obj):
    p, m = json.dumps(obj).encode(), os.urandom(4)
    n = len(p)
    h = bytes([0x81, 0x80 | n]) if n < 126 else bytes([0x81, 0xFE]) + struct.pack(">H", n)
    s.sendall(h + m + bytes(b ^ m[i % 4] for i, b in enumerate(p)))
for i in range(12):
    send({"jsonrpc": "2.0", "id": 1000 + i, "method": "ping"})
    send({"jsonrpc": "2.0", "method": "notifications/initialized"})
s.settimeout(0.5)
end = time.time() + 4
while time.time() < end:
    try:
        d = s.recv(65536)
    except socket.timeout:
        continue
    if not d:
        break
    buf += d
while len(buf) >= 2:
    n, off = buf[1] & 0x7F, 2
    if n == 126:
        n, off = struct.unpack(">H", buf[2:4])[0], 4
    elif n == 127:
        n, off = struct.unpack(">Q", buf[2:10])[0], 10
    if len(buf) < off + n:
        break
    if buf[0] & 0x0F == 1:
        print(buf[off:off + n].decode())
    buf = buf[off + n:]
PY
wsout=$DROVER_TMP/wsflood.out
python3 "$DROVER_TMP/wsflood.py" "$PORT" "$A1_TOKEN" >"$wsout" 2>&1 || fail "ws flood: $(cat "$wsout")"
[ "$(jq -s 'length' "$wsout")" = 12 ] || fail "not one ws answer per request: $(cat "$wsout")"
[ "$(jq -s '[.[] | .id] | sort == [range(1000; 1012)]' "$wsout")" = true ] || fail "ws answers' ids: $(cat "$wsout")"
[ "$(jq -s '[.[] | select(.error.code == -32000 and (.error.message | test("rate limit")))] | length > 0' "$wsout")" = true ] ||
  fail "no rate-limited ws answer to 24 messages at --rate-burst 5: $(cat "$wsout")"
[ "$(jq -s '[.[] | select(.error.code == -32000) | .error.data.retry_after_s >= 1] | all' "$wsout")" = true ] ||
  fail "a rate-limited ws answer without retry_after_s: $(cat "$wsout")"
pass "ws rate limit: a limited request answered with its own id, a notification not at all"
for i in 1 2; do
    curl -s -N --max-time 10 -H "Authorization: Bearer $ADMIN" "$DROVER_URL/api/stream/activity" >/dev/null &
done
sleep 1.5
req GET /api/stream/activity '' -H "Authorization: Bearer $ADMIN" --max-time 3
[ "$STATUS" = 429 ] || fail "a third stream with --max-streams-per-token 2: HTTP $STATUS"
pass "event streams per token are bounded"
drover_stop

# ---- connections: per-address cap; descriptor exhaustion without a spin; recovery ----------
hold() { # hold N SRC-ADDR SECONDS: N idle connections from SRC-ADDR, in the background
    python3 - "$PORT" "$1" "$2" "$3" <<'EOF' &
import socket, sys, time
port, n, src, secs = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
socks = []
for _ in range(n):
    try:
        s = socket.socket()
        s.bind((src, 0))
        s.settimeout(2)
        s.connect(("127.0.0.1", port))
        socks.append(s)
    except OSError:
        pass
time.sleep(secs)
EOF
    HOLD_PID=$!
}
drover_start --max-connections 64 --max-connections-per-address 10
PORT=${DROVER_URL##*:}
hold 30 127.0.0.2 8
sleep 2
curl -fsS --max-time 3 -o /dev/null --interface 127.0.0.3 "$DROVER_URL/health" ||
    fail "another address could not connect while one held its cap"
! curl -fsS --max-time 3 -o /dev/null --interface 127.0.0.2 "$DROVER_URL/health" 2>/dev/null ||
    fail "an address past --max-connections-per-address was served"
grep -q "refusing connections from 127.0.0.2" "$DROVER_LOG" || fail "the refusal was not logged"
kill $HOLD_PID 2>/dev/null
wait $HOLD_PID 2>/dev/null
sleep 1
curl -fsS --max-time 3 -o /dev/null --interface 127.0.0.2 "$DROVER_URL/health" ||
    fail "the address was not served again after its connections closed"
pass "connections per address capped; others served; the address recovers"
drover_stop

drover_start --max-connections 64 --max-connections-per-address 1000
PORT=${DROVER_URL##*:}
# One keep-alive connection opened before the flood must keep being served through it.
exec 7<>"/dev/tcp/127.0.0.1/$PORT"
printf 'GET /health HTTP/1.1\r\nHost: 127.0.0.1:%s\r\n\r\n' "$PORT" >&7
read -r -t 5 line <&7 && [[ $line == *200* ]] || fail "keep-alive connection: $line"
log0=$(stat -c %s "$DROVER_LOG")
cpu0=$(awk '{print $14 + $15}' "/proc/$DROVER_PID/stat")
hold 300 127.0.0.4 14
sleep 5
cpu1=$(awk '{print $14 + $15}' "/proc/$DROVER_PID/stat")
log1=$(stat -c %s "$DROVER_LOG")
ticks=$(getconf CLK_TCK)
[ $((cpu1 - cpu0)) -lt $((ticks * 5 / 2)) ] || fail "droverd spun: $((cpu1 - cpu0)) ticks of CPU in 5 s with the descriptors exhausted"
[ $((log1 - log0)) -lt 200000 ] || fail "the log grew $((log1 - log0)) bytes in 5 s"
# drain what the first request left, then ask again on the same connection
timeout 2 cat <&7 >/dev/null 2>&1 || true
printf 'GET /health HTTP/1.1\r\nHost: 127.0.0.1:%s\r\n\r\n' "$PORT" >&7
read -r -t 5 line <&7 && [[ $line == *200* ]] || fail "an existing connection was not served during the flood: '$line'"
exec 7>&-
wait $HOLD_PID 2>/dev/null
ok=""
for _ in $(seq 1 50); do
    curl -fsS --max-time 2 -o /dev/null "$DROVER_URL/health" && ok=1 && break
    sleep 0.2
done
[ -n "$ok" ] || fail "droverd did not accept again after the idle connections closed"
pass "descriptors exhausted: no spin (CPU $((cpu1 - cpu0))/${ticks} ticks, log +$((log1 - log0)) B), existing connection served, recovered"
drover_stop || fail "droverd did not stop cleanly"
