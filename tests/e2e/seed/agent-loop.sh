#!/bin/bash
# A re-creation of the seed design's agent loop, as its scripts call the server: curl + jq
# against POST /heartbeat and POST /tools/call, camelCase arguments, X-Agent-ID, no lease
# epochs, `.content[0].text | fromjson`, the project's giteaRepoUrl, create_branch's
# branchName, and `claude -p` as the coding session. Drover must run it as it is; the one
# addition is the Authorization header (only sent when DROVER_TOKEN is set: with --auth off on
# loopback the X-Agent-ID header alone identifies the agent). Do not "fix" this script to suit
# the server: it stands for scripts teams already have (tests/e2e/test_seed_shapes.sh).
#
# Env: MCP_SERVER_URL, AGENT_ID, WORKSPACE, POLL_INTERVAL, HEARTBEAT_INTERVAL, DROVER_TOKEN.

MCP_SERVER_URL="${MCP_SERVER_URL:-http://localhost:8080}"
AGENT_ID="${AGENT_ID:-$(hostname)}"
WORKSPACE="${WORKSPACE:-/workspace}"
POLL_INTERVAL="${POLL_INTERVAL:-10}"
HEARTBEAT_INTERVAL="${HEARTBEAT_INTERVAL:-30}"

AUTH=()
if [ -n "${DROVER_TOKEN:-}" ]; then
    AUTH=(-H "Authorization: Bearer $DROVER_TOKEN") # the one change from the seed
fi

log() {
    echo "[$(date '+%Y-%m-%d %H:%M:%S')] $*"
}

call_tool() {
    local tool_name="$1"
    local arguments="$2"
    curl -s -X POST "$MCP_SERVER_URL/tools/call" \
        -H "Content-Type: application/json" \
        -H "X-Agent-ID: $AGENT_ID" \
        "${AUTH[@]}" \
        -d "{\"name\": \"$tool_name\", \"arguments\": $arguments}"
}

send_heartbeat() {
    local status="$1"
    curl -s -X POST "$MCP_SERVER_URL/heartbeat" \
        -H "Content-Type: application/json" \
        -H "X-Agent-ID: $AGENT_ID" \
        "${AUTH[@]}" \
        -d "{\"agentId\": \"$AGENT_ID\", \"status\": \"$status\"}" > /dev/null
}

log_activity() {
    local task_id="$1"
    local message="$2"
    call_tool "log_activity" "{\"agentId\": \"$AGENT_ID\", \"taskId\": \"$task_id\", \"message\": $(echo "$message" | jq -Rs .)}" > /dev/null
}

update_status() {
    local task_id="$1"
    local status="$2"
    local reason="$3"
    call_tool "update_task_status" "{\"agentId\": \"$AGENT_ID\", \"taskId\": \"$task_id\", \"status\": \"$status\", \"metadata\": {\"reason\": $(echo "$reason" | jq -Rs .)}}"
}

heartbeat_loop() {
    while true; do
        send_heartbeat "$CURRENT_STATUS"
        sleep "$HEARTBEAT_INTERVAL"
    done
}

CURRENT_STATUS="idle"
log "Agent $AGENT_ID starting, server $MCP_SERVER_URL"
mkdir -p "$WORKSPACE"

while true; do
    send_heartbeat "idle"

    RESPONSE=$(call_tool "get_next_task" "{\"agentId\": \"$AGENT_ID\"}")
    TASK_ID=$(echo "$RESPONSE" | jq -r '.content[0].text | fromjson | .task.id // empty' 2>/dev/null)

    if [ -z "$TASK_ID" ] || [ "$TASK_ID" = "null" ]; then
        log "No task available, sleeping $POLL_INTERVAL s"
        sleep "$POLL_INTERVAL"
        continue
    fi

    TASK=$(echo "$RESPONSE" | jq -r '.content[0].text | fromjson | .task')
    TITLE=$(echo "$TASK" | jq -r '.title')
    DESCRIPTION=$(echo "$TASK" | jq -r '.description')
    REPO_URL=$(echo "$TASK" | jq -r '.project.giteaRepoUrl')
    log "Got task $TASK_ID: $TITLE"

    send_heartbeat "busy"
    log_activity "$TASK_ID" "Agent $AGENT_ID picked up the task"

    REPO_DIR="$WORKSPACE/task-$TASK_ID"
    rm -rf "$REPO_DIR"
    if ! git clone "$REPO_URL" "$REPO_DIR"; then
        update_status "$TASK_ID" "failed" "Could not clone $REPO_URL"
        continue
    fi
    cd "$REPO_DIR" || exit 1

    BRANCH_RESPONSE=$(call_tool "create_branch" "{\"agentId\": \"$AGENT_ID\", \"taskId\": \"$TASK_ID\"}")
    BRANCH_NAME=$(echo "$BRANCH_RESPONSE" | jq -r '.content[0].text | fromjson | .branchName')
    if [ -z "$BRANCH_NAME" ] || [ "$BRANCH_NAME" = "null" ]; then
        log "create_branch failed: $BRANCH_RESPONSE"
        update_status "$TASK_ID" "failed" "create_branch failed"
        cd "$WORKSPACE" || exit 1
        continue
    fi
    git checkout -b "$BRANCH_NAME" 2>/dev/null || git checkout "$BRANCH_NAME"
    log_activity "$TASK_ID" "Working on branch $BRANCH_NAME"

    # The coding session.
    CURRENT_STATUS="busy"
    heartbeat_loop &
    HEARTBEAT_PID=$!
    if claude -p "$DESCRIPTION" --dangerously-skip-permissions > "$WORKSPACE/claude-$TASK_ID.log" 2>&1; then
        kill "$HEARTBEAT_PID" 2>/dev/null
        git add -A
        git -c user.name="agent-$AGENT_ID" -c user.email="agent@drover.local" commit -m "$TITLE" > /dev/null
        if git push origin "$BRANCH_NAME" > /dev/null 2>&1; then
            call_tool "log_activity" "{\"agentId\": \"$AGENT_ID\", \"message\": \"Pushed $BRANCH_NAME\"}" > /dev/null
            update_status "$TASK_ID" "completed" "Pushed $BRANCH_NAME" > /dev/null
            log "Task $TASK_ID completed"
        else
            update_status "$TASK_ID" "failed" "git push failed" > /dev/null
        fi
    else
        kill "$HEARTBEAT_PID" 2>/dev/null
        update_status "$TASK_ID" "failed" "Coding session failed: $(tail -c 200 "$WORKSPACE/claude-$TASK_ID.log")" > /dev/null
        log "Task $TASK_ID failed"
    fi
    CURRENT_STATUS="idle"
    cd "$WORKSPACE" || exit 1
done
