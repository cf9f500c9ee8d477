#!/usr/bin/env bash
# The official MCP conformance suite (@modelcontextprotocol/conformance, server mode, active
# suite) against droverd's /mcp on an --auth off loopback listener (the suite cannot send an
# Authorization header). Passes only when the suite's baseline check passes: every scenario
# outside tests/protocol/conformance-baseline.yml passes, and no listed scenario passes (a stale
# baseline fails too). Also checks the baseline itself: no generic scenario in it, and a reason
# on every line.
source "$(dirname "$0")/../protocol/lib.sh"

baseline=$PROTO_ROOT/tests/protocol/conformance-baseline.yml
for generic in server-initialize ping tools-list logging-set-level server-sse-multiple-streams \
  dns-rebinding-protection; do
  if grep -Eq "^\s*-\s*$generic(\s|$)" "$baseline"; then
    proto_fail "generic scenario $generic must not be in the baseline"
  fi
done
if grep -E '^\s*-\s*\S+' "$baseline" | grep -vq '#'; then
  proto_fail "every baseline entry needs a '# reason' on its line"
fi

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
[ $rc -eq 0 ] || proto_fail "conformance baseline check failed (exit $rc)"
proto_log "PASS: conformance baseline check passed"
