#!/usr/bin/env bash
# The transport's server-sent-events facility through GET /api/stream/activity: live events
# on NOTIFY, `id:` lines, resuming with Last-Event-ID, scope checks, and SIGTERM ending streams.
. "$(dirname "$0")/lib.sh"
drover_e2e_init

OPERATOR=$(drover_token operator e2e-op)
eval "$(drover_token agent e2e-sse-agent)"
drover_start

TID=$(drover_enqueue "Streamed")
drover_psql "INSERT INTO activity (task_id, kind, message) VALUES ($TID, 'log', 'first')" >/dev/null
FIRST=$(drover_psql "SELECT max(id) FROM activity")

# (--max-time: the stream stays open until droverd stops, below; this bounds it if it does not.)
curl -s -N --max-time 120 -H "Authorization: Bearer $OPERATOR" "$DROVER_URL/api/stream/activity?task_id=$TID" \
    -D "$DROVER_TMP/sse.h" >"$DROVER_TMP/sse.out" &
CURL=$!
sleep 0.5
START=$(date +%s%N)
drover_psql "INSERT INTO activity (task_id, kind, message) VALUES ($TID, 'log', 'live line')" >/dev/null
for _ in $(seq 1 40); do
    grep -q 'live line' "$DROVER_TMP/sse.out" && break
    sleep 0.05
done
MS=$((($(date +%s%N) - START) / 1000000))
grep -q 'live line' "$DROVER_TMP/sse.out" || fail "live event not streamed: $(cat "$DROVER_TMP/sse.out")"
pass "a new activity row is streamed (${MS} ms)"
grep -qi '^content-type: text/event-stream' "$DROVER_TMP/sse.h" || fail "not text/event-stream"
pass "content-type text/event-stream"
grep -q "^id: $FIRST\$" "$DROVER_TMP/sse.out" || fail "no id: line for the earlier row"
grep -q '^data: {' "$DROVER_TMP/sse.out" || fail "no data: lines"
pass "events carry id: and data: lines"
# another task's rows are filtered out
OTHER=$(drover_enqueue "Other")
drover_psql "INSERT INTO activity (task_id, kind, message) VALUES ($OTHER, 'log', 'not mine')" >/dev/null
sleep 0.5
grep -q 'not mine' "$DROVER_TMP/sse.out" && fail "the task_id filter leaked another task's row"
pass "task_id filter"

# resume after the first row: only later rows come
timeout 2 curl -s -N -H "Authorization: Bearer $OPERATOR" -H "Last-Event-ID: $FIRST" \
    "$DROVER_URL/api/stream/activity?task_id=$TID" >"$DROVER_TMP/resume.out" || true
grep -q 'live line' "$DROVER_TMP/resume.out" || fail "resume missed the later row"
grep -q '"first"' "$DROVER_TMP/resume.out" && fail "resume replayed a row before Last-Event-ID"
pass "Last-Event-ID resumes exactly"

code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $DROVER_TOKEN" "$DROVER_URL/api/stream/activity")
[ "$code" = 403 ] || fail "agent token on the stream: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $OPERATOR" "$DROVER_URL/api/stream/activity?task_id=x")
[ "$code" = 400 ] || fail "bad task_id: $code"
pass "scope and parameter checks"

START=$(date +%s%N)
drover_stop || fail "droverd exited non-zero with a stream open"
drover_wait_pid 30 $CURL || true
pass "SIGTERM ends open streams and exits 0 in $((($(date +%s%N) - START) / 1000000)) ms"
