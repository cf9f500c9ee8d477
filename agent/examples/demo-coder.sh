#!/usr/bin/env bash
# drover demo coding command -- a stand-in for a real coding CLI, run only when chosen by name
# (DROVER_CODING_COMMAND=demo: scripts/run.sh without Claude Code, the tests). It is a DEMO: it does not
# understand the prompt, it makes a small, real, deterministic change derived from it and
# commits it.
#
# Input (set by drover-agent): DROVER_TASK_PROMPT (the prompt), DROVER_TASK_ID, DROVER_TASK_TITLE,
# DROVER_TASK_ATTEMPT; the current directory is the clone, on the task's branch.
#
# What it does: writes drover-demo/task-<id>.md with the title, the prompt and the prompt's
# SHA-256, appends one line to drover-demo/CHANGES.md, and commits both. Same prompt -> same
# file content.
#
# Directives, anywhere in the prompt, as whole words (for tests and demos):
#   sleep N    simulate N seconds of work: first write drover-demo/wip-<id>.txt (uncommitted
#              work in progress, which drover-agent pushes if the attempt is stopped), then
#              sleep N seconds printing "working <i>/<N>" every second. An attempt that finds
#              that file already on the branch (pushed by an earlier, interrupted attempt)
#              resumes without sleeping.
#   lines N    print N numbered lines "line <i> of <N>" (to check log ordering)
#   usage N    print a Claude-Code-style stream-json usage event for N output tokens
#              (so heartbeats report usage and task budgets can be exercised)
#   noop       change nothing and exit 0
#   fail       print an error and exit 3 without changing anything
set -euo pipefail

prompt=${DROVER_TASK_PROMPT:-${1:-}}
id=${DROVER_TASK_ID:-0}
title=${DROVER_TASK_TITLE:-$(printf '%s\n' "$prompt" | head -n1)}

# The number after a directive word, or empty.
arg_of() { printf '%s\n' "$prompt" | grep -oiwE "$1 [0-9]+" | head -n1 | awk '{print $2}'; }
has() { printf '%s\n' "$prompt" | grep -qiw -- "$1"; }

echo "demo-coder: task $id: $title"
n=$(arg_of usage || true)
if [ -n "$n" ]; then
  printf '{"type":"assistant","message":{"usage":{"input_tokens":0,"output_tokens":%d}}}\n' "$n"
fi
n=$(arg_of lines || true)
if [ -n "$n" ]; then
  for i in $(seq 1 "$n"); do echo "line $i of $n"; done
fi
n=$(arg_of sleep || true)
if [ -n "$n" ]; then
  if [ -f "drover-demo/wip-$id.txt" ]; then
    echo "demo-coder: resuming the work in progress of an earlier attempt"
  else
    mkdir -p drover-demo
    printf 'work in progress on task %s\n' "$id" > "drover-demo/wip-$id.txt"
    for i in $(seq 1 "$n"); do echo "working $i/$n"; sleep 1; done
  fi
fi
if has fail; then
  echo "demo-coder: the prompt asked me to fail" >&2
  exit 3
fi
if has noop; then
  echo "demo-coder: nothing to change (noop)"
  exit 0
fi

mkdir -p drover-demo
sum=$(printf '%s' "$prompt" | sha256sum | cut -c1-64)
{
  printf '# %s\n\n' "$title"
  printf 'Task %s, done by the Drover demo coding command (not a real model).\n\n' "$id"
  printf 'Prompt SHA-256: %s\n\n' "$sum"
  printf '## Prompt\n\n%s\n' "$prompt"
} > "drover-demo/task-$id.md"
printf -- '- task %s: %s\n' "$id" "$title" >> drover-demo/CHANGES.md
git add drover-demo
git -c user.name="${GIT_AUTHOR_NAME:-Drover Demo Coder}" \
    -c user.email="${GIT_AUTHOR_EMAIL:-demo-coder@drover.invalid}" \
    commit -q -m "demo: $title" -m "Drover task $id (demo coding command)."
echo "demo-coder: wrote drover-demo/task-$id.md and committed it"
exit 0
