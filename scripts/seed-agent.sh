#!/usr/bin/env bash
# The seed's agent loop, against droverd's seed endpoints: curl + jq, nothing else.
# Takes a task (get_next_task, long-polling), heartbeats, logs, does the work, completes it.
# The one change from the seed: every call carries `Authorization: Bearer $DROVER_TOKEN`.
#
# Env: DROVER_URL (http://127.0.0.1:8080)  DROVER_TOKEN, AGENT_ID (from
#      `eval "$(droverd token create --scope agent --name NAME)"`)
#      MAX_TASKS (0 = forever)  MAX_IDLE_POLLS (0 = forever)  WAIT_SECONDS (long-poll, 10)
#      AGENT_WORK: a shell command run for each task with TASK_ID/TASK_TITLE/TASK_DESCRIPTION
#      set (default: none); the task completes when it exits 0 and fails otherwise.
set -euo pipefail

url=${DROVER_URL:-http://127.0.0.1:8080}
: "${DROVER_TOKEN:?DROVER_TOKEN is not set}" "${AGENT_ID:?AGENT_ID is not set}"
max_tasks=${MAX_TASKS:-0}
max_idle=${MAX_IDLE_POLLS:-0}
wait_s=${WAIT_SECONDS:-10}

log() { printf '%s agent=%s %s\n' "$(date -u +%FT%TZ)" "$AGENT_ID" "$*" >&2; }

post() { # path body
  curl -fsS --max-time $((wait_s + 30)) -X POST "$url$1" \
    -H "Authorization: Bearer $DROVER_TOKEN" -H "X-Agent-ID: $AGENT_ID" \
    -H 'Content-Type: application/json' -d "$2"
}

# Call a tool; prints the tool's JSON result (content[0].text); fails on isError.
tool() { # name arguments-json
  local r
  r=$(post /tools/call "$(jq -cn --arg n "$1" --argjson a "$2" '{name: $n, arguments: $a}')")
  if [ "$(jq -r '.isError // false' <<<"$r")" = true ]; then
    log "tool $1 failed: $(jq -r '.content[0].text' <<<"$r")"
    return 1
  fi
  jq -r '.content[0].text' <<<"$r"
}

heartbeat() { post /heartbeat "$(jq -cn --arg a "$AGENT_ID" --arg s "$1" '{agentId: $a, status: $s}')" >/dev/null; }

done_tasks=0 idle=0
while [ "$max_tasks" -eq 0 ] || [ "$done_tasks" -lt "$max_tasks" ]; do
  heartbeat idle
  resp=$(tool get_next_task "{\"wait_seconds\": $wait_s}")
  id=$(jq -r '.task.id // empty' <<<"$resp")
  if [ -z "$id" ]; then
    idle=$((idle + 1))
    if [ "$max_idle" -gt 0 ] && [ "$idle" -ge "$max_idle" ]; then
      log "no task after $idle polls; exiting"
      exit 0
    fi
    continue
  fi
  idle=0
  epoch=$(jq -r '.task.lease_epoch' <<<"$resp")
  log "took task $id (epoch $epoch): $(jq -r '.task.title' <<<"$resp")"
  heartbeat busy
  tool log_activity "$(jq -cn --argjson t "$id" '{task_id: $t, level: "info", message: "seed agent: started"}')" >/dev/null
  status=completed
  if [ -n "${AGENT_WORK:-}" ]; then
    if ! TASK_ID=$id TASK_TITLE=$(jq -r '.task.title' <<<"$resp") \
      TASK_DESCRIPTION=$(jq -r '.task.description' <<<"$resp") bash -c "$AGENT_WORK"; then
      status=failed
    fi
  fi
  heartbeat busy
  tool log_activity "$(jq -cn --argjson t "$id" --arg s "$status" \
    '{task_id: $t, level: "info", message: ("seed agent: finished, " + $s)}')" >/dev/null
  tool update_task_status "$(jq -cn --argjson t "$id" --argjson e "$epoch" --arg s "$status" \
    '{task_id: $t, lease_epoch: $e, status: $s} + (if $s == "failed" then {error: "AGENT_WORK failed"} else {} end)')" >/dev/null
  log "task $id $status"
  done_tasks=$((done_tasks + 1))
done
