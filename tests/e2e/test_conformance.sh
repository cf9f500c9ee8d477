#!/usr/bin/env bash
# The official MCP conformance suite (@modelcontextprotocol/conformance, server mode) against
# droverd's /mcp on an --auth off loopback listener (the suite cannot send an Authorization
# header), three runs:
#   0.1.16, active suite                      baseline tests/protocol/conformance-baseline.yml
#   0.2.0-alpha.12 --requirements 2025-11-25  baseline tests/protocol/conformance-baseline-next.yml
#   0.2.0-alpha.12 --requirements 2026-07-28  the same baseline
# Each passes only when the suite's baseline check passes: every scenario (or check) outside the
# baseline passes, and no listed one passes (a stale baseline fails too). Every scenario a run
# executed is listed in its output. Also checks the baselines: no generic scenario in them, and
# a reason on every line.
source "$(dirname "$0")/../protocol/lib.sh"

baseline=$PROTO_ROOT/tests/protocol/conformance-baseline.yml
next_baseline=$PROTO_ROOT/tests/protocol/conformance-baseline-next.yml
# Generic scenarios any tools-only server passes: never listed whole (per-check entries of
# server-stateless and caching name fixture checks only).
GENERIC_LEGACY="server-initialize server-session-lifecycle ping tools-list logging-set-level
  server-sse-multiple-streams dns-rebinding-protection"
GENERIC_MODERN="server-stateless caching http-header-validation http-custom-header-server-validation
  tools-list server-sse-multiple-streams dns-rebinding-protection tasks-capability-negotiation
  tasks-dispatch-and-envelope"
for b in "$baseline" "$next_baseline"; do
  for generic in $GENERIC_LEGACY $GENERIC_MODERN; do
    if grep -Eq "^\s*-\s*$generic(\s|$)" "$b"; then
      proto_fail "generic scenario $generic must not be in $(basename "$b")"
    fi
  done
  if grep -E '^\s*-\s*\S+' "$b" | grep -vq '#'; then
    proto_fail "every entry of $(basename "$b") needs a '# reason' on its line"
  fi
done

proto_npm_tools
proto_db
proto_serve --auth off

conf=$PROTO_NPM/node_modules/@modelcontextprotocol/conformance/dist/index.js
set +e
(cd "$PROTO_TMP" && timeout 600 "$PROTO_NODE" "$conf" server --url "$PROTO_URL/mcp" \
  --expected-failures "$baseline" -o "$PROTO_TMP/results") >"$PROTO_TMP/conformance.log" 2>&1
rc=$?
set -e
cat "$PROTO_TMP/conformance.log"
# Guard against a suite that ran nothing: the generic scenarios must each have a result.
for generic in server-initialize ping tools-list logging-set-level dns-rebinding-protection; do
  ls -d "$PROTO_TMP/results/"*"$generic"* >/dev/null 2>&1 || {
    ls -R "$PROTO_TMP/results" >&2 || true
    proto_fail "no result for scenario $generic"
  }
done
[ $rc -eq 0 ] || proto_fail "conformance 0.1.16 baseline check failed (exit $rc)"
proto_log "PASS: conformance 0.1.16 baseline check passed"

# 0.2.0-alpha.12, once per revision: the requirement set of that revision at its own wire.
next=$PROTO_NPM/node_modules/conformance-next/dist/index.js
for rev in 2025-11-25 2026-07-28; do
  out=$PROTO_TMP/results-$rev
  set +e
  (cd "$PROTO_TMP" && timeout 900 "$PROTO_NODE" "$next" server --url "$PROTO_URL/mcp" \
    --requirements "$rev" --expected-failures "$next_baseline" -o "$out") \
    >"$PROTO_TMP/conformance-$rev.log" 2>&1
  rc=$?
  set -e
  cat "$PROTO_TMP/conformance-$rev.log"
  if [ $rev = 2026-07-28 ]; then want=$GENERIC_MODERN; else want=$GENERIC_LEGACY; fi
  # Guard against a run that did nothing: each generic scenario has passing checks (its
  # failures, if any, are the baseline's per-check entries, which the exit status covers).
  for generic in $want; do
    checks=$(ls -d "$out/server-$generic-"*/checks.json 2>/dev/null | head -1)
    [ -n "$checks" ] && jq -e 'map(select(.status == "SUCCESS")) | length > 0' "$checks" >/dev/null ||
      proto_fail "$rev: scenario $generic did not run, or none of its checks passed"
  done
  [ $rc -eq 0 ] || proto_fail "conformance 0.2.0-alpha.12 $rev baseline check failed (exit $rc)"
  proto_log "PASS: conformance 0.2.0-alpha.12 --requirements $rev baseline check passed"
done
