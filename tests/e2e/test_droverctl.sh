#!/usr/bin/env bash
# droverctl reads like the ecosystem's CLIs (issue 17): every command prints a short summary
# or a table by default and JSON only with --json (pool get/set/scale included), `agents`
# hides long-offline agents unless --all, and `droverctl completion bash|zsh` completes
# commands, subcommands, options and option values from droverctl's own command table.
source "$(dirname "$0")/../protocol/lib.sh"
command -v jq >/dev/null || proto_missing "jq not installed"
CTL=$PROTO_BUILD/agent/droverctl
[ -x "$CTL" ] || proto_missing "droverctl not built"

proto_db
proto_serve
export DROVER_URL=$PROTO_URL DROVER_TOKEN
DROVER_TOKEN=$(drover_token admin ctl-admin)
is_json() { jq -e . >/dev/null 2>&1 <<<"$1"; }

# ---- pool get/set/scale: a summary by default, the API's JSON with --json ----
out=$("$CTL" pool get) || proto_fail "pool get failed"
is_json "$out" && proto_fail "pool get printed JSON without --json: $out"
grep -Eq '^pool: +min [0-9]+, max [0-9]+ \(hard cap [0-9]+\); not pinned$' <<<"$out" ||
  proto_fail "pool get summary: $out"
grep -Eq '^agents: +0 busy, 0 idle' <<<"$out" || proto_fail "pool get agents line: $out"
grep -Eq '^tasks: +0 runnable' <<<"$out" || proto_fail "pool get tasks line: $out"
out=$("$CTL" pool get --json) || proto_fail "pool get --json failed"
jq -e '.settings.min_agents | type == "number"' <<<"$out" >/dev/null || proto_fail "pool get --json: $out"
out=$("$CTL" --json pool get) || proto_fail "--json before the command failed"
is_json "$out" || proto_fail "droverctl --json pool get: $out"

out=$("$CTL" pool set --min 1 --max 6) || proto_fail "pool set failed"
grep -q '^pool bounds updated$' <<<"$out" || proto_fail "pool set says nothing changed: $out"
grep -Eq '^pool: +min 1, max 6 ' <<<"$out" || proto_fail "pool set summary: $out"
[ "$("$CTL" pool set --min 2 --max 7 --json | jq -r .settings.max_agents)" = 7 ] ||
  proto_fail "pool set --json"
out=$("$CTL" pool scale 4 --for 600) || proto_fail "pool scale failed"
grep -Eq '^pool: .*; pinned to 4 until [0-9]{4}-' <<<"$out" || proto_fail "pool scale summary: $out"
grep -q '^pool pinned$' <<<"$out" || proto_fail "pool scale headline: $out"
out=$("$CTL" pool scale --unpin) || proto_fail "pool unpin failed"
grep -q '^pool unpinned$' <<<"$out" && grep -q 'not pinned$' <<<"$out" || proto_fail "unpin: $out"

# ---- other commands: tables and summaries by default ----
"$CTL" project add web file:///srv/web.git >"$PROTO_TMP/p" || proto_fail "project add"
grep -q '^project [0-9]* web created$' "$PROTO_TMP/p" || proto_fail "project add: $(cat "$PROTO_TMP/p")"
out=$("$CTL" project list)
is_json "$out" && proto_fail "project list printed JSON"
head -1 <<<"$out" | grep -q '^ID' || proto_fail "project list has no header: $out"

# ---- schedules ----
out=$("$CTL" schedule list) || proto_fail "schedule list failed"
grep -q '^no schedules' <<<"$out" || proto_fail "empty schedule list: $out"
out=$("$CTL" schedule add nightly --project web --cron '0 3 * * *' Update the dependencies) ||
  proto_fail "schedule add failed"
grep -q '^schedule [0-9]* nightly created (0 3 \* \* \*)' <<<"$out" || proto_fail "schedule add: $out"
sid=$("$CTL" schedule list --json | jq -r '.schedules[] | select(.name == "nightly") | .id')
[ -n "$sid" ] || proto_fail "schedule list --json has no nightly"
[ "$("$CTL" schedule list --json | jq -r '.schedules[0].prompt')" = "Update the dependencies" ] ||
  proto_fail "the prompt is the joined words"
out=$("$CTL" schedule list)
head -1 <<<"$out" | grep -Eq '^ID +NAME' || proto_fail "schedule list header: $out"
grep -Eq "^$sid +nightly +[0-9]+ +0 3 \* \* \* +yes " <<<"$out" || proto_fail "schedule list row: $out"
rc=0
"$CTL" schedule add bad --project web --cron 'not a cron' x 2>/dev/null || rc=$?
[ "$rc" = 1 ] || proto_fail "a bad cron: exit $rc, want 1 (the server refuses)"
rc=0
"$CTL" schedule add nocron --project web x 2>/dev/null || rc=$?
[ "$rc" = 2 ] || proto_fail "schedule add without --cron: exit $rc, want 2"
"$CTL" schedule delete "$sid" | grep -q "^schedule $sid deleted$" || proto_fail "schedule delete"
[ "$("$CTL" schedule list --json | jq '.schedules | length')" = 0 ] || proto_fail "not deleted"

# ---- notification endpoints: who hears of tasks that need people ----
out=$("$CTL" notify list) || proto_fail "notify list failed"
grep -q '^no notification endpoints' <<<"$out" || proto_fail "empty notify list: $out"
out=$("$CTL" notify add oncall https://hooks.slack.test/services/T0/B0/secretpath --format slack \
  --events needs_input,approval --project web) || proto_fail "notify add failed"
grep -q '^endpoint [0-9]* oncall added (slack): needs_input,approval$' <<<"$out" || proto_fail "notify add: $out"
"$CTL" notify add ci http://127.0.0.1:9/hook >/dev/null || proto_fail "notify add with the defaults"
out=$("$CTL" notify list)
head -1 <<<"$out" | grep -Eq '^ID +NAME +FORMAT +EVENTS +PROJECT +URL' || proto_fail "notify list header: $out"
grep -Eq '^[0-9]+ +oncall +slack +needs_input,approval +[0-9]+ +https://hooks.slack.test/\.\.\.' <<<"$out" ||
  proto_fail "notify list row (the webhook's secret path hidden): $out"
grep -q secretpath <<<"$out" && proto_fail "notify list shows the Slack webhook's secret path"
grep -Eq '^[0-9]+ +ci +generic +needs_input,ready_to_test,failed,completed,budget,approval +all ' <<<"$out" ||
  proto_fail "the default events: $out"
rc=0
"$CTL" notify add bad http://127.0.0.1:9/x --events whenever 2>"$PROTO_TMP/e" || rc=$?
[ "$rc" = 1 ] && grep -qi "event" "$PROTO_TMP/e" || proto_fail "an unknown event: exit $rc, $(cat "$PROTO_TMP/e")"
rc=0
"$CTL" notify add bad ftp://x/y 2>/dev/null || rc=$?
[ "$rc" = 1 ] || proto_fail "a URL that is not http(s): exit $rc, want 1"
rc=0
"$CTL" notify add onlyname 2>/dev/null || rc=$?
[ "$rc" = 2 ] || proto_fail "notify add without a URL: exit $rc, want 2"
[ "$("$CTL" notify list --json | jq '.endpoints | length')" = 2 ] || proto_fail "a refused add was stored"
nid=$("$CTL" notify list --json | jq -r '.endpoints[] | select(.name == "ci") | .id')
"$CTL" notify delete "$nid" | grep -q "^endpoint $nid deleted$" || proto_fail "notify delete"
rc=0
"$CTL" notify delete "$nid" 2>/dev/null || rc=$?
[ "$rc" = 1 ] || proto_fail "deleting it twice: exit $rc, want 1"
out=$("$CTL" notify deliveries) || proto_fail "notify deliveries failed"
grep -q '^no deliveries$' <<<"$out" || proto_fail "notify deliveries: $out"
"$CTL" notify deliveries --json | jq -e '.deliveries == []' >/dev/null || proto_fail "notify deliveries --json"

# ---- agents: long-offline agents only with --all ----
admin=$DROVER_TOKEN
proto_agent_token ctl-live
live=$AGENT_ID
proto_agent_token ctl-gone
gone=$AGENT_ID
DROVER_TOKEN=$admin
proto_psql -c "UPDATE agents SET status = 'offline', updated_at = now() - interval '2 hours' WHERE id = '$gone'" >/dev/null
out=$("$CTL" agents) || proto_fail "agents failed"
grep -q "$live" <<<"$out" || proto_fail "agents does not list the live agent: $out"
grep -q "$gone" <<<"$out" && proto_fail "agents lists an agent offline for 2 hours: $out"
"$CTL" agents --all | grep -q "$gone" || proto_fail "agents --all does not list the long-offline agent"
[ "$("$CTL" agents --all --json | jq '.agents | length')" = 2 ] || proto_fail "agents --all --json"

# ---- health: the diagnostics report ----
# The project "web" above points at a repository that does not exist: that check fails.
rc=0
out=$("$CTL" health) || rc=$?
[ "$rc" = 1 ] || proto_fail "health with a failing check: exit $rc, want 1: $out"
head -1 <<<"$out" | grep -Eq '^STATUS +CHECK +DETAIL' || proto_fail "health header: $out"
grep -Eq '^ok +database +PostgreSQL answers' <<<"$out" || proto_fail "health rows: $out"
grep -Eq '^fail +forge:web ' <<<"$out" || proto_fail "health does not show forge:web failing: $out"
grep -q '^fix forge:web: ' <<<"$out" || proto_fail "health prints no fix: $out"
grep -q '^overall: fail$' <<<"$out" || proto_fail "health overall: $out"
proto_psql -c "DELETE FROM projects WHERE name = 'web'" >/dev/null
out=$("$CTL" health) || proto_fail "health once fixed: $out"
grep -q '^overall: ok$' <<<"$out" || proto_fail "health overall once fixed: $out"
[ "$("$CTL" health --json | jq -r .status)" = ok ] || proto_fail "health --json"

# ---- completion ----
"$CTL" completion bash >"$PROTO_TMP/c.bash" || proto_fail "completion bash failed"
bash -n "$PROTO_TMP/c.bash" || proto_fail "the bash completion script does not parse"
"$CTL" completion zsh >"$PROTO_TMP/c.zsh" || proto_fail "completion zsh failed"
grep -q '^#compdef droverctl' "$PROTO_TMP/c.zsh" || proto_fail "the zsh script has no #compdef"
if command -v zsh >/dev/null; then
  zsh -n "$PROTO_TMP/c.zsh" || proto_fail "the zsh completion script does not parse"
fi
rc=0
"$CTL" completion fish 2>/dev/null || rc=$?
[ "$rc" = 2 ] || proto_fail "completion fish: exit $rc, want 2 (usage)"
complete_words() { # the words bash completes for the command line "$@" (the last is the current word)
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1));
           _droverctl; printf "%s\n" "${COMPREPLY[@]}"' _ "$PROTO_TMP/c.bash" "$@"
}
want() { # want "words..." -- command line
  local w=$1 got
  shift
  got=$(complete_words "$@" | sort | tr '\n' ' ')
  [ "$got" = "$w " ] || proto_fail "completing '$*': got '$got', want '$w'"
}
want "policy pool project" droverctl p
want "add delete deliveries list" droverctl notify ""
want "generic slack" droverctl notify add n u --format ""
want "approvals approve" droverctl appr
want "add delete list" droverctl schedule ""
want "--cron" droverctl schedule add n --cr
want "get scale set" droverctl pool ""
want "agents" droverctl --url http://x ag
want "--state" droverctl task list --st
want "backlog" droverctl task list --state bac
want "bash zsh" droverctl completion ""
want "git gitea github gitlab" droverctl project add web r --forge ""
want "--all" droverctl agents --a
# Every command of --help completes.
top=$(complete_words droverctl "")
for g in task agents pool project schedule token approvals approve deny policy notify health completion; do
  grep -qx -- "$g" <<<"$top" || proto_fail "'$g' does not complete: $top"
done
proto_log "PASS: droverctl summaries and --json, agents --all, bash/zsh completion"
