#!/usr/bin/env bash
# scripts/run.sh, the embedded default, end to end: it comes up with its own PostgreSQL cluster,
# local agents and the demo repository; a task submitted to it reaches ready_to_test with a
# commit on its branch in the demo repository; SIGINT (Ctrl-C) shuts everything down cleanly;
# a second start resumes with the same data and token.
set -euo pipefail
root=${DROVER_SOURCE_DIR:?}
build=${DROVER_BUILD_DIR:?}
# shellcheck source=harness.sh
source "$root/tests/e2e/harness.sh"
if [ "$(id -u)" -ne 0 ] && ! command -v initdb >/dev/null; then
  echo "run.sh needs root (to run PostgreSQL as postgres) or initdb on PATH"
  exit 77
fi
tmp=$(mktemp -d /tmp/drover-run-sh.XXXXXX)
chmod 755 "$tmp"
# No ~/.claude of the caller's: run.sh would pick Claude Code as the coding command.
drover_harness_home "$tmp/home"
port=18710
pgport=18760
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
while (exec 3<>"/dev/tcp/127.0.0.1/$pgport") 2>/dev/null; do pgport=$((pgport + 1)); done
pid=""
fail() {
  echo "FAIL: $*"
  echo "---- run.sh output ----"; cat "$tmp/out" 2>/dev/null || true
  echo "---- droverd.log (last 40) ----"; tail -40 "$tmp/state/logs/droverd.log" 2>/dev/null || true
  exit 1
}
cleanup() {
  [ -n "$pid" ] && kill -INT "$pid" 2>/dev/null && sleep 3
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
  local pgbin
  pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  runuser -u postgres -- "$pgbin/pg_ctl" -D "$tmp/state/pg" -m immediate stop >/dev/null 2>&1 || true
  pkill -f "$tmp/state" 2>/dev/null || true
  rm -rf "$tmp" "${cbin:-}"
}
trap cleanup EXIT

extra_env=()
start() {
  # Empty the output first: the background job truncates it only once it runs, and until then
  # the wait below would find the previous start's lines (and a restart's token check read none).
  : >"$tmp/out"
  # env --default-signal: a background job of a non-interactive shell would ignore SIGINT.
  env -u PGOPTIONS -u PGHOST -u PGPORT -u PGDATABASE --default-signal=INT "${extra_env[@]}" \
    DROVER_STATE_DIR="$tmp/state" DROVER_PORT=$port DROVER_PG_PORT=$pgport \
    DROVER_BUILD_DIR="$build" "$root/scripts/run.sh" >"$tmp/out" 2>&1 &
  pid=$!
  for _ in $(seq 300); do
    grep -q '^DROVER_DEMO_REPO=' "$tmp/out" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || fail "run.sh exited early"
    sleep 0.2
  done
  fail "run.sh did not come up within 60 s"
}

stop() {
  kill -INT "$pid"
  for _ in $(seq 150); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  kill -0 "$pid" 2>/dev/null && fail "run.sh did not stop within 30 s of SIGINT"
  wait "$pid" || fail "run.sh exited non-zero after SIGINT"
  pid=""
  if pgrep -f "$tmp/state" >/dev/null; then
    fail "processes left behind: $(pgrep -af "$tmp/state")"
  fi
}

start
url=$(sed -n 's/^DROVER_URL=//p' "$tmp/out")
token=$(sed -n 's/^DROVER_TOKEN=//p' "$tmp/out")
repo=$(sed -n 's/^DROVER_DEMO_REPO=//p' "$tmp/out")
[ -n "$url" ] && [ -n "$token" ] && [ -d "$repo" ] || fail "run.sh did not print its three lines"
grep -q "Agents run:       the demo coding command (DROVER_CODING_COMMAND=demo" "$tmp/out" ||
  fail "run.sh does not say it chose the demo coder"

resp=$(curl -fsS -X POST "$url/api/tasks" -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' \
  -d '{"project": "demo", "title": "Add a greeting", "prompt": "Add a file that says hello"}') ||
  fail "POST /api/tasks failed"
id=$(jq -r '.task.id // .id' <<<"$resp")
[ "$id" -gt 0 ] 2>/dev/null || fail "no task id in $resp"
state=""
for _ in $(seq 300); do
  state=$(curl -fsS "$url/api/tasks/$id" -H "Authorization: Bearer $token" | jq -r '.task.state // .state')
  [ "$state" = ready_to_test ] && break
  sleep 0.2
done
[ "$state" = ready_to_test ] || fail "task $id is $state, not ready_to_test, after 60 s"
branch=$(curl -fsS "$url/api/tasks/$id" -H "Authorization: Bearer $token" | jq -r '.task.branch // .branch')
git --git-dir "$repo" rev-parse --verify -q "refs/heads/$branch" >/dev/null ||
  fail "branch $branch is not in the demo repository"
[ "$(git --git-dir "$repo" rev-list --count "main..$branch")" -ge 1 ] ||
  fail "branch $branch has no commit of its own"
echo "ok - task $id reached ready_to_test with a commit on $branch"

stop
echo "ok - SIGINT stopped droverd, its agents and PostgreSQL"

start
[ "$(sed -n 's/^DROVER_TOKEN=//p' "$tmp/out")" = "$token" ] || fail "the token changed across restarts"
got=$(curl -fsS "$url/api/tasks/$id" -H "Authorization: Bearer $token" | jq -r '.task.state // .state')
[ "$got" = ready_to_test ] || fail "after a restart task $id is $got"
echo "ok - a second start resumes with the same data"
stop

# With ANTHROPIC_API_KEY set and claude on PATH, run.sh's agents run Claude Code and say so
# (against the scripted Messages API of tests/fakes/fake_anthropic.py, offline).
npm_tools=${DROVER_NPM_TOOLS:-$root/.cache/npm-tools}
if [ ! -x "$npm_tools/node_modules/.bin/claude" ]; then
  [ "${DROVER_TEST_REQUIRE_DB:-0}" = 1 ] && fail "Claude Code is not installed in $npm_tools (scripts/lib/npm-tools.sh)"
  echo "skip - Claude Code is not installed in $npm_tools"
  echo "PASS: scripts/run.sh"
  exit 0
fi
# Not under /tmp: the coding command runs in bubblewrap (the default sandbox), whose /tmp is its
# own, so a claude found there would not be found by the command.
cbin="$build/e2e-run-sh-bin.$$"
mkdir -p "$cbin"
ln -sf "$npm_tools/node_modules/.bin/claude" "$cbin/claude"
cat >"$tmp/script.json" <<'JSON'
[{"when": null, "turns": [
  {"blocks": [{"tool": "Write", "input": {"file_path": "./HELLO.md", "content": "hello\n"}}],
   "usage": {"input_tokens": 300, "output_tokens": 20}},
  {"blocks": [{"text": "Wrote HELLO.md."}], "usage": {"input_tokens": 320, "output_tokens": 5}}]}]
JSON
python3 "$root/tests/fakes/fake_anthropic.py" --token sk-ant-run-sh --script "$tmp/script.json" >"$tmp/anthropic.port" 2>&1 &
fake=$!
for _ in $(seq 50); do grep -q PORT= "$tmp/anthropic.port" && break; sleep 0.1; done
extra_env=(PATH="$cbin:$PATH" ANTHROPIC_API_KEY=sk-ant-run-sh
  ANTHROPIC_BASE_URL="http://127.0.0.1:$(sed -n 's/^PORT=//p' "$tmp/anthropic.port")"
  CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 DISABLE_AUTOUPDATER=1)
start
grep -q "Agents run:       Claude Code (claude -p, $cbin/claude)" "$tmp/out" ||
  { kill $fake; fail "run.sh does not say its agents run Claude Code"; }
resp=$(curl -fsS -X POST "$url/api/tasks" -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' -d '{"project": "demo", "title": "Say hello", "prompt": "Add HELLO.md"}')
id=$(jq -r '.task.id // .id' <<<"$resp")
for _ in $(seq 300); do
  state=$(curl -fsS "$url/api/tasks/$id" -H "Authorization: Bearer $token" | jq -r '.task.state // .state')
  case $state in ready_to_test | failed | completed) break ;; esac
  sleep 0.2
done
kill $fake
[ "$state" = ready_to_test ] || fail "the Claude Code task $id is $state: $(curl -fsS "$url/api/tasks/$id" -H "Authorization: Bearer $token" | jq -r '.last_error')"
branch=$(curl -fsS "$url/api/tasks/$id" -H "Authorization: Bearer $token" | jq -r '.task.branch // .branch')
[ "$(git --git-dir "$repo" show "$branch:HELLO.md")" = hello ] || fail "Claude Code's HELLO.md is not on $branch"
# The model gave no summary of its own: its final message is the task's (and the PR body's).
summary=$(curl -fsS "$url/api/tasks/$id" -H "Authorization: Bearer $token" | jq -r '(.task // .).result.summary')
[ "$summary" = "Wrote HELLO.md." ] || fail "the task's summary is not the model's final message: $summary"
grep -lq "coder='Claude Code (credentials: ANTHROPIC_API_KEY with ANTHROPIC_BASE_URL)'" "$tmp/state/logs/agents/"* ||
  fail "no agent log says it runs Claude Code"
echo "ok - with ANTHROPIC_API_KEY and claude on PATH, run.sh's agents run Claude Code and say so"
stop
echo "PASS: scripts/run.sh"
