#!/usr/bin/env bash
# Checks the agent image's runtime stage without a container engine: builds a Debian 12
# (bookworm) root filesystem with Debian's mmdebstrap, runs agent/image-runtime.sh in it (the
# very script agent/Dockerfile runs, with the same pinned CLAUDE_CODE_VERSION and NODE_VERSION),
# copies in drover-agent and the demo coder as the Dockerfile does, and then, inside the root
# filesystem as the image's user (uid 10001), requires `node --version` (22), `claude
# --version` (the pinned version) and `drover-agent --version` to work.
#
#   scripts/check-agent-image.sh [BUILD_DIR]     (default build/test; needs root and network)
#   DROVER_IMAGE_CA=FILE   an extra CA bundle for npm (default $NODE_EXTRA_CA_CERTS)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/test}
agent=$build/agent/drover-agent
[ -x "$agent" ] || { echo "no drover-agent in $build" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "needs root (mmdebstrap, chroot)" >&2; exit 1; }
command -v mmdebstrap >/dev/null || { echo "needs mmdebstrap (apt-get install mmdebstrap)" >&2; exit 1; }
cc=$(sed -n 's/^ARG CLAUDE_CODE_VERSION=//p' "$root/agent/Dockerfile")
nv=$(sed -n 's/^ARG NODE_VERSION=//p' "$root/agent/Dockerfile")
pinned=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["dependencies"]["@anthropic-ai/claude-code"])' "$root/tests/protocol/package.json")
[ "$cc" = "$pinned" ] || { echo "agent/Dockerfile pins Claude Code $cc, the tests $pinned" >&2; exit 1; }
rootfs=$(mktemp -d /tmp/drover-agent-rootfs.XXXXXX)
cleanup() {
  for m in proc dev/pts dev sys; do umount -l "$rootfs/$m" 2>/dev/null || true; done
  rm -rf "$rootfs"
}
trap cleanup EXIT
echo "==> mmdebstrap bookworm (minbase) into $rootfs"
mmdebstrap --variant=minbase --include=bash,ca-certificates bookworm "$rootfs" >"$rootfs.log" 2>&1 ||
  { tail -20 "$rootfs.log"; exit 1; }
cp /etc/resolv.conf "$rootfs/etc/resolv.conf"
mount -t proc proc "$rootfs/proc"
mount --bind /dev "$rootfs/dev"
mount --bind /dev/pts "$rootfs/dev/pts"
mount --bind /sys "$rootfs/sys"
cp "$root/agent/image-runtime.sh" "$rootfs/tmp/image-runtime.sh"
# Behind a TLS-intercepting proxy the host trusts an extra CA (the image build would get it
# the same way, e.g. a build secret): hand the host's bundle to npm and Node.
ca=()
if [ -n "${DROVER_IMAGE_CA:-${NODE_EXTRA_CA_CERTS:-}}" ]; then
  cp "${DROVER_IMAGE_CA:-$NODE_EXTRA_CA_CERTS}" "$rootfs/tmp/host-ca.crt"
  ca=(NODE_EXTRA_CA_CERTS=/tmp/host-ca.crt npm_config_cafile=/tmp/host-ca.crt)
fi
echo "==> agent/image-runtime.sh (CLAUDE_CODE_VERSION=$cc NODE_VERSION=$nv)"
proxy=()
for v in http_proxy https_proxy HTTP_PROXY HTTPS_PROXY no_proxy NO_PROXY; do
  [ -n "${!v:-}" ] && proxy+=("$v=${!v}")
done
chroot "$rootfs" env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root "${proxy[@]}" "${ca[@]}" \
  CLAUDE_CODE_VERSION="$cc" NODE_VERSION="$nv" bash /tmp/image-runtime.sh >"$rootfs.runtime.log" 2>&1 ||
  { tail -30 "$rootfs.runtime.log"; exit 1; }
# The Dockerfile's COPY and user steps.
install -m 0755 "$agent" "$rootfs/usr/local/bin/drover-agent"
install -m 0755 "$root/agent/examples/demo-coder.sh" "$rootfs/usr/local/bin/drover-demo-coder"
chroot "$rootfs" useradd --create-home --uid 10001 --shell /bin/bash drover
as_user() { chroot --userspec=10001:10001 "$rootfs" env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/home/drover "$@"; }
n=$(as_user node --version)
c=$(as_user claude --version)
a=$(as_user drover-agent --version)
echo "node $n; claude $c; $a"
[[ $n == v22.* ]] || { echo "FAIL: node $n is not 22" >&2; exit 1; }
[[ $c == *"$cc"* ]] || { echo "FAIL: claude --version: $c" >&2; exit 1; }
[[ $a == "drover-agent "* ]] || { echo "FAIL: drover-agent --version: $a" >&2; exit 1; }
# Without a coding command or credentials the image's agent says why instead of taking work.
out=$(as_user env MCP_SERVER_URL=http://127.0.0.1:1/mcp DROVER_TOKEN=x DROVER_EXIT_WHEN_IDLE=1 \
  timeout 10 drover-agent 2>&1 || true)
grep -q "no model credentials for Claude Code" <<<"$out" ||
  { echo "FAIL: the image's agent without credentials: $out" >&2; exit 1; }
echo "PASS: the agent image's runtime steps give a working node 22, claude $cc and drover-agent"
rm -f "$rootfs.log" "$rootfs.runtime.log"
