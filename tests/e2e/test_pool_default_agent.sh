#!/usr/bin/env bash
# `droverd serve --pod-backend process` without --agent-command: droverd runs the drover-agent
# built next to it (build/agent/drover-agent), says so in its log, and that agent registers
# and heartbeats. A droverd with no drover-agent beside it nor on PATH refuses to start (exit 1,
# a message naming where it looked) instead of starting agents that exit 127. With only PATH
# offering one, droverd takes that (logged as from=path).
set -u
. "$(dirname "$0")/lib.sh"
: "${DROVER_PORT_RANGE:=18740-18759}"
drover_e2e_init
unset DROVER_AGENT_COMMAND
AGENT_BIN=$(realpath "${DROVER_BUILD_DIR:?}/agent/drover-agent")
[ -x "$AGENT_BIN" ] || fail "drover-agent is not built: $AGENT_BIN"

mkdir -p "$DROVER_TMP/ws"
DROVER_CODING_COMMAND=demo DROVER_WORKSPACE="$DROVER_TMP/ws" HEARTBEAT_INTERVAL=1 \
    drover_start --pod-backend process --agent-log-dir "$DROVER_TMP/agents" \
    --heartbeat-interval 1 --pool-grace 3
grep -qF "agent command from=build-tree path=\\\"$AGENT_BIN\\\"" "$DROVER_LOG" ||
    fail "the log does not name the build tree's drover-agent ($AGENT_BIN)"
for _ in $(seq 1 300); do
    [ "$(drover_psql "SELECT count(*) FROM agents WHERE status = 'idle'")" -ge 1 ] && break
    sleep 0.1
done
[ "$(drover_psql "SELECT count(*) FROM agents WHERE status = 'idle'")" -ge 1 ] ||
    fail "no agent registered in 30 s; agents: $(drover_psql "SELECT status || ' ' ||
        coalesce(offline_reason, '') FROM agents")"
[ "$(drover_psql "SELECT count(*) FROM agents WHERE offline_reason LIKE '%127%'")" = 0 ] ||
    fail "an agent exited 127"
pass "no --agent-command: the build tree's drover-agent runs and registers"
drover_stop || fail "droverd exited non-zero on SIGTERM"

# A droverd alone in a directory, with nothing on PATH: no start, no agent.
lone="$DROVER_TMP/lone"
mkdir -p "$lone" "$DROVER_TMP/emptybin"
cp "$DROVERD" "$lone/droverd"
before=$(drover_psql "SELECT count(*) FROM agents")
rc=0
# (timeout: a droverd that did start would otherwise serve until killed)
out=$(timeout 20 env PATH="$DROVER_TMP/emptybin" "$lone/droverd" serve --listen "127.0.0.1:${DROVER_PORT_RANGE%-*}" \
    --pod-backend process 2>&1) || rc=$?
[ "$rc" = 1 ] || fail "a droverd without drover-agent exited $rc, wanted 1: $out"
grep -qF "no drover-agent next to droverd ($lone/agent/drover-agent or $lone/drover-agent) nor on PATH" \
    <<<"$out" || fail "the message does not say where it looked: $out"
grep -qF -- "--agent-command" <<<"$out" || fail "the message does not mention --agent-command: $out"
[ "$(drover_psql "SELECT count(*) FROM agents")" = "$before" ] || fail "agents were started"
pass "no drover-agent anywhere: droverd refuses to start (exit 1) and says where it looked"

# --pod-backend none needs no agent program: the same lone droverd starts.
DROVERD="$lone/droverd" PATH="$DROVER_TMP/emptybin:$PATH" drover_start
drover_stop || fail "droverd --pod-backend none exited non-zero"
pass "--pod-backend none starts without a drover-agent"

# Only PATH has one: that one, by its absolute path.
ln -s "$AGENT_BIN" "$DROVER_TMP/emptybin/drover-agent"
DROVER_LOG_BEFORE=$(wc -l <"$DROVER_LOG")
DROVERD="$lone/droverd" PATH="$DROVER_TMP/emptybin:$PATH" DROVER_WORKSPACE="$DROVER_TMP/ws" \
    drover_start --pod-backend process --agent-log-dir "$DROVER_TMP/agents" --pool-grace 3
tail -n +"$((DROVER_LOG_BEFORE + 1))" "$DROVER_LOG" |
    grep -qF "agent command from=path path=\\\"$DROVER_TMP/emptybin/drover-agent\\\"" ||
    fail "the log does not name the drover-agent on PATH"
drover_stop || fail "droverd exited non-zero on SIGTERM"
pass "only PATH has drover-agent: droverd takes it and logs from=path"
