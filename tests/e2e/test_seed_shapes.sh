#!/usr/bin/env bash
# The seed design's own wire shapes (issue 17 part 3): the seed agent loop as its scripts are
# written (tests/e2e/seed/agent-loop.sh: camelCase arguments, X-Agent-ID, no lease epochs,
# .content[0].text | fromjson, project.giteaRepoUrl, create_branch -> .branchName, `claude -p`)
# takes tasks submitted as the other seed submits them ({"task": "..."} to POST /api/tasks with
# a default project), clones, branches, pushes and completes them, with auth on (the
# Authorization header the one change) and with auth off on loopback (X-Agent-ID alone). A call
# without lease_epoch stands on the caller's live lease: another agent's task and an expired
# lease are refused and change nothing. The same over POST /rpc.
source "$(dirname "$0")/../protocol/lib.sh"
command -v jq >/dev/null || proto_missing "jq not installed"
command -v git >/dev/null || proto_missing "git not installed"

proto_db
repo=$(proto_repo)
bare=${repo#file://}
proto_psql -c "INSERT INTO projects (name, repo_url) VALUES ('seedproj', '$repo')" >/dev/null

# POST /api/tasks as the other seed does, with no default project: a 400 that names the field.
proto_serve
admin=$(drover_token admin seed-admin)
code=$(curl -s -o "$PROTO_TMP/nodefault.json" -w '%{http_code}' -X POST "$PROTO_URL/api/tasks" \
  -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' -d '{"task": "write a file"}')
[ "$code" = 400 ] || proto_fail "{task} without a default project: HTTP $code, want 400"
jq -e '.error.message | test("\"project\" is required")' "$PROTO_TMP/nodefault.json" >/dev/null ||
  proto_fail "the 400 does not name the missing field: $(cat "$PROTO_TMP/nodefault.json")"
[ "$(proto_psql -c 'SELECT count(*) FROM tasks')" = 0 ] || proto_fail "a refused submission made a task"
drover_stop

proto_serve --default-project seedproj
submit() { # prompt -> task id; checks the 202 and the seed's project field
  local out
  out=$(curl -fsS -X POST "$PROTO_URL/api/tasks" -H "Authorization: Bearer $admin" \
    -H 'Content-Type: application/json' -d "$(jq -cn --arg t "$1" '{task: $t}')") ||
    proto_fail "POST /api/tasks {task} failed"
  jq -e --arg r "$repo" '.project.name == "seedproj" and .project.giteaRepoUrl == $r
    and .project.repoUrl == $r and .state == "backlog"' <<<"$out" >/dev/null ||
    proto_fail "the submitted task: $out"
  jq -r .id <<<"$out"
}
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$PROTO_URL/api/tasks" -H "Authorization: Bearer $admin" \
  -H 'Content-Type: application/json' -d '{"task": "seed submission"}')
[ "$code" = 202 ] || proto_fail "{task} with a default project: HTTP $code, want 202"
proto_psql -c "DELETE FROM tasks" >/dev/null

# The coding session: a stand-in `claude` on PATH that writes the prompt into the clone; a
# prompt that says FAIL fails.
mkdir -p "$PROTO_TMP/bin"
cat >"$PROTO_TMP/bin/claude" <<'SH'
#!/bin/sh
[ "$1" = -p ] || { echo "usage: claude -p PROMPT" >&2; exit 2; }
case "$2" in *FAIL*) echo "the model gave up" >&2; exit 3 ;; esac
printf '%s\n' "$2" >SEED.md
echo "wrote SEED.md"
SH
chmod +x "$PROTO_TMP/bin/claude"

LOOP_PID=
loop_start() { # [token]: the seed loop as agent $AGENT_ID, in its own process group
  MCP_SERVER_URL=$PROTO_URL AGENT_ID=$AGENT_ID DROVER_TOKEN=${1:-} WORKSPACE=$PROTO_TMP/ws \
    POLL_INTERVAL=1 HEARTBEAT_INTERVAL=1 PATH="$PROTO_TMP/bin:$PATH" \
    setsid bash "$PROTO_ROOT/tests/e2e/seed/agent-loop.sh" >>"$PROTO_TMP/seed-loop.log" 2>&1 &
  LOOP_PID=$!
}
loop_stop() {
  [ -n "$LOOP_PID" ] || return 0
  kill -TERM -- "-$LOOP_PID" 2>/dev/null || true
  wait "$LOOP_PID" 2>/dev/null || true
  LOOP_PID=
}
trap 'rc=$?; loop_stop; (exit $rc); proto_cleanup' EXIT
wait_state() { # task state-regex seconds
  for _ in $(seq 1 $(($3 * 5))); do
    grep -Eq "^($2)$" <<<"$(proto_psql -c "SELECT state FROM tasks WHERE id = $1")" && return 0
    sleep 0.2
  done
  proto_fail "task $1 is '$(proto_psql -c "SELECT state FROM tasks WHERE id = $1")' after $3 s, want $2"
}

# ---- auth on: the seed loop, plus the Authorization header ----
proto_agent_token seed-a
A_ID=$AGENT_ID A_TOKEN=$DROVER_TOKEN
t1=$(submit "Add SEED.md saying hello")
loop_start "$A_TOKEN"
wait_state "$t1" completed 60
got=$(proto_psql -F' ' -c "SELECT agent_id, attempt, branch FROM tasks WHERE id = $t1")
read -r got_agent got_attempt branch <<<"$got"
[ "$got_agent $got_attempt" = "$A_ID 1" ] || proto_fail "task $t1: '$got', want agent $A_ID attempt 1"
case "$branch" in drover/"$t1"-*) ;; *) proto_fail "task $t1 branch '$branch'" ;; esac
git --git-dir="$bare" show "$branch:SEED.md" | grep -q "Add SEED.md saying hello" ||
  proto_fail "the pushed branch $branch has no SEED.md from the coding session"
logs=$(proto_psql -c "SELECT string_agg(btrim(message, E'\n'), '|' ORDER BY id) FROM activity
                      WHERE task_id = $t1 AND kind = 'log'")
[ "$logs" = "Agent $A_ID picked up the task|Working on branch $branch|Pushed $branch" ] ||
  proto_fail "log rows of task $t1: '$logs'"
[ "$(proto_psql -c "SELECT result->>'reason' FROM tasks WHERE id = $t1")" = "Pushed $branch" ] ||
  proto_fail "metadata of update_task_status not kept as the result"

# A failing coding session: failed with metadata.reason as the error; attempts left: back-off.
t2=$(submit "FAIL on purpose")
for _ in $(seq 1 300); do
  [ "$(proto_psql -c "SELECT last_error IS NOT NULL AND state = 'backlog' FROM tasks WHERE id = $t2")" = t ] && break
  sleep 0.2
done
got=$(proto_psql -F'|' -c "SELECT state, attempt, last_error LIKE 'Coding session failed:%the model gave up%'
                           FROM tasks WHERE id = $t2")
[ "$got" = "backlog|1|t" ] || proto_fail "failed task $t2: '$got', want 'backlog|1|t'"
loop_stop
grep -q "Task $t1 completed" "$PROTO_TMP/seed-loop.log" || proto_fail "the loop did not report task $t1"
proto_psql -c "UPDATE tasks SET state = 'cancelled' WHERE id = $t2" >/dev/null

# ---- no lease_epoch: the caller's live lease is the fence ----
tool() { # token agent name args -> the response body
  curl -sS -X POST "$PROTO_URL/tools/call" -H "Authorization: Bearer $1" -H "X-Agent-ID: $2" \
    -H 'Content-Type: application/json' -d "$(jq -cn --arg n "$3" --argjson a "$4" '{name: $n, arguments: $a}')"
}
err_code() { jq -r 'if .isError then (.content[0].text | fromjson | .error.code) else "ok" end'; }
proto_agent_token seed-b
B_ID=$AGENT_ID B_TOKEN=$DROVER_TOKEN
t3=$(submit "held by B")
got=$(tool "$B_TOKEN" "$B_ID" get_next_task "{\"agentId\": \"$B_ID\"}" | jq -r '.content[0].text | fromjson | .task.id')
[ "$got" = "$t3" ] || proto_fail "B did not get task $t3 (got $got)"
# A names B's task: refused (A holds no lease on it), nothing changes.
for call in "update_task_status|{\"taskId\": \"$t3\", \"status\": \"completed\"}" \
  "create_branch|{\"taskId\": $t3}" "log_activity|{\"taskId\": \"$t3\", \"message\": \"not mine\"}"; do
  c=$(tool "$A_TOKEN" "$A_ID" "${call%%|*}" "${call#*|}" | err_code)
  [ "$c" = forbidden ] || proto_fail "A's ${call%%|*} on B's task: $c, want forbidden"
done
# A holds nothing: log_activity without a task id has nowhere to go.
c=$(tool "$A_TOKEN" "$A_ID" log_activity '{"message": "no task"}' | err_code)
[ "$c" = conflict ] || proto_fail "log_activity without a task while holding none: $c, want conflict"
# B's lease expires: B is refused too (stale_epoch; conflict once the pool's reaper has put the
# task back, which it may do at any moment now), and nothing B sends lands.
proto_psql -c "UPDATE tasks SET lease_expires_at = now() - interval '1 second' WHERE id = $t3" >/dev/null
c=$(tool "$B_TOKEN" "$B_ID" update_task_status "{\"taskId\": $t3, \"status\": \"completed\"}" | err_code)
case "$c" in stale_epoch | conflict) ;; *) proto_fail "B's call on its expired lease: $c, want stale_epoch" ;; esac
c=$(tool "$B_TOKEN" "$B_ID" log_activity '{"message": "expired"}' | err_code)
[ "$c" = conflict ] || proto_fail "B's log_activity without a task on an expired lease: $c, want conflict"
got=$(proto_psql -F'|' -c "SELECT state IN ('in_progress', 'backlog'), branch IS NULL,
                           (SELECT count(*) FROM activity WHERE task_id = $t3 AND kind = 'log')
                           FROM tasks WHERE id = $t3")
[ "$got" = "t|t|0" ] || proto_fail "refused calls changed task $t3: '$got'"
# B takes it again (a new epoch) for the rest. Had the reaper run, it put the task back with a
# back-off and marked B offline: undo both, as a restarted agent would find things.
proto_psql -c "UPDATE tasks SET state = 'backlog', agent_id = NULL, lease_expires_at = NULL,
                 run_after = now() WHERE id = $t3;
               UPDATE agents SET status = 'idle' WHERE id = '$B_ID'" >/dev/null
got=$(tool "$B_TOKEN" "$B_ID" get_next_task '{}' | jq -r '.content[0].text | fromjson | .task.id')
[ "$got" = "$t3" ] || proto_fail "B did not get task $t3 back (got $got)"
# A stated epoch is still checked as it is: a wrong one is stale even with a live lease.
c=$(tool "$B_TOKEN" "$B_ID" update_task_status "{\"taskId\": $t3, \"leaseEpoch\": 999, \"status\": \"completed\"}" | err_code)
[ "$c" = stale_epoch ] || proto_fail "a wrong leaseEpoch: $c, want stale_epoch"

# ---- POST /rpc: JSON-RPC tools/call with the same shapes ----
rpc() { # token agent name args
  curl -sS -X POST "$PROTO_URL/rpc" -H "Authorization: Bearer $1" -H "X-Agent-ID: $2" \
    -H 'Content-Type: application/json' \
    -d "$(jq -cn --arg n "$3" --argjson a "$4" '{jsonrpc: "2.0", id: 1, method: "tools/call", params: {name: $n, arguments: $a}}')"
}
r=$(rpc "$B_TOKEN" "$B_ID" log_activity '{"message": "via rpc, no task id"}')
jq -e --argjson t "$t3" '.result.structuredContent.task_id == $t' <<<"$r" >/dev/null ||
  proto_fail "/rpc log_activity without a task id: $r"
r=$(rpc "$B_TOKEN" "$B_ID" create_branch "{\"agentId\": \"$B_ID\", \"taskId\": \"$t3\", \"branchName\": \"seed/b-$t3\"}")
[ "$(jq -r '.result.content[0].text | fromjson | .branchName' <<<"$r")" = "seed/b-$t3" ] ||
  proto_fail "/rpc create_branch: $r"
r=$(rpc "$B_TOKEN" "$B_ID" update_task_status "{\"taskId\": \"$t3\", \"status\": \"failed\", \"metadata\": {\"reason\": \"rpc says no\"}}")
jq -e '.result.isError == false' <<<"$r" >/dev/null || proto_fail "/rpc update_task_status: $r"
got=$(proto_psql -F'|' -c "SELECT state, last_error, branch FROM tasks WHERE id = $t3")
[ "$got" = "backlog|rpc says no|seed/b-$t3" ] || proto_fail "task $t3 after /rpc: '$got'"
proto_psql -c "UPDATE tasks SET state = 'cancelled' WHERE id = $t3" >/dev/null
drover_stop

# ---- auth off on loopback: X-Agent-ID alone identifies the agent ----
proto_serve --auth off --default-project seedproj
t4=$(curl -fsS -X POST "$PROTO_URL/api/tasks" -H 'Content-Type: application/json' \
  -d '{"task": "Auth off, hello again"}' | jq -r .id)
AGENT_ID=$A_ID
loop_start ""
wait_state "$t4" completed 60
loop_stop
got=$(proto_psql -F' ' -c "SELECT agent_id, attempt FROM tasks WHERE id = $t4")
[ "$got" = "$A_ID 1" ] || proto_fail "auth off: task $t4 '$got', want '$A_ID 1'"
b4=$(proto_psql -c "SELECT branch FROM tasks WHERE id = $t4")
git --git-dir="$bare" show "$b4:SEED.md" | grep -q "Auth off, hello again" ||
  proto_fail "auth off: branch $b4 was not pushed with the session's work"
proto_log "PASS: the seed loop ran as it is (auth on and off); lease-less calls fenced on the live lease; /rpc and {task} shapes"
