#!/usr/bin/env bash
# Create (once) the demo project's remote: a bare git repository with an initial commit on
# main, for the embedded default (scripts/run.sh) and for trying Drover locally.
#   usage: make-demo-repo.sh DIR       -> DIR/demo.git; prints its file:// URL
# Re-running leaves an existing repository (and the branches agents pushed) untouched.
set -euo pipefail
dir=${1:?usage: make-demo-repo.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
repo=$dir/demo.git
if [ ! -d "$repo" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  git init -q --bare -b main "$repo"
  git init -q -b main "$tmp/w"
  cat > "$tmp/w/README.md" <<'MD'
# Drover demo repository

Tasks submitted to the `demo` project are worked on branches of this repository
(`drover/<task id>-<title>`). Without Claude Code credentials the agents run the demo
coding command, which writes `drover-demo/task-<id>.md` from the prompt and commits it.
MD
  cat > "$tmp/w/AGENTS.md" <<'MD'
Keep changes small. Explain what you did in the commit message.
MD
  git -C "$tmp/w" add -A
  git -C "$tmp/w" -c user.name="Drover" -c user.email="drover@localhost" commit -q -m "Demo repository"
  git -C "$tmp/w" push -q "$repo" main
fi
echo "file://$repo"
