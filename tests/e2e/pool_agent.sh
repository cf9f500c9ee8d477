#!/usr/bin/env bash
# A stand-in for drover-agent (until it exists) used by test_pool_http.sh: what the pool's
# process backend starts for each agent. It speaks to droverd over HTTP with its own token
# (AGENT_ID, DROVER_TOKEN, MCP_SERVER_URL from the pool): heartbeats, long-polls
# get_next_task, "works" for the milliseconds in the task's title ("work 1500"), completes the
# task, and exits when its agent is drained or on SIGTERM (or after 600 s, should droverd be gone
# without telling it).
set -u
url=${MCP_SERVER_URL:?}
H=(-H "Authorization: Bearer ${DROVER_TOKEN:?}" -H 'Content-Type: application/json')
trap 'exit 0' TERM
result() { jq -c '.structuredContent // (.content[0].text | fromjson)' 2>/dev/null; }
heartbeat() {
  curl -s --max-time 5 "${H[@]}" "$url/heartbeat" -d "{\"agentId\":\"$AGENT_ID\"$1}" | result
}
while [ $SECONDS -lt 600 ]; do
  status=$(heartbeat "" | jq -r '.agent.status // empty')
  case $status in draining | offline) exit 0 ;; esac
  task=$(curl -s --max-time 10 "${H[@]}" "$url/tools/call" \
    -d '{"name":"get_next_task","arguments":{"wait_seconds":1}}' | result | jq -c '.task // empty')
  [ -n "$task" ] || continue
  id=$(jq -r .id <<<"$task")
  epoch=$(jq -r .lease_epoch <<<"$task")
  ms=$(jq -r '.title | ltrimstr("work ") | tonumber? // 0' <<<"$task")
  end=$(($(date +%s%3N) + ms))
  while [ "$(date +%s%3N)" -lt $end ]; do
    sleep 0.5
    heartbeat ",\"status\":\"busy\",\"taskIds\":[$id]" >/dev/null
  done
  curl -s --max-time 10 "${H[@]}" "$url/tools/call" -d "{\"name\":\"update_task_status\",\"arguments\":{\"task_id\":$id,\"lease_epoch\":$epoch,\"status\":\"completed\"}}" >/dev/null
done
