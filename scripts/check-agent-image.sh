#!/usr/bin/env bash
# Checks the agent image's runtime stage without a container engine: builds a Debian 12
# (bookworm) root filesystem with Debian's mmdebstrap, runs agent/image-runtime.sh in it (the
# very script agent/Dockerfile runs, with the same pinned CLAUDE_CODE_VERSION and NODE_VERSION),
# copies in drover-agent and the demo coder as the Dockerfile does, and then, inside the root
# filesystem as the image's user (uid 10001), requires `node --version` (22), `claude
# --version` (the pinned version) and `drover-agent --version` to work, and the agent without
# credentials to say so after its bubblewrap sandbox started (the image's default sandbox).
# tests/e2e/test_agent_image.sh (CTest e2e_agent_image) runs it.
#
#   scripts/check-agent-image.sh [BUILD_DIR]     (default build/test; needs root and the network:
#                                                 Debian's mirror and the npm registry)
#   DROVER_IMAGE_CA=FILE         an extra CA bundle for npm (default $NODE_EXTRA_CA_CERTS)
#   DROVER_IMAGE_DEB_CACHE=DIR   Debian packages kept between runs (default
#                                ~/.cache/drover/agent-image-debs; "" for none)
#   DROVER_IMAGE_NPM_CACHE=DIR   npm's cache handed to the image's npm (default the host's,
#                                `npm config get cache`, which scripts/lib/npm-tools.sh filled
#                                with the same pinned packages; "" for none)
#
# Fast on purpose (it runs in every CI run): the root filesystem is a tmpfs, and the downloads
# come from caches when they can. The caches change where the bytes come from, not what is
# installed: apt still checks every package against the signed index it fetched, npm every
# tarball against the registry's integrity hash, and image-runtime.sh runs unchanged — a wrong
# pin, a missing package or a broken step fails here as it would in `docker build`.
#
# Root filesystem steps run under bubblewrap (host's bwrap, as root: a mount namespace whose
# root is the image's), not chroot: a chrooted process may not create a user namespace, so the
# image's own bubblewrap could not start the coding command's sandbox there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/test}
build=$(cd "$build" && pwd)
agent=$build/agent/drover-agent
[ -x "$agent" ] || { echo "no drover-agent in $build" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "needs root (mmdebstrap, mounts)" >&2; exit 1; }
for t in mmdebstrap bwrap unshare; do
  command -v "$t" >/dev/null || { echo "needs $t (scripts/lib/common.sh drover_deps installs it)" >&2; exit 1; }
done
# Every mount below lives in a mount namespace of this script's own: gone when it exits,
# however it exits.
if [ -z "${DROVER_IMAGE_NS:-}" ]; then
  exec env DROVER_IMAGE_NS=1 unshare --mount --propagation private bash "$0" "$build"
fi
cc=$(sed -n 's/^ARG CLAUDE_CODE_VERSION=//p' "$root/agent/Dockerfile")
nv=$(sed -n 's/^ARG NODE_VERSION=//p' "$root/agent/Dockerfile")
pinned=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["dependencies"]["@anthropic-ai/claude-code"])' "$root/tests/protocol/package.json")
[ "$cc" = "$pinned" ] || { echo "agent/Dockerfile pins Claude Code $cc, the tests $pinned" >&2; exit 1; }

debs=${DROVER_IMAGE_DEB_CACHE-$HOME/.cache/drover/agent-image-debs}
npmc=${DROVER_IMAGE_NPM_CACHE-$(npm config get cache 2>/dev/null || echo "$HOME/.npm")}
logs=$(mktemp -d /tmp/drover-agent-image.XXXXXX)
rootfs=$logs/rootfs
mkdir "$rootfs"
# Peak use is about 1.5 GB (Claude Code's native binary is copied once by the runtime script).
mount -t tmpfs -o size=6g,mode=0755 drover-agent-rootfs "$rootfs"
ok=0
cleanup() {
  if [ "$ok" = 1 ]; then rm -rf "$logs"; else echo "logs kept in $logs" >&2; fi
}
trap 'umount -l "$rootfs" 2>/dev/null || true; cleanup' EXIT
t0=$SECONDS

echo "==> mmdebstrap bookworm (minbase) into a tmpfs${debs:+ (packages cached in $debs)}"
cache_opts=()
if [ -n "$debs" ]; then
  mkdir -p "$debs"
  cache_opts=(--skip=download/empty --skip=essential/unlink
    --setup-hook='mkdir -p "$1"/var/cache/apt/archives/'
    --setup-hook="sync-in $debs /var/cache/apt/archives/"
    --customize-hook="sync-out /var/cache/apt/archives $debs")
fi
mmdebstrap --variant=minbase "${cache_opts[@]}" bookworm "$rootfs" >"$logs/mmdebstrap.log" 2>&1 ||
  { tail -20 "$logs/mmdebstrap.log"; exit 1; }
t1=$SECONDS
cp "$root/agent/image-runtime.sh" "$rootfs/tmp/image-runtime.sh"
env_in=(PATH=/usr/local/bin:/usr/bin:/bin HOME=/root)
# Behind a TLS-intercepting proxy the host trusts an extra CA (the image build would get it
# the same way, e.g. a build secret): hand the host's bundle to npm and Node.
if [ -n "${DROVER_IMAGE_CA:-${NODE_EXTRA_CA_CERTS:-}}" ]; then
  cp "${DROVER_IMAGE_CA:-$NODE_EXTRA_CA_CERTS}" "$rootfs/tmp/host-ca.crt"
  env_in+=(NODE_EXTRA_CA_CERTS=/tmp/host-ca.crt npm_config_cafile=/tmp/host-ca.crt)
fi
for v in http_proxy https_proxy HTTP_PROXY HTTPS_PROXY no_proxy NO_PROXY; do
  [ -n "${!v:-}" ] && env_in+=("$v=${!v}")
done
# The root filesystem as / (--cap-add ALL: apt drops to its _apt user, dpkg chowns).
in_root=(bwrap --bind "$rootfs" / --proc /proc --dev /dev --ro-bind /etc/resolv.conf /etc/resolv.conf
  --unshare-pid --unshare-ipc --unshare-uts --die-with-parent)
run_opts=(--cap-add ALL)
if [ -n "$debs" ]; then
  run_opts+=(--bind "$debs" /var/cache/apt/archives)
fi
if [ -n "$npmc" ] && [ -d "$npmc" ]; then
  # npm takes a tarball from the cache only when its integrity matches the registry's
  # metadata; what is missing is downloaded as usual.
  run_opts+=(--bind "$npmc" /var/cache/drover-npm)
  env_in+=(npm_config_cache=/var/cache/drover-npm npm_config_prefer_offline=true)
  mkdir -p "$rootfs/var/cache/drover-npm"
fi
echo "==> agent/image-runtime.sh (CLAUDE_CODE_VERSION=$cc NODE_VERSION=$nv)"
"${in_root[@]}" "${run_opts[@]}" env -i "${env_in[@]}" \
  CLAUDE_CODE_VERSION="$cc" NODE_VERSION="$nv" bash /tmp/image-runtime.sh >"$logs/runtime.log" 2>&1 ||
  { tail -30 "$logs/runtime.log"; echo "FAIL: agent/image-runtime.sh" >&2; exit 1; }
t2=$SECONDS
# The Dockerfile's COPY and user steps.
install -m 0755 "$agent" "$rootfs/usr/local/bin/drover-agent"
install -m 0755 "$root/agent/examples/demo-coder.sh" "$rootfs/usr/local/bin/drover-demo-coder"
"${in_root[@]}" --cap-add ALL useradd --create-home --uid 10001 --shell /bin/bash drover
mkdir -p "$rootfs/workspace"
chown 10001:10001 "$rootfs/workspace"
# As the image's user, with no capabilities (setpriv is util-linux's, in the image). With the
# host's /proc rather than a fresh one: bubblewrap covers parts of the /proc it mounts, and the
# kernel lets a user namespace mount a proc of its own only where one is fully visible.
as_user() {
  bwrap --bind "$rootfs" / --bind /proc /proc --dev /dev --ro-bind /etc/resolv.conf /etc/resolv.conf \
    --unshare-ipc --unshare-uts --die-with-parent --tmpfs /tmp /usr/bin/setpriv --reuid=10001 --regid=10001 --clear-groups \
    env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/home/drover "$@"
}
n=$(as_user node --version)
c=$(as_user claude --version)
a=$(as_user drover-agent --version)
echo "node $n; claude $c; $a"
[[ $n == v22.* ]] || { echo "FAIL: node $n is not 22" >&2; exit 1; }
[[ $c == *"$cc"* ]] || { echo "FAIL: claude --version: $c" >&2; exit 1; }
[[ $a == "drover-agent "* ]] || { echo "FAIL: drover-agent --version: $a" >&2; exit 1; }
# Debian's Node 18 and npm are gone again (the runtime script purges them).
if as_user sh -c 'command -v npm || test -e /usr/bin/nodejs' >/dev/null 2>&1; then
  echo "FAIL: Debian's npm or nodejs is still in the image" >&2
  exit 1
fi
# Without a coding command or credentials the image's agent says why instead of taking work,
# which it does only after its bubblewrap sandbox started (the image's default).
out=$(as_user env MCP_SERVER_URL=http://127.0.0.1:1/mcp DROVER_TOKEN=x DROVER_EXIT_WHEN_IDLE=1 \
  DROVER_WORKSPACE=/workspace timeout 10 drover-agent 2>&1 || true)
grep -q "no model credentials for Claude Code" <<<"$out" ||
  { echo "FAIL: the image's agent without credentials: $out" >&2; exit 1; }
t3=$SECONDS
echo "times: mmdebstrap $((t1 - t0)) s, image-runtime.sh $((t2 - t1)) s, checks $((t3 - t2)) s"
echo "PASS: the agent image's runtime steps give a working node 22, claude $cc and drover-agent"
ok=1
