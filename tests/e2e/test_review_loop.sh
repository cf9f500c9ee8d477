#!/usr/bin/env bash
# The review loop end to end: a real droverd, PostgreSQL, a git daemon, the fake GitHub-style
# forge API (tests/fakes/fake_forge.py), a real drover-agent running the demo coding command,
# and forge webhooks sent the way the forges send them (tests/fakes/forge_webhook.py with the
# documented example payloads of tests/fakes/webhooks/).
#
#  1. A developer submits a task with droverctl; the agent opens pull request #1 through the
#     forge API and the task reaches ready_to_test.
#  2. Over HTTP (the forge headers reach the handler through lws): a bad signature is 401 and
#     changes nothing, an unknown event is 200 "ignored", Gitea and GitLab deliveries for a pull
#     request Drover did not open are 200 "no_task".
#  3. An inline review comment (file/line) is kept; a review requesting changes sends the task
#     back, and droverd reads that review's own inline comments from the forge's REST API (the
#     webhook carries only its body); the agent works again on the same branch: the new
#     commit's prompt file holds every comment as "path:line — comment (author)" (the one that
#     came both ways once), the branch gained a commit and the forge still has one pull
#     request. A replayed delivery changes nothing.
#  4. The developer asks for another rework with droverctl; an operator cannot accept (403,
#     exit 1); a second developer cannot act on the first one's task.
#  5. The merge webhook completes the task; the history names who did each move.
#  6. A labelled issue becomes a task, linked back: a comment with the task's link on the issue,
#     and once the agent opened its pull request, a second with the pull request's URL.
#  7. A fan-out of two: the merge webhook of one child's pull request supersedes the other, and
#     the outbox thread closes that one's pull request on the forge with the comment first.
set -euo pipefail

SRC=${DROVER_SOURCE_DIR:?}
BUILD=${DROVER_BUILD_DIR:?}
AGENT=$BUILD/agent/drover-agent
CTL=$BUILD/agent/droverctl
: "${DROVER_PORT_RANGE:=18350-18369}"
GIT_PORT_RANGE=${DROVER_E2E_GIT_PORT_RANGE:-18370-18389}
. "$SRC/tests/e2e/lib.sh"
drover_e2e_agent_init review
q() { psql -qAtX -c "$1"; }
wait_for() { # seconds sql-that-returns-t
  local deadline=$((SECONDS + $1))
  while [ $SECONDS -lt $deadline ]; do [ "$(q "$2")" = t ] && return 0; sleep 0.2; done
  return 1
}

# --- git server, forge, project ---------------------------------------------------------------
GITPORT=$(drover_free_port "$GIT_PORT_RANGE")
mkdir -p "$W/git" "$W/seed"
drover_git_seed "$W/git/hub.git" "$W/seed/hub" hub
git daemon --reuseaddr --listen=127.0.0.1 --port="$GITPORT" --base-path="$W/git" --export-all \
  --enable=receive-pack --informative-errors "$W/git" >"$W/gitd.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do timeout 5 git ls-remote "git://127.0.0.1:$GITPORT/hub.git" >/dev/null 2>&1 && break; sleep 0.1; done
FORGE_TOKEN=forge-$$-token
python3 "$SRC/tests/fakes/fake_forge.py" --token "$FORGE_TOKEN" >"$W/forge.port" 2>"$W/forge.log" &
PIDS+=($!)
for _ in $(seq 50); do grep -q PORT= "$W/forge.port" 2>/dev/null && break; sleep 0.1; done
FURL=http://127.0.0.1:$(sed -n 's/^PORT=//p' "$W/forge.port")
"$DROVERD" project add --name hub --repo-url "git://127.0.0.1:$GITPORT/hub.git" --forge-kind github \
  --forge-api-url "$FURL" --forge-repo-path acme/widgets >/dev/null

HOOK_SECRET=hook-$$-secret
DROVER_FORGE_TOKEN_HUB=$FORGE_TOKEN DROVER_WEBHOOK_SECRET_HUB=$HOOK_SECRET DROVER_LOG_LEVEL=warn \
  DROVER_PUBLIC_URL=https://drover.example drover_start --sweep-interval 60
PORT=${DROVER_URL##*:}
DEV=$(drover_token developer dana)
DEV2=$(drover_token developer erin)
OPER=$(drover_token operator olga)

out=$("$DROVERD" token create --scope agent --name a1 --backend process)
AGENT_ID=$(sed -n 's/^AGENT_ID=//p' <<<"$out") DROVER_TOKEN=$(sed -n 's/^DROVER_TOKEN=//p' <<<"$out") \
  MCP_SERVER_URL=http://127.0.0.1:$PORT/mcp DROVER_WORKSPACE="$W/ws" HEARTBEAT_INTERVAL=1 \
  DROVER_POLL_WAIT=1 DROVER_STOP_GRACE=2 DROVER_CODING_COMMAND="bash $SRC/agent/examples/demo-coder.sh" \
  "$AGENT" >"$W/agent.log" 2>&1 &
PIDS+=($!)

hook() { # forge event payload [more forge_webhook.py args] -> "STATUS BODY"
  local forge=$1 event=$2 payload=$3
  shift 3
  python3 "$SRC/tests/fakes/forge_webhook.py" --forge "$forge" --url "$DROVER_URL/api/hooks/forge/$forge/hub" \
    --secret "$HOOK_SECRET" --event "$event" --payload "$payload" --number "$PR" --branch "$BRANCH" "$@"
}
expect() { [ "$2" = "$3" ] || fail "$1: want '$2', got '$3'"; }

# --- 1 ----------------------------------------------------------------------------------------
T=$(DROVER_URL=$DROVER_URL DROVER_TOKEN=$DEV "$CTL" task add --project hub --json Add a greeting | jq -r .id)
[ -n "$T" ] && [ "$T" != null ] || fail "droverctl task add as a developer"
wait_for 60 "SELECT state = 'ready_to_test' FROM tasks WHERE id = $T" ||
  fail "task $T did not reach ready_to_test: $(q "SELECT state, last_error FROM tasks WHERE id = $T")"
PR=$(q "SELECT pull_request->>'number' FROM tasks WHERE id = $T")
BRANCH=$(q "SELECT branch FROM tasks WHERE id = $T")
expect "pull request number" 1 "$PR"
C1=$(git -C "$W/git/hub.git" rev-list --count "$BRANCH")
# The body a reviewer reads: the task's link and transcript, the prompt only in <details>.
body=$(curl -s -H "Authorization: Bearer $FORGE_TOKEN" -H 'User-Agent: e2e' "$FURL/repos/acme/widgets/pulls?state=all" | jq -r '.[0].body')
for want in "**Drover task #$T**: Add a greeting" "https://drover.example/#/tasks/$T" \
  "https://drover.example/api/tasks/$T/logs" "<details><summary>The task as submitted</summary>" \
  "Files changed (" "drover-demo/task-$T.md"; do
  grep -qF -- "$want" <<<"$body" || fail "pull request body lacks '$want': $body"
done
grep -qF "(Drover: you are on branch" <<<"$body" && fail "the internal prompt is in the pull request body: $body"
# The change itself, for the reviewer: files with +/- counts and the diff.
files=$(q "SELECT result->'files' FROM tasks WHERE id = $T")
[ "$(jq '[.[] | select(.path == "drover-demo/task-'"$T"'.md" and .added > 0)] | length' <<<"$files")" = 1 ] || fail "result.files: $files"
q "SELECT result->>'diff' FROM tasks WHERE id = $T" | grep -q '^+++ b/drover-demo/task-' || fail "result.diff: $(q "SELECT result->>'diff' FROM tasks WHERE id = $T")"
pass "1: developer's task has pull request #$PR on $BRANCH"

# --- 2 ----------------------------------------------------------------------------------------
before=$(q "SELECT state || attempt || (SELECT count(*) FROM activity) FROM tasks WHERE id = $T")
r=$(python3 "$SRC/tests/fakes/forge_webhook.py" --forge github --url "$DROVER_URL/api/hooks/forge/github/hub" \
  --secret wrong --event pull_request --payload github_pull_request_closed --number "$PR" --branch "$BRANCH")
expect "bad signature" 401 "${r%% *}"
expect "bad signature code" bad_signature "$(jq -r .error.code <<<"${r#* }")"
r=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$DROVER_URL/api/hooks/forge/github/hub" \
  -H 'Content-Type: application/json' -H 'X-GitHub-Event: pull_request' --data '{"action":"closed"}')
expect "unsigned" 401 "$r"
expect "nothing changed" "$before" "$(q "SELECT state || attempt || (SELECT count(*) FROM activity) FROM tasks WHERE id = $T")"
r=$(hook github workflow_run github_ping)
expect "unknown event" "200 ignored" "${r%% *} $(jq -r .result <<<"${r#* }")"
r=$(PR=99 BRANCH=other hook gitea pull_request gitea_pull_request_closed --forgejo)
expect "gitea foreign PR" "200 no_task" "${r%% *} $(jq -r .result <<<"${r#* }")"
r=$(PR=99 BRANCH=other hook gitlab "Merge Request Hook" gitlab_merge_request_merge)
expect "gitlab foreign MR" "200 no_task" "${r%% *} $(jq -r .result <<<"${r#* }")"
pass "2: bad signatures 401, unknown events ignored, foreign pull requests acknowledged"

# --- 3 ----------------------------------------------------------------------------------------
r=$(hook github pull_request_review_comment github_pull_request_review_comment --delivery rc-1)
expect "inline comment" "200 comment_kept" "${r%% *} $(jq -r .result <<<"${r#* }")"
# The review's own inline comments are not in its webhook: droverd reads them from the forge.
curl -s -o /dev/null -X POST "$FURL/_fake/review" -d '{"forge":"github","number":'"$PR"',"id":237895671,
  "user":"Codertocat","comments":[{"path":"greet.sh","line":4,"body":"Quote the variable."},
  {"path":"docs/usage.md","line":2,"body":"Mention the farewell."}]}'
r=$(hook github pull_request_review github_pull_request_review --delivery rv-1)
expect "changes requested" "200 rework" "${r%% *} $(jq -r .result <<<"${r#* }")"
r=$(hook github pull_request_review github_pull_request_review --delivery rv-1)
expect "replay" "200 duplicate" "${r%% *} $(jq -r .result <<<"${r#* }")"
wait_for 60 "SELECT state = 'ready_to_test' AND attempt = 1 AND lease_epoch >= 2 FROM tasks WHERE id = $T" ||
  fail "the rework did not come back: $(q "SELECT state, attempt, lease_epoch, last_error FROM tasks WHERE id = $T")"
expect "same branch" "$BRANCH" "$(q "SELECT branch FROM tasks WHERE id = $T")"
expect "same pull request" "$PR" "$(q "SELECT pull_request->>'number' FROM tasks WHERE id = $T")"
C2=$(git -C "$W/git/hub.git" rev-list --count "$BRANCH")
[ "$C2" -gt "$C1" ] || fail "the rework pushed nothing to $BRANCH ($C1 -> $C2 commits)"
f=$(git -C "$W/git/hub.git" show "$BRANCH:drover-demo/task-$T.md")
for want in "Rework requested by github:Codertocat" \
  "README.md:1 — Maybe you should use more emoji on this line. (Codertocat)" \
  "greet.sh:4 — Quote the variable. (Codertocat)" "docs/usage.md:2 — Mention the farewell. (Codertocat)" \
  "Review from Codertocat: Please handle the empty file too."; do
  grep -qF -- "$want" <<<"$f" || fail "the rework's prompt lacks $want: $f"
done
pulls=$(curl -s -H "Authorization: Bearer $FORGE_TOKEN" -H 'User-Agent: e2e' "$FURL/repos/acme/widgets/pulls?state=all" | jq length)
expect "pull requests on the forge" 1 "$pulls"
[ "$(grep -cF "README.md:1 — Maybe you should use more emoji" <<<"$f")" = 1 ] ||
  fail "the inline comment kept from its webhook and read back again appears twice: $f"
pass "3: review thread (inline comments read from the forge) -> rework on $BRANCH, pushed to pull request #$PR, replay ignored"

# --- 4 ----------------------------------------------------------------------------------------
set +e
DROVER_URL=$DROVER_URL DROVER_TOKEN=$OPER "$CTL" task accept "$T" >"$W/op.out" 2>&1
rc=$?
DROVER_URL=$DROVER_URL DROVER_TOKEN=$DEV2 "$CTL" task reject "$T" >"$W/dev2.out" 2>&1
rc2=$?
set -e
expect "operator accept exit" 1 "$rc"
grep -q 403 "$W/op.out" || fail "operator accept: $(cat "$W/op.out")"
expect "other developer exit" 1 "$rc2"
out=$(DROVER_URL=$DROVER_URL DROVER_TOKEN=$DEV "$CTL" task rework "$T" Add a farewell too)
# (the agent may have claimed it again by the time droverctl reads it back)
case "$out" in "task $T is now backlog" | "task $T is now in_progress") ;; *) fail "droverctl rework: $out" ;; esac
wait_for 60 "SELECT state = 'ready_to_test' AND lease_epoch >= 3 FROM tasks WHERE id = $T" ||
  fail "the second rework did not come back"
git -C "$W/git/hub.git" show "$BRANCH:drover-demo/task-$T.md" | grep -qF "Add a farewell too" ||
  fail "the developer's instructions are not in the prompt"
pass "4: developer rework with droverctl; operator and another developer refused"

# --- 5 ----------------------------------------------------------------------------------------
r=$(hook github pull_request github_pull_request_closed --delivery m-1)
expect "merge" "200 completed" "${r%% *} $(jq -r .result <<<"${r#* }")"
expect "completed" "completed|merged" "$(q "SELECT state || '|' || (pull_request->>'state') FROM tasks WHERE id = $T")"
r=$(hook github pull_request github_pull_request_closed --delivery m-1)
expect "merge replay" "200 duplicate" "${r%% *} $(jq -r .result <<<"${r#* }")"
hist=$(curl -s -H "Authorization: Bearer $DEV" "$DROVER_URL/api/tasks/$T" | jq -r '.history[] | "\(.from)>\(.to) \(.by)"')
for want in "ready_to_test>backlog github:Codertocat" "ready_to_test>backlog dana" "ready_to_test>completed github:Codertocat"; do
  grep -qF "$want" <<<"$hist" || fail "history lacks '$want': $hist"
done
n=$(curl -s -H "Authorization: Bearer $OPER" "$DROVER_URL/api/projects/hub/webhook-deliveries" | jq '.deliveries | length')
[ "$n" -ge 6 ] || fail "delivery history: $n"
pass "5: merge webhook completed the task; history names who did what"

# --- 6 ----------------------------------------------------------------------------------------
r=$(PR=5 BRANCH=x hook github issues github_issues_labeled --delivery is-1)
expect "labelled issue" "202 task_created" "${r%% *} $(jq -r .result <<<"${r#* }")"
IT=$(jq -r .task_id <<<"${r#* }")
comments() { curl -s -H "Authorization: Bearer $FORGE_TOKEN" -H 'User-Agent: e2e' "$FURL/repos/acme/widgets/issues/5/comments"; }
deadline=$((SECONDS + 60))
while [ $SECONDS -lt $deadline ]; do [ "$(comments | jq length)" -ge 2 ] && break; sleep 0.3; done
c=$(comments)
[ "$(jq length <<<"$c")" = 2 ] || fail "issue comments: $c / $(q "SELECT state, last_error FROM forge_comments")"
jq -r '.[0].body' <<<"$c" | grep -qF "Drover queued task #$IT for this issue: https://drover.example/#/tasks/$IT" || fail "first comment: $c"
jq -r '.[1].body' <<<"$c" | grep -qF "opened a pull request for this issue: https://github.test/acme/widgets/pull/2" || fail "second comment: $c"
pass "6: labelled issue -> task #$IT, linked back on the issue with its link and its pull request"

# --- 7 ----------------------------------------------------------------------------------------
# A fan-out of two: merging one child's pull request (the webhook's accept) supersedes the other,
# whose pull request droverd's outbox thread closes on the forge, with the comment first.
G=$(curl -s -H "Authorization: Bearer $DEV" -H 'Content-Type: application/json' -X POST \
  "$DROVER_URL/api/tasks" -d '{"prompt":"Two ways to greet","project":"hub","agent_count":2}' | jq -r .id)
[ -n "$G" ] && [ "$G" != null ] || fail "fan-out submit"
wait_for 120 "SELECT count(*) = 2 FROM tasks WHERE parent_id = $G AND state = 'ready_to_test'
  AND pull_request->>'number' IS NOT NULL" ||
  fail "the fan-out's children: $(q "SELECT id, state, last_error FROM tasks WHERE parent_id = $G")"
A=$(q "SELECT min(id) FROM tasks WHERE parent_id = $G")
B=$(q "SELECT max(id) FROM tasks WHERE parent_id = $G")
PA=$(q "SELECT pull_request->>'number' FROM tasks WHERE id = $A")
PB=$(q "SELECT pull_request->>'number' FROM tasks WHERE id = $B")
r=$(PR=$PA BRANCH=$(q "SELECT branch FROM tasks WHERE id = $A") hook github pull_request \
  github_pull_request_closed --delivery fan-1)
expect "merge of one child" "200 completed" "${r%% *} $(jq -r .result <<<"${r#* }")"
expect "sibling cancelled" cancelled "$(q "SELECT state FROM tasks WHERE id = $B")"
# (the comment names the accepted one's pull request as recorded: the delivery's html_url)
UA=$(q "SELECT pull_request->>'url' FROM tasks WHERE id = $A")
wait_for 30 "SELECT pull_request->>'state' = 'closed' FROM tasks WHERE id = $B" ||
  fail "sibling's pull request not recorded closed: $(q "SELECT state, last_error, attempts FROM forge_comments WHERE task_id = $B")"
pull() { curl -s -H "Authorization: Bearer $FORGE_TOKEN" -H 'User-Agent: e2e' "$FURL/repos/acme/widgets/pulls/$1"; }
expect "sibling's pull request on the forge" closed "$(pull "$PB" | jq -r .state)"
expect "accepted one's pull request" open "$(pull "$PA" | jq -r .state)"
c=$(curl -s -H "Authorization: Bearer $FORGE_TOKEN" -H 'User-Agent: e2e' "$FURL/repos/acme/widgets/issues/$PB/comments")
expect "superseded comment" "Superseded: fan-out sibling #$A was accepted ($UA)" "$(jq -r '.[0].body' <<<"$c")"
expect "one comment" 1 "$(jq length <<<"$c")"
pass "7: fan-out: merging #$PA's child closed its sibling's pull request #$PB, with the comment"
