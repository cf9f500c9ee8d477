#!/usr/bin/env bash
# The agent image's runtime stage (issue 12, item 6), replayed without a container engine by
# scripts/check-agent-image.sh: a Debian 12 root filesystem from mmdebstrap, agent/image-runtime.sh
# run in it unchanged, and then, as the image's user, node 22, the pinned Claude Code and
# drover-agent must work and the agent without credentials must say so.
# Needs root and the network (Debian's mirror, the npm registry): scripts/test.sh runs it outside
# the suites' network namespaces, against the plain build (an ASan build's runtime is not in the
# image).
set -euo pipefail
root=${DROVER_SOURCE_DIR:?}
build=${DROVER_BUILD_DIR:?}
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: needs root (mmdebstrap, mounts)"
  exit 77
fi
if ! command -v mmdebstrap >/dev/null; then
  echo "SKIP: needs mmdebstrap (scripts/lib/common.sh drover_deps installs it)"
  exit 77
fi
if [ -n "${DROVER_SANITIZED:-}" ]; then
  echo "SKIP: an ASan build's drover-agent needs the sanitizer runtime, which the image does not have"
  exit 77
fi
out=$("$root/scripts/check-agent-image.sh" "$build" 2>&1) || {
  echo "$out"
  echo "FAIL: scripts/check-agent-image.sh"
  exit 1
}
echo "$out"
grep -q '^PASS: ' <<<"$out" || { echo "FAIL: check-agent-image.sh did not say PASS"; exit 1; }
