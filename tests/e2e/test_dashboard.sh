#!/usr/bin/env bash
# The dashboard in headless Chromium against a real droverd (tests/browser/dashboard.test.mjs).
# Needs Debian's chromium and playwright-core installed under tests/browser
# (npm ci --prefix tests/browser); screenshots land in tests/artifacts/.
source "$(dirname "$0")/ops_lib.sh"
BROWSER_DIR=$DROVER_SOURCE_DIR/tests/browser
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "chromium is not installed (Debian package chromium)"; { [ "${CI:-}" = true ] || [ "${DROVER_TEST_REQUIRE_DB:-0}" = 1 ]; } && exit 1; exit 77
fi
if [ ! -d "$BROWSER_DIR/node_modules/playwright-core" ]; then
  # (The one step that may download: the caller's proxy settings back, and a bound.)
  env "${DROVER_HARNESS_PROXY[@]}" timeout 600 npm ci --prefix "$BROWSER_DIR" --no-audit --no-fund >/dev/null 2>&1 || {
    echo "playwright-core is not installed: npm ci --prefix tests/browser"; { [ "${CI:-}" = true ] || [ "${DROVER_TEST_REQUIRE_DB:-0}" = 1 ]; } && exit 1; exit 77; }
fi
ops_start
# An hour of history droverd would have kept (sql/042), with one heartbeat gap of the agent.
ops_psql -c "INSERT INTO history_samples SELECT date_trunc('minute', now()) - make_interval(mins => g),
               60 - g, 0, 1, 2, 1, 3, 1, 10, g % 3, CASE WHEN g = 30 THEN 1 ELSE 0 END
             FROM generate_series(1, 60) g ON CONFLICT DO NOTHING;
             UPDATE agents SET created_at = now() - interval '2 hours' WHERE id = '$AGENT_ID';
             INSERT INTO agent_gaps (agent_id, gap_start, gap_end)
               VALUES ('$AGENT_ID', now() - interval '30 minutes', now() - interval '25 minutes')" >/dev/null
# A notification endpoint whose one delivery gave up (the notifications page shows it), for an
# event no test causes, so that the outbox thread leaves it alone.
ops_psql -c "WITH e AS (INSERT INTO notify_endpoints (name, url, format, events, created_by)
               VALUES ('seed-hook', 'https://hooks.example.com/services/seed-secret', 'generic',
                       '{cancelled}', 'test') RETURNING id)
             INSERT INTO outbox (endpoint_id, event, payload, state, attempts, last_status, last_error)
               SELECT id, 'cancelled', '{}', 'dead', 12, 500, 'Internal Server Error' FROM e" >/dev/null
# A task a forge webhook made from an issue (svc_webhooks records its people).
FORGE_TASK=$(ops_psql -c "INSERT INTO tasks (title, repo_url, state, forge_author, forge_requester)
               VALUES ('from a forge issue', 'https://git.example/o/r.git', 'cancelled', 'octocat',
                       'hubot') RETURNING id" | head -1)
export URL ADMIN OPERATOR AGENT_TOKEN AGENT_ID FORGE_TASK
export ARTIFACTS=$DROVER_SOURCE_DIR/tests/artifacts
timeout 240 node "$BROWSER_DIR/dashboard.test.mjs"
