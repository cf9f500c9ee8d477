#!/usr/bin/env bash
# droverd's secrets under the process backend (issue 13): a root droverd started with
# --agent-user starts its agents as that user, so neither they nor their coding commands can
# read droverd's /proc/<pid>/environ (DATABASE_URL, forge tokens); the agents still work tasks
# end to end (clone, bubblewrap as that user, push). Bad --agent-user values are start-up
# errors; a root droverd without it warns.
set -u
. "$(dirname "$0")/lib.sh"
export DROVER_PORT_RANGE=18580-18599
[ "$(id -u)" = 0 ] || drover_skip "needs root (only a root droverd can start agents as another user)"
command -v setpriv >/dev/null || drover_skip "setpriv is missing"
command -v bwrap >/dev/null || drover_skip "bubblewrap (bwrap) is missing"
getent passwd nobody >/dev/null || drover_skip "no user nobody"
drover_e2e_init
AGENT_BIN=${DROVER_BUILD_DIR:?}/agent/drover-agent
[ -x "$AGENT_BIN" ] || fail "drover-agent is not built: $AGENT_BIN"
setpriv --reuid=nobody --regid=nogroup --clear-groups test -x "$AGENT_BIN" ||
  drover_skip "user nobody cannot run $AGENT_BIN (a private build directory)"

W=$(mktemp -d /tmp/drover-e2e-agentuser.XXXXXX)
chmod 0755 "$W"
trap 'rc=$?; drover_stop; rm -rf "$W"; (exit $rc); drover_cleanup' EXIT
SECRET=forge-$$-agent-user-secret

# Bad values: start-up errors with a clear message, nothing started.
for bad in no-such-user-$$ root; do
  out=$(timeout 30 "$DROVERD" serve --listen 127.0.0.1:1 --pod-backend process \
    --agent-command "$AGENT_BIN" --agent-user "$bad" 2>&1) && fail "--agent-user $bad was accepted"
  grep -q -e "no such user" -e "is root" <<<"$out" || fail "--agent-user $bad: unclear error: $out"
done
pass "--agent-user: an unknown user and root are refused at start-up"

# The repository and workspace belong to the agents' user.
git init -q --bare --shared=0777 -b main "$W/r.git" # droverd (root) creates the branch, the agent pushes
git init -q -b main "$W/seed"
echo "# agent user" >"$W/seed/README.md"
git -C "$W/seed" add -A
git -C "$W/seed" -c user.name=e2e -c user.email=e2e@localhost commit -qm init
git -C "$W/seed" push -q "$W/r.git" main
chown -R nobody:nogroup "$W/r.git"
mkdir -m 0700 "$W/ws" && chown nobody:nogroup "$W/ws"

DROVER_FORGE_TOKEN=$SECRET DROVER_WORKSPACE="$W/ws" HEARTBEAT_INTERVAL=1 DROVER_POLL_WAIT=1 \
  DROVER_CODING_COMMAND="bash $DROVER_SOURCE_DIR/agent/examples/demo-coder.sh" \
  drover_start --pod-backend process --agent-command "$AGENT_BIN" --agent-user nobody \
  --agent-log-dir "$W/logs" --heartbeat-interval 1 --pool-max-starting 2

for _ in $(seq 150); do
  [ "$(drover_psql "SELECT count(*) FROM agents WHERE status = 'idle'")" -ge 1 ] && break
  sleep 0.2
done
[ "$(drover_psql "SELECT count(*) FROM agents WHERE status = 'idle'")" -ge 1 ] ||
  fail "no agent came up: $(tail -n 20 "$W"/logs/*.log 2>/dev/null)"
pids=$(pgrep -P "$DROVER_PID" -x drover-agent) # droverd's own children only
[ -n "$pids" ] || fail "no drover-agent process"
for p in $pids; do
  u=$(awk '/^Uid:/ {print $2}' "/proc/$p/status")
  [ "$u" = 65534 ] || fail "agent process $p runs as uid $u, not nobody"
  # What the agent (and so its command) could read of droverd: nothing.
  if setpriv --reuid=nobody --regid=nogroup --clear-groups cat "/proc/$DROVER_PID/environ" 2>/dev/null |
    tr '\0' '\n' | grep -q "$SECRET"; then
    fail "the agents' user can read droverd's environment"
  fi
  ! tr '\0' '\n' <"/proc/$p/environ" | grep -q -e "$SECRET" -e DATABASE_URL || fail "agent $p inherited droverd's secrets"
done
pass "agents run as nobody, without droverd's secrets, unable to read droverd's environment"

id=$(drover_psql "INSERT INTO tasks (title, description, repo_url, max_attempts) VALUES ('As nobody', 'Write a note.', 'file://$W/r.git', 1) RETURNING id" | head -n1)
for _ in $(seq 300); do
  st=$(drover_psql "SELECT state FROM tasks WHERE id = $id")
  case $st in backlog | in_progress) sleep 0.2 ;; *) break ;; esac
done
[ "$st" = ready_to_test ] || fail "task as nobody: $st $(drover_psql "SELECT last_error FROM tasks WHERE id = $id") $(tail -n 20 "$W"/logs/*.log)"
br=$(drover_psql "SELECT branch FROM tasks WHERE id = $id")
git --git-dir="$W/r.git" cat-file -e "refs/heads/$br:drover-demo/task-$id.md" || fail "the work was not pushed"
owner=$(stat -c %U "$W/r.git/refs/heads/$br" 2>/dev/null || stat -c %U "$W/r.git/packed-refs")
pass "a task worked end to end by an agent running as nobody (branch $br, pushed as $owner)"
