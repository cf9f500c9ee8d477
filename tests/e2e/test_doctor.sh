#!/usr/bin/env bash
# GET /api/diagnostics and `droverd doctor` (issue 17): one report of what is wrong, each
# check with a status, the detail and the fix. Here: a healthy git project, a project whose
# repository does not exist, a Gitea project (tests/fakes/fake_forge.py) with a valid and one
# with a refused token, an agent whose coding command could not start, a replica whose clock
# is 9 s off, and a Kubernetes backend whose kubeconfig is missing. Each API forge project's
# webhook to Drover (webhook:<project>), for Gitea, GitLab and GitHub alike: none (warn, the fix
# names the URL to add), active with Drover's events (ok), inactive (warn), a token that may
# not list the hooks (warn); a plain git project has none to check. Then all fixed: exit 0.
source "$(dirname "$0")/../protocol/lib.sh"
command -v jq >/dev/null || proto_missing "jq not installed"
command -v python3 >/dev/null || proto_missing "python3 not installed"

proto_db
repo=$(proto_repo)
FORGE_TOKEN=doctor-forge-token
READER_TOKEN=doctor-reader-token # reads the repository, is no admin of it: may not list hooks
FAKE_FORGE_READER_TOKEN=$READER_TOKEN \
python3 "$PROTO_ROOT/tests/fakes/fake_forge.py" --token "$FORGE_TOKEN" >"$PROTO_TMP/forge.out" 2>&1 &
FORGE_PID=$!
trap 'rc=$?; kill $FORGE_PID 2>/dev/null || true; (exit $rc); proto_cleanup' EXIT
for _ in $(seq 1 100); do
  grep -q '^PORT=' "$PROTO_TMP/forge.out" 2>/dev/null && break
  sleep 0.1
done
FORGE="http://127.0.0.1:$(sed -n 's/^PORT=//p' "$PROTO_TMP/forge.out")"
proto_psql -c "INSERT INTO projects (name, repo_url) VALUES ('good', '$repo'),
                 ('gone', 'file://$PROTO_TMP/no-such.git');
               INSERT INTO projects (name, repo_url, forge_kind, forge_api_url, forge_repo_path)
                 VALUES ('widgets', 'https://forge.test/acme/widgets.git', 'gitea', '$FORGE/api/v1', 'acme/widgets'),
                        ('badtoken', 'https://forge.test/acme/widgets.git', 'gitea', '$FORGE/api/v1', 'acme/widgets')" >/dev/null
proto_agent_token doctor-agent
proto_psql -c "UPDATE agents SET status = 'idle' WHERE id = '$AGENT_ID';
               INSERT INTO activity (agent_id, kind, level, message)
                 VALUES ('$AGENT_ID', 'log', 'error', 'cannot start the coding command: claude: not found');
               INSERT INTO replica_clocks (replica, skew_ms) VALUES ('far-replica', 9000)" >/dev/null
export DROVER_FORGE_TOKEN_WIDGETS=$FORGE_TOKEN DROVER_FORGE_TOKEN_BADTOKEN=wrong-token

# ---- webhooks: per forge, projects <forge>-none|good|off|reader on the fake's repositories ----
PUBLIC=https://drover.example
export DROVER_PUBLIC_URL=$PUBLIC DROVER_WEBHOOK_SECRET=doctor-hook-secret
hooks() { # forge repo hooks-json: replace the repository's hooks on the fake
  curl -fsS -X POST "$FORGE/_fake/hooks" -H 'Content-Type: application/json' \
    -d "{\"forge\": \"$1\", \"repo\": \"$2\", \"hooks\": $3}" >/dev/null ||
    proto_fail "registering hooks on the fake $1 $2"
}
hook() { # forge url active: one hook in that forge's shape with Drover's events
  case $1 in
  gitea) echo "{\"type\": \"gitea\", \"active\": $3, \"config\": {\"url\": \"$2\", \"content_type\": \"json\"},
           \"events\": [\"pull_request\", \"pull_request_review\", \"issue_comment\", \"issue_label\"]}" ;;
  github) echo "{\"active\": $3, \"config\": {\"url\": \"$2\", \"content_type\": \"json\"},
           \"events\": [\"pull_request\", \"pull_request_review\", \"pull_request_review_comment\", \"issue_comment\", \"issues\"]}" ;;
  gitlab) echo "{\"url\": \"$2\", \"merge_requests_events\": true, \"note_events\": true, \"issues_events\": true,
           \"alert_status\": \"$([ "$3" = true ] && echo executable || echo disabled)\"}" ;;
  esac
}
for f in gitea gitlab github; do
  case $f in gitea) api=$FORGE/api/v1 ;; gitlab) api=$FORGE/api/v4 ;; github) api=$FORGE ;; esac
  for c in none good off reader; do
    proto_psql -c "INSERT INTO projects (name, repo_url, forge_kind, forge_api_url, forge_repo_path)
                     VALUES ('$f-$c', 'https://forge.test/acme/$c.git', '$f', '$api', 'acme/$c')" >/dev/null
    tok=$FORGE_TOKEN
    [ "$c" = reader ] && tok=$READER_TOKEN
    export "DROVER_FORGE_TOKEN_${f^^}_${c^^}=$tok"
  done
  hooks "$f" acme/none "[$(hook "$f" https://ci.example/hook true)]"
  hooks "$f" acme/good "[$(hook "$f" https://ci.example/hook true), $(hook "$f" "$PUBLIC/api/hooks/forge/$f/$f-good" true)]"
  hooks "$f" acme/off "[$(hook "$f" "$PUBLIC/api/hooks/forge/$f/$f-off" false)]"
  hooks "$f" acme/reader "[$(hook "$f" "$PUBLIC/api/hooks/forge/$f/$f-reader" true)]"
done
expect_hooks() { # report: the webhook checks of every forge's projects
  local f
  for f in gitea gitlab github; do
    expect "$1" "forge:$f-good" ok "$f forge answers and accepts"
    expect "$1" "webhook:$f-none" warn 'no webhook to Drover: reviews on the forge will not reach it'
    check "$1" "webhook:$f-none" | grep -qF "URL $PUBLIC/api/hooks/forge/$f/$f-none" ||
      proto_fail "webhook:$f-none: the fix names no URL: $(check "$1" "webhook:$f-none")"
    check "$1" "webhook:$f-none" | grep -qF "DROVER_WEBHOOK_SECRET_${f^^}_NONE" ||
      proto_fail "webhook:$f-none: the fix names no secret variable"
    expect "$1" "webhook:$f-good" ok "webhook $PUBLIC/api/hooks/forge/$f/$f-good active \\(events "
    expect "$1" "webhook:$f-off" warn "webhook $PUBLIC/api/hooks/forge/$f/$f-off is (inactive|disabled by the forge)"
    expect "$1" "webhook:$f-reader" warn "the project's token may not list acme/reader's webhooks"
  done
  check "$1" webhook:github-reader | grep -qF 'Webhooks: read' || proto_fail "github reader fix: $(check "$1" webhook:github-reader)"
  check "$1" webhook:gitlab-reader | grep -qF 'Maintainer' || proto_fail "gitlab reader fix: $(check "$1" webhook:gitlab-reader)"
}

check() { # report name -> "status|detail|fix"
  jq -r --arg n "$2" '.checks[] | select(.name == $n) | "\(.status)|\(.detail)|\(.fix // "")"' <<<"$1"
}
expect() { # report name status detail-regex
  local got
  got=$(check "$1" "$2")
  [ -n "$got" ] || proto_fail "no check $2 in: $1"
  [ "${got%%|*}" = "$3" ] || proto_fail "check $2: '$got', want status $3"
  grep -Eq -- "$4" <<<"$got" || proto_fail "check $2: '$got' does not match '$4'"
  if [ "$3" != ok ]; then
    [ -n "${got##*|}" ] || proto_fail "check $2 ($3) has no fix: '$got'"
  fi
}

# ---- the API ----
proto_serve
op=$(drover_token operator doctor-op)
code=$(curl -s -o /dev/null -w '%{http_code}' "$PROTO_URL/api/diagnostics")
[ "$code" = 401 ] || proto_fail "no token: HTTP $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "$PROTO_URL/api/diagnostics" -H "Authorization: Bearer $DROVER_TOKEN")
[ "$code" = 403 ] || proto_fail "agent token: HTTP $code"
r=$(curl -fsS --max-time 60 "$PROTO_URL/api/diagnostics" -H "Authorization: Bearer $op") ||
  proto_fail "GET /api/diagnostics failed"
[ "$(jq -r .status <<<"$r")" = fail ] || proto_fail "overall status: $(jq -r .status <<<"$r")"
expect "$r" database ok 'PostgreSQL answers'
expect "$r" migrations ok 'every migration'
expect "$r" forge:good ok 'git forge answers'
expect "$r" forge:gone fail 'git ls-remote .*no-such.git'
expect "$r" forge:widgets ok 'gitea forge answers and accepts'
expect "$r" forge:badtoken fail 'gitea forge: .*'
expect "$r" webhook:good ok 'not applicable: a plain git remote has no webhooks'
expect "$r" webhook:widgets warn 'no webhook to Drover'
expect "$r" webhook:badtoken warn 'not checked: the forge check of badtoken failed'
expect_hooks "$r"
check "$r" forge:badtoken | grep -q 'DROVER_FORGE_TOKEN_<PROJECT>' || proto_fail "the token fix names the variable"
expect "$r" agents.coder fail "$AGENT_ID \\(cannot start the coding command"
expect "$r" clock fail 'largest skew 9000 ms on far-replica'
expect "$r" pool.backend ok 'no pod backend'
grep -q "$FORGE_TOKEN\|wrong-token" <<<"$r" && proto_fail "the report shows a token"
# The check ran on the slow workers: the forge is asked with no row lock held (nothing to see
# from outside but that it answered); the replica's own clock row was recorded.
[ "$(proto_psql -c "SELECT count(*) FROM replica_clocks WHERE replica <> 'far-replica'")" -ge 1 ] ||
  proto_fail "this replica's clock was not recorded"
drover_stop

# ---- droverd doctor: the same report on the command line ----
rc=0
out=$("$DROVERD" doctor --pod-backend none) || rc=$?
[ "$rc" = 1 ] || proto_fail "doctor with failures: exit $rc, want 1: $out"
grep -Eq '^fail +forge:gone ' <<<"$out" || proto_fail "doctor text: $out"
grep -Eq '^ +fix: ' <<<"$out" || proto_fail "doctor prints no fix: $out"
grep -Eq '^warn +webhook:gitea-off ' <<<"$out" || proto_fail "doctor text: no webhook:gitea-off warn: $out"
grep -q '^overall: fail$' <<<"$out" || proto_fail "doctor overall: $out"
out=$("$DROVERD" doctor --pod-backend none --json) || true
[ "$(jq -r '.checks | length' <<<"$out")" -ge 8 ] || proto_fail "doctor --json: $out"
expect_hooks "$out"
rc=0
out=$("$DROVERD" doctor --pod-backend kubernetes --kubeconfig "$PROTO_TMP/no-kubeconfig" --json) || rc=$?
expect "$out" pool.template fail 'kubernetes backend does not load'
rc=0
"$DROVERD" doctor --bogus >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || proto_fail "doctor --bogus: exit $rc, want 2"

# ---- fixed: nothing fails ----
proto_psql -c "DELETE FROM projects WHERE name IN ('gone', 'badtoken') OR name LIKE '%-none'
                 OR name LIKE '%-off' OR name LIKE '%-reader';
               DELETE FROM activity WHERE agent_id = '$AGENT_ID';
               DELETE FROM replica_clocks" >/dev/null
# widgets gets its hook, on an address of droverd's other than a public URL: without
# DROVER_PUBLIC_URL the check matches the path alone.
hooks gitea acme/widgets "[$(hook gitea http://10.1.2.3:8080/api/hooks/forge/gitea/widgets true)]"
unset DROVER_PUBLIC_URL
rc=0
out=$("$DROVERD" doctor --pod-backend none) || rc=$?
[ "$rc" = 0 ] || proto_fail "doctor after the fixes: exit $rc: $out"
grep -q '^overall: ok$' <<<"$out" || proto_fail "doctor after the fixes: $out"
grep -Eq '^ok +webhook:widgets +webhook http://10.1.2.3:8080/api/hooks/forge/gitea/widgets active' <<<"$out" ||
  proto_fail "doctor after the fixes: webhook:widgets: $out"
proto_log "PASS: diagnostics over the API and droverd doctor: each check with status, detail and fix"
