#!/usr/bin/env bash
# droverd serve's configuration and the token command: --help lists every setting, bad values
# stop the start with a message naming the setting and exit 2, an unreachable database exits 1,
# token create prints a usable token (agent scope: eval-able lines), token revoke.
# Every droverd that should refuse to start runs under `timeout`: one that starts after all
# (a bad setting accepted, a database reached) fails the step instead of serving forever.
. "$(dirname "$0")/lib.sh"
drover_e2e_init

help=$("$DROVERD" serve --help) || fail "serve --help exited non-zero"
for flag in listen database-url workers max-body lease-seconds heartbeat-interval heartbeat-batch long-poll-max \
    auth allowed-origins allowed-hosts max-connections idle-timeout sweep-interval log-level \
    event-loop max-tasks-per-agent max-connections-per-address rate-limit rate-burst \
    max-streams-per-token; do
    grep -q -- "--$flag" <<<"$help" || fail "serve --help does not list --$flag"
done
grep -q DROVER_LISTEN <<<"$help" || fail "serve --help does not name the environment variables"
pass "serve --help lists every setting with its environment variable"

bad() { # bad EXPECTED-WORD ARGS... : must exit 2 and mention EXPECTED-WORD
    local want=$1 out rc=0
    shift
    out=$(timeout 20 "$@" 2>&1) || rc=$?
    [ $rc = 2 ] || fail "$* exited $rc, wanted 2: $out"
    grep -q -- "$want" <<<"$out" || fail "$*: message does not mention $want: $out"
}
bad --listen "$DROVERD" serve --listen nope
bad --listen "$DROVERD" serve --listen 127.0.0.1:70000
bad --workers "$DROVERD" serve --workers 0
bad --long-poll-max "$DROVERD" serve --long-poll-max 9999
bad --max-tasks-per-agent "$DROVERD" serve --max-tasks-per-agent 0
bad --rate-limit "$DROVERD" serve --rate-limit -1
bad loopback "$DROVERD" serve --listen 0.0.0.0:18199 --auth off
bad --auth "$DROVERD" serve --auth maybe
bad DROVER_WORKERS env DROVER_WORKERS=lots "$DROVERD" serve
bad bogus "$DROVERD" serve --bogus 1
bad --event-loop "$DROVERD" serve --event-loop select
pass "bad settings exit 2 naming the setting"

# Both event loops serve: libev/epoll (the default) and lws's own poll() loop.
for loop in epoll poll; do
    "$DROVERD" serve --listen 127.0.0.1:0 --pod-backend none --event-loop $loop \
        >"$DROVER_TMP/loop.$loop" 2>&1 &
    p=$!
    port=""
    for _ in $(seq 100); do
        port=$(sed -n 's/^droverd listening on .*:\([0-9]*\)$/\1/p' "$DROVER_TMP/loop.$loop")
        [ -n "$port" ] && break
        sleep 0.1
    done
    [ -n "$port" ] || fail "--event-loop $loop: droverd did not start: $(cat "$DROVER_TMP/loop.$loop")"
    curl -fsS "http://127.0.0.1:$port/health" | grep -q '"ok"' || fail "--event-loop $loop: /health"
    want="event loop: libev (epoll)"
    [ $loop = epoll ] || want="event loop: poll"
    grep -q "$want" "$DROVER_TMP/loop.$loop" || fail "--event-loop $loop: no '$want' in the log"
    kill -TERM $p
    drover_wait_pid 30 $p || fail "--event-loop $loop: exit $? after SIGTERM"
done
pass "--event-loop epoll (libev) and poll both serve and stop cleanly"

rc=0
out=$(PGHOST=/nonexistent PGPORT=1 timeout 30 "$DROVERD" serve --listen 127.0.0.1:18199 2>&1) || rc=$?
[ $rc = 1 ] || fail "unreachable database: exit $rc, wanted 1: $out"
grep -qi "database" <<<"$out" || fail "unreachable database: unclear message: $out"
pass "an unreachable database exits 1 with a message"

rc=0
out=$(timeout 30 "$DROVERD" serve --listen 192.0.2.1:18199 2>&1) || rc=$?
[ $rc = 1 ] || fail "an address not on this host: exit $rc, wanted 1: $out"
grep -q "cannot listen" <<<"$out" || fail "an address not on this host: unclear message: $out"
pass "an address that is not this host's exits 1 instead of running without a listener"

rc=0
"$DROVERD" token create --scope root --name x >/dev/null 2>&1 || rc=$?
[ $rc = 2 ] || fail "token create with a bad scope: exit $rc"
out=$(drover_token operator cli-op)
[[ $out =~ ^drv_[0-9a-f]{64}$ ]] || fail "operator token create printed '$out'"
out=$(drover_token agent cli-agent)
grep -Eq '^AGENT_ID=[0-9a-f-]{36}$' <<<"$out" || fail "agent token create: no AGENT_ID line: $out"
grep -Eq '^DROVER_TOKEN=drv_[0-9a-f]{64}$' <<<"$out" || fail "agent token create: no DROVER_TOKEN line"
eval "$out"
[ "$(drover_psql "SELECT count(*) FROM agents WHERE id = '$AGENT_ID'")" = 1 ] || fail "agent not registered"
pass "token create (operator and agent scope)"
"$DROVERD" token revoke cli-agent 2>/dev/null || fail "token revoke by name failed"
[ "$(drover_psql "SELECT count(*) FROM api_tokens WHERE name = 'cli-agent' AND revoked_at IS NOT NULL")" = 1 ] ||
    fail "token not revoked"
rc=0
"$DROVERD" token revoke no-such-token 2>/dev/null || rc=$?
[ $rc = 1 ] || fail "revoking an unknown token: exit $rc"
pass "token revoke"
