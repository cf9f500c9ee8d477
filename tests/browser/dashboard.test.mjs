// The dashboard in Debian's headless Chromium (playwright-core with executablePath): it loads
// with no console errors, the agents table updates when an agent heartbeats, a task's log
// streams live, an admin answers a question and scales the pool from the UI, the health page
// shows the diagnostics, an admin adds and deletes a schedule and a notification endpoint (a bad URL's 400 shown), a task waiting for approval
// shows the action (as text) with Approve/Deny, the pending list and each project's policy, and it works at
// 1280 px and at phone width. Screenshots go to tests/artifacts/. Run by
// tests/e2e/test_dashboard.sh, which starts droverd and passes URL and tokens in the environment.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const { URL: BASE, ADMIN, OPERATOR, AGENT_TOKEN, AGENT_ID, ARTIFACTS, FORGE_TASK } = process.env;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
mkdirSync(ARTIFACTS, { recursive: true });

let passed = 0, failed = 0, skipped = 0;
const results = [];
async function test(name, fn) {
  try { await fn(); passed++; results.push('ok   ' + name); }
  catch (e) {
    if (e && e.skip) { skipped++; results.push('skip ' + name + ': ' + e.message); return; }
    failed++; results.push('FAIL ' + name + ': ' + (e && e.stack || e));
  }
}
function assert(c, msg) { if (!c) throw new Error(msg); }
function skip(msg) { const e = new Error(msg); e.skip = true; throw e; }

async function http(token, method, path, body) {
  const r = await fetch(BASE + path, { method, headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let json = null; try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, json, text };
}
const tool = async (name, args) => (await http(AGENT_TOKEN, 'POST', '/tools/call', { name, arguments: args })).json;

const browser = await chromium.launch({
  executablePath: CHROMIUM, headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
});
const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
const page = await ctx.newPage();
const consoleErrors = [];
const poolApi = (await http(ADMIN, 'GET', '/api/pool')).status !== 404;
page.on('console', (m) => {
  if (m.type() !== 'error') return;
  // Without the pool branch's routes the pool page's 404 is expected and shown in the page.
  if (!poolApi && /Failed to load resource.*404/.test(m.text())) return;
  consoleErrors.push(m.text());
});
page.on('pageerror', (e) => consoleErrors.push(String(e)));
page.on('response', (r) => { if (r.status() >= 400) consoleErrors.push('  (' + r.status() + ' ' + r.request().method() + ' ' + r.url() + ')'); });

try {
  await test('dashboard loads, asks for a token and signs in', async () => {
    await page.goto(BASE + '/');
    await page.waitForSelector('#token-dialog[open]');
    await page.fill('#token-input', ADMIN);
    await page.click('#token-form button[type=submit]');
    await page.waitForFunction(() => document.body.classList.contains('admin'));
    // The live feed reads /api/events?follow=1 as a server-sent-events stream.
    await page.waitForFunction(() => /live \(stream\)/.test(document.getElementById('live').textContent));
    await page.screenshot({ path: join(ARTIFACTS, 'pool-1280.png'), fullPage: true });
  });

  await test('the pool page draws the history droverd kept, with the agent timeline and its gap', async () => {
    await page.click('a[data-nav=pool]');
    await page.waitForSelector('#hist-backlog path[data-series=backlog]', { timeout: 10000 });
    await page.waitForSelector('#hist-pool path[data-series=target]', { state: 'attached' });
    await page.waitForSelector('#hist-done path[data-series=failed]', { state: 'attached' });
    await page.waitForSelector(`#hist-agents [data-agent-row="${AGENT_ID}"] rect[data-gap]`, { state: 'attached' });
    const note = await page.textContent('#hist-note');
    assert(/heartbeat gap/.test(note) && /sample/.test(note), 'note: ' + note);
    const h = await http(ADMIN, 'GET', '/api/history?hours=6');
    assert(h.status === 200 && h.json.samples.length >= 60 && h.json.gaps.length === 1, 'history ' + h.status + ' ' + h.text.slice(0, 200));
    const bad = await http(ADMIN, 'GET', '/api/history?hours=100000');
    assert(bad.status === 400, 'a window past --history-days is refused, got ' + bad.status);
    await page.screenshot({ path: join(ARTIFACTS, 'pool-history-1280.png'), fullPage: true });
  });

  await test('agents table updates live when an agent heartbeats', async () => {
    await page.click('a[data-nav=agents]');
    const hb = `[data-hb="${AGENT_ID}"]`;
    await page.waitForSelector(hb);
    const before = await page.textContent(hb);
    assert(/never/.test(before), 'before any heartbeat the label says never, got ' + before);
    const r = await http(AGENT_TOKEN, 'POST', '/heartbeat', { agentId: AGENT_ID, status: 'idle' });
    assert(r.status === 200, 'heartbeat ' + r.status + ' ' + r.text);
    await page.waitForFunction((sel) => /fresh/.test(document.querySelector(sel).textContent), hb, { timeout: 10000 });
    const cls = await page.getAttribute(hb, 'class');
    assert(/fresh/.test(cls), 'fresh class, got ' + cls);
    const status = await page.textContent(`tr[data-agent="${AGENT_ID}"] .status`);
    assert(status === 'idle', 'status idle, got ' + status);
    await page.screenshot({ path: join(ARTIFACTS, 'agents-1280.png'), fullPage: true });
  });

  await test("an agent's page shows it and follows its own log", async () => {
    await page.click(`[data-agent-link="${AGENT_ID}"]`);
    await page.waitForSelector('#page-agent:not([hidden])');
    await page.waitForFunction((id) => document.querySelector('[data-fact=id]')?.textContent === id, AGENT_ID);
    const st = await page.textContent('[data-fact=status]');
    assert(st === 'idle', 'status ' + st);
    // This droverd runs no pod backend: the stream opens and ends, and the page says so.
    await page.waitForFunction(() => /no output|ended|live/.test(document.getElementById('agent-log-state').textContent), null, { timeout: 15000 });
    await page.screenshot({ path: join(ARTIFACTS, 'agent-1280.png'), fullPage: true });
    await page.click('a[data-nav=agents]');
  });

  let taskId = 0, epoch = 0;
  await test("a task's log streams live and the board shows it", async () => {
    const t = await http(ADMIN, 'POST', '/api/tasks', { prompt: 'Add a /health endpoint', repository: 'file:///srv/web.git', title: 'Add /health' });
    assert(t.status === 202, 'create ' + t.status);
    taskId = t.json.id;
    const claim = await tool('get_next_task', {});
    assert(claim.structuredContent.task.id === taskId, 'claimed ' + JSON.stringify(claim));
    epoch = claim.structuredContent.task.lease_epoch;
    await tool('log_activity', { task_id: taskId, message: 'reading the router' });
    await page.click('a[data-nav=tasks]');
    await page.waitForSelector(`[data-state=in_progress] [data-task="${taskId}"]`);
    await page.screenshot({ path: join(ARTIFACTS, 'tasks-1280.png'), fullPage: true });
    await page.click(`[data-task="${taskId}"]`);
    await page.waitForFunction(() => /reading the router/.test(document.getElementById('task-log').textContent));
    await tool('log_activity', { task_id: taskId, message: 'wrote the handler' });
    await page.waitForFunction(() => /wrote the handler/.test(document.getElementById('task-log').textContent), null, { timeout: 10000 });
  });

  await test("the coding model's transcript shows on the task page", async () => {
    assert(taskId, 'needs the task of the previous test');
    // What drover-agent's runner_transcript.c makes of Claude Code's stream-json events, and a
    // note the model logged itself through its task-scoped log_activity.
    const c = (kind, message, extra) => ({ message, level: extra && extra.level || 'info',
      metadata: Object.assign({ source: 'claude', kind }, extra && extra.metadata) });
    await tool('log_activity', { task_id: taskId, entries: [
      c('init', 'Claude Code session: model claude-sonnet-4-5, 12 tools, MCP servers: drover (connected)'),
      c('text', 'Looking at the router first.'),
      c('tool_use', '→ Bash: git log --oneline | head -3', { metadata: { tool: 'Bash', input: 'git log --oneline | head -3' } }),
      c('tool_result', '← 1a2b3c4 init', { metadata: { is_error: false } }),
      c('tool_use', '→ mcp__drover__get_next_task: {}', { metadata: { tool: 'mcp__drover__get_next_task', input: '{}' } }),
      c('tool_result', '← error: No such tool available: mcp__drover__get_next_task', { level: 'warning', metadata: { is_error: true } }),
      { message: 'scripted model: read the history', metadata: { source: 'model' } },
      c('result', 'finished after 5 turns: 4890 input, 85 output tokens, $0.0160', { metadata: { total_cost_usd: 0.016 } }),
    ] });
    await page.waitForSelector('#task-transcript li[data-tx-kind=result]', { timeout: 10000 });
    const items = await page.$$eval('#task-transcript li', (lis) => lis.map((li) => [li.dataset.txKind, li.className, li.textContent]));
    const kinds = items.map((i) => i[0]).join(',');
    assert(kinds === 'init,text,tool_use,tool_result,tool_use,tool_result,note,result', 'transcript kinds ' + kinds);
    assert(/→ Bash: git log/.test(items[2][2]), 'tool call ' + items[2][2]);
    assert(/tx-failed/.test(items[5][1]), 'a refused tool call is not marked: ' + items[5][1]);
    assert(/4890 input, 85 output tokens/.test(items[7][2]), 'usage ' + items[7][2]);
    // Plain log lines stay out of the transcript.
    assert(!items.some((i) => /reading the router/.test(i[2])), 'a plain log line in the transcript');
    await page.screenshot({ path: join(ARTIFACTS, 'transcript-1280.png'), fullPage: true });
  });

  await test('an admin answers a needs_input question from the UI', async () => {
    assert(taskId, 'needs the task of the previous test');
    await tool('update_task_status', { task_id: taskId, lease_epoch: epoch, status: 'needs_input', question: 'Which port should /health listen on?' });
    await page.waitForSelector('#task-question:not([hidden])', { timeout: 10000 });
    const q = await page.textContent('#task-question-text');
    assert(/Which port/.test(q), 'question shown, got ' + q);
    await page.screenshot({ path: join(ARTIFACTS, 'task-question-1280.png'), fullPage: true });
    await page.fill('#answer-text', 'Use 8080, the main port.');
    await page.click('#answer-form button[type=submit]');
    await page.waitForSelector('[data-task-state=backlog]', { timeout: 10000 });
    const t = await http(ADMIN, 'GET', '/api/tasks/' + taskId);
    assert(t.json.state === 'backlog', 'state ' + t.json.state);
    assert(t.json.context.some((c) => c.text === 'Use 8080, the main port.'), 'answer in context');
  });

  await test('a reviewer asks for changes, then accepts, from the UI', async () => {
    assert(taskId, 'needs the task of the previous tests');
    const ready = async () => {
      const c = await tool('get_next_task', {});
      assert(c.structuredContent.task && c.structuredContent.task.id === taskId, 'claimed ' + JSON.stringify(c));
      const r = await tool('update_task_status', { task_id: taskId, lease_epoch: c.structuredContent.task.lease_epoch, status: 'ready_to_test', result: { summary: 'health handler added', files: [{ path: 'src/health.c', added: 12, removed: 1 }], diff: '+++ b/src/health.c\n+int health_ok;\n' } });
      assert(!r.isError, 'ready_to_test ' + JSON.stringify(r));
    };
    await ready();
    await page.waitForSelector('#task-review:not([hidden])', { timeout: 10000 });
    await page.waitForFunction(() => /src\/health\.c/.test(document.getElementById('task-facts').textContent), null, { timeout: 10000 });
    const facts = await page.textContent('#task-facts');
    assert(/\+12/.test(facts) && /−1/.test(facts), 'files with +/- counts, got ' + facts);
    assert(/int health_ok/.test(await page.textContent('#task-diff')), 'the diff is on the page');
    const note = await page.textContent('#task-review-note');
    assert(/No forge pull request/.test(note), 'plain-git note, got ' + note);
    await page.screenshot({ path: join(ARTIFACTS, 'task-review-1280.png'), fullPage: true });
    await page.fill('#rework-text', 'Also return the version.');
    await page.click('#task-rework');
    await page.waitForSelector('[data-task-state=backlog]', { timeout: 10000 });
    let t = await http(ADMIN, 'GET', '/api/tasks/' + taskId);
    const rw = t.json.context[t.json.context.length - 1];
    assert(rw.type === 'rework' && rw.instructions === 'Also return the version.', 'rework context ' + JSON.stringify(rw));
    assert(rw.previous_result && rw.previous_result.summary === 'health handler added', 'earlier result kept');
    await ready();
    await page.waitForSelector('#task-review:not([hidden])', { timeout: 10000 });
    await page.click('#task-accept');
    await page.waitForSelector('[data-task-state=completed]', { timeout: 10000 });
    t = await http(ADMIN, 'GET', '/api/tasks/' + taskId);
    assert(t.json.history.some((h) => h.to === 'completed' && h.by), 'accept recorded with who');
    const dur = await page.textContent('#task-facts');
    assert(!/Pull request–/.test(dur), 'pull request fact filled');
  });

  await test("a task from a forge issue names the forge's people", async () => {
    assert(FORGE_TASK, 'test_dashboard.sh seeds the task');
    await page.goto(BASE + '/#/tasks/' + FORGE_TASK);
    await page.waitForFunction(() => /Forge people/.test(document.getElementById('task-facts').textContent), null, { timeout: 10000 });
    const facts = await page.textContent('#task-facts');
    assert(/issue by octocat/.test(facts) && /asked by hubot/.test(facts), 'forge people, got ' + facts);
  });

  await test('an admin scales the pool from the UI', async () => {
    if (!poolApi) skip('this build has no /api/pool (the pool branch provides it)');
    await page.click('a[data-nav=pool]');
    await page.fill('#pool-max-in', '7');
    await page.fill('#pool-min-in', '1');
    await page.click('#pool-bounds button[type=submit]');
    await page.waitForFunction(() => document.getElementById('pool-max').textContent === '7', null, { timeout: 10000 });
    await page.fill('#pool-pin-in', '3');
    await page.click('#pool-pin button[type=submit]');
    await page.waitForFunction(() => /^3/.test(document.getElementById('pool-target').textContent), null, { timeout: 10000 });
    const p = await http(ADMIN, 'GET', '/api/pool');
    assert(JSON.stringify(p.json).includes('7'), 'pool max stored');
  });

  await test('the health page shows the diagnostics with status, detail and fix', async () => {
    await page.click('a[data-nav=health]');
    await page.waitForSelector('#diag-body tr[data-check=database]', { timeout: 60000 });
    const st = await page.textContent('#diag-body tr[data-check=database] .diag');
    assert(st === 'ok', 'database check ok, got ' + st);
    const sum = await page.getAttribute('#diag-summary', 'data-status');
    const api = await http(ADMIN, 'GET', '/api/diagnostics');
    assert(api.status === 200 && sum === api.json.status, 'summary ' + sum + ' vs API ' + api.json.status);
    const rows = await page.$$eval('#diag-body tr', (trs) => trs.length);
    assert(rows === api.json.checks.length, rows + ' rows for ' + api.json.checks.length + ' checks');
    await page.screenshot({ path: join(ARTIFACTS, 'health-1280.png'), fullPage: true });
  });

  await test('an admin adds and deletes a schedule from the UI', async () => {
    const pr = await http(ADMIN, 'POST', '/api/projects', { name: 'sched-web', repository: 'file:///srv/web.git' });
    assert(pr.status === 201 || pr.status === 200, 'project ' + pr.status + ' ' + pr.text);
    await page.click('a[data-nav=schedules]');
    await page.waitForSelector('#s-project option[value=sched-web]', { state: 'attached' });
    await page.fill('#s-name', 'nightly-deps');
    await page.selectOption('#s-project', 'sched-web');
    await page.fill('#s-cron', '0 3 * * *');
    await page.fill('#s-prompt', 'Update the dependencies and run the tests.');
    await page.click('#schedule-form button[type=submit]');
    await page.waitForSelector('#schedules-body tr[data-schedule=nightly-deps]', { timeout: 10000 });
    const api = await http(ADMIN, 'GET', '/api/schedules');
    const s = api.json.schedules.find((x) => x.name === 'nightly-deps');
    assert(s && s.cron === '0 3 * * *' && s.enabled, 'stored: ' + JSON.stringify(api.json));
    await page.screenshot({ path: join(ARTIFACTS, 'schedules-1280.png'), fullPage: true });
    await page.click(`[data-delete-schedule="${s.id}"]`);
    await page.waitForSelector('#schedules-body tr[data-schedule=nightly-deps]', { state: 'detached', timeout: 10000 });
    const after = await http(ADMIN, 'GET', '/api/schedules');
    assert(!after.json.schedules.some((x) => x.name === 'nightly-deps'), 'deleted');
  });

  await test('an admin adds and deletes a notification endpoint from the UI', async () => {
    const pr = await http(ADMIN, 'POST', '/api/projects', { name: 'notify-web', repository: 'file:///srv/notify.git' });
    assert(pr.status === 201 || pr.status === 200, 'project ' + pr.status + ' ' + pr.text);
    await page.click('a[data-nav=notifications]');
    await page.waitForSelector('#notify-project option[value=notify-web]', { state: 'attached' });
    // The seeded endpoint: its URL shows its origin only, its delivery gave up after 12 tries.
    await page.waitForSelector('#notify-endpoints tr[data-endpoint=seed-hook]');
    const seedUrl = (await http(ADMIN, 'GET', '/api/notifications/endpoints')).json.endpoints.find((e) => e.name === 'seed-hook').url;
    assert(/seed-hook/.test(await page.textContent('#notify-endpoints')) && (await page.textContent('#notify-endpoints')).includes(seedUrl),
      'seeded endpoint ' + await page.textContent('#notify-endpoints'));
    assert(!(await page.textContent('body')).includes('seed-secret'), 'the secret part of a URL on the page');
    const dl = await http(ADMIN, 'GET', '/api/notifications/deliveries?limit=50');
    assert(dl.status === 200 && dl.json.deliveries.length >= 1, 'deliveries ' + dl.status + ' ' + dl.text);
    const seedRow = `#notify-deliveries tr[data-delivery="${dl.json.deliveries.find((d) => d.endpoint === 'seed-hook').id}"]`;
    await page.waitForSelector(seedRow);
    const seedText = await page.textContent(seedRow);
    assert(/dead · 12 attempts/.test(seedText) && /HTTP 500 — Internal Server Error/.test(seedText), 'delivery row ' + seedText);
    // The defaults: every event but cancelled.
    const checked = () => page.$$eval('input[name=notify-event]', (l) => l.filter((c) => c.checked).map((c) => c.value).join(','));
    assert(await checked() === 'needs_input,ready_to_test,failed,completed,budget,approval', 'defaults ' + await checked());

    await page.fill('#notify-name', 'ops-slack');
    await page.fill('#notify-url', 'https://hooks.slack.example/services/T0/B0/XYZsecret');
    await page.selectOption('#notify-format', 'slack');
    for (const ev of ['needs_input', 'ready_to_test', 'failed', 'completed', 'budget', 'cancelled', 'approval'])
      await page.setChecked(`input[name=notify-event][value=${ev}]`, ev === 'needs_input' || ev === 'approval');
    await page.selectOption('#notify-project', 'notify-web');
    await page.click('#notify-add');
    await page.waitForSelector('#notify-endpoints tr[data-endpoint=ops-slack]', { timeout: 10000 });
    const list = (await http(ADMIN, 'GET', '/api/notifications/endpoints')).json.endpoints;
    const e = list.find((x) => x.name === 'ops-slack');
    assert(e && e.format === 'slack' && JSON.stringify(e.events) === '["needs_input","approval"]' && e.project_id === pr.json.id,
      'stored: ' + JSON.stringify(list));
    const row = await page.$$eval('#notify-endpoints tr[data-endpoint=ops-slack] td', (tds) => tds.map((td) => td.textContent));
    assert(row[1] === 'slack' && row[2] === 'needs_input, approval' && row[3] === 'notify-web' && row[4] === e.url,
      'row ' + JSON.stringify(row) + ' for ' + e.url);
    assert(!(await page.textContent('#notify-endpoints')).includes('XYZsecret'), 'the secret part of the URL on the page');
    assert(await page.inputValue('#notify-name') === '' && await checked() === 'needs_input,ready_to_test,failed,completed,budget,approval',
      'the form is not back to its defaults');
    await page.screenshot({ path: join(ARTIFACTS, 'notifications-1280.png'), fullPage: true });

    // A bad URL: the API's 400 in the page's error style, nothing created.
    const expected = await http(ADMIN, 'POST', '/api/notifications/endpoints', { name: 'bad-url', url: 'ftp://x', events: ['needs_input'] });
    assert(expected.status === 400, 'the API takes ftp://x: ' + expected.status + ' ' + expected.text);
    const before = consoleErrors.length;
    await page.fill('#notify-name', 'bad-url');
    await page.fill('#notify-url', 'ftp://x');
    await page.click('#notify-add');
    await page.waitForFunction((msg) => !document.getElementById('flash').hidden &&
      document.getElementById('flash').textContent.includes(msg), expected.json.error.message, { timeout: 10000 });
    assert(await page.getAttribute('#flash', 'class') === 'flash', 'the 400 is shown as an error');
    assert((await page.textContent('#flash')).startsWith('Add notification endpoint bad-url failed: ' + expected.json.error.code),
      'flash ' + await page.textContent('#flash'));
    await page.screenshot({ path: join(ARTIFACTS, 'notifications-error-1280.png'), fullPage: true });
    // The browser reports the failed request (console and response): that expected 400 only.
    for (let i = 0; i < 20 && consoleErrors.slice(before).filter((x) => /400/.test(x)).length < 2; i++) await page.waitForTimeout(100);
    const extra = consoleErrors.splice(before);
    assert(extra.every((x) => /400/.test(x)), 'console: ' + extra.join('\n'));
    assert(!(await http(ADMIN, 'GET', '/api/notifications/endpoints')).json.endpoints.some((x) => x.name === 'bad-url'), 'bad-url created');
    assert(!(await page.$('#notify-endpoints tr[data-endpoint=bad-url]')), 'bad-url listed');

    // A name already taken: the API's 409, the same way; the endpoint stays as it was.
    const before2 = consoleErrors.length;
    await page.fill('#notify-name', 'ops-slack');
    await page.fill('#notify-url', 'https://other.example/hook');
    await page.click('#notify-add');
    await page.waitForFunction(() => /ops-slack' exists already/.test(document.getElementById('flash').textContent), null, { timeout: 10000 });
    assert(await page.getAttribute('#flash', 'class') === 'flash', 'the 409 is shown as an error');
    for (let i = 0; i < 20 && consoleErrors.slice(before2).filter((x) => /409/.test(x)).length < 2; i++) await page.waitForTimeout(100);
    const extra2 = consoleErrors.splice(before2);
    assert(extra2.every((x) => /409/.test(x)), 'console: ' + extra2.join('\n'));
    const same = (await http(ADMIN, 'GET', '/api/notifications/endpoints')).json.endpoints.filter((x) => x.name === 'ops-slack');
    assert(same.length === 1 && same[0].url === e.url && same[0].id === e.id, 'duplicate: ' + JSON.stringify(same));

    await page.click(`[data-endpoint-delete="${e.id}"]`);
    await page.waitForSelector('#notify-endpoints tr[data-endpoint=ops-slack]', { state: 'detached', timeout: 10000 });
    const after = (await http(ADMIN, 'GET', '/api/notifications/endpoints')).json.endpoints;
    assert(!after.some((x) => x.name === 'ops-slack') && after.some((x) => x.name === 'seed-hook'), 'after delete ' + JSON.stringify(after));
  });

  let apTask = 0;
  await test('a task waiting for approval: panel, pending list, badge, policy; deny and approve from the UI', async () => {
    const adminName = (await http(ADMIN, 'GET', '/api/whoami')).json.name;
    const pr = await http(ADMIN, 'POST', '/api/projects', { name: 'guarded-web', repository: 'file:///srv/guarded.git' });
    assert(pr.status === 201 || pr.status === 200, 'project ' + pr.status + ' ' + pr.text);
    const pid = pr.json.id;
    const pol = await http(ADMIN, 'PUT', `/api/projects/${pid}/policy`, { ask: ['Bash(kubectl apply:*)'],
      deny: ['Bash(git push --force:*)'], allow: ['Bash(git status)'], approval_timeout_seconds: 600 });
    assert(pol.status === 200 && pol.json.version === 1, 'policy ' + pol.status + ' ' + pol.text);
    const t = await http(ADMIN, 'POST', '/api/tasks', { prompt: 'Deploy the manifests', title: 'Deploy web', project: 'guarded-web' });
    assert(t.status === 202, 'create ' + t.status + ' ' + t.text);
    apTask = t.json.id;
    // The earlier tasks are finished: this one is the only one to claim.
    const claim = await tool('get_next_task', {});
    assert(claim.structuredContent.task && claim.structuredContent.task.id === apTask, 'claimed ' + JSON.stringify(claim));
    const ep = claim.structuredContent.task.lease_epoch;
    // An action is text the coding model chose: markup in it must stay text.
    const evil = 'kubectl apply -f <img src=x onerror=alert(1)>.yaml';
    const ask = async (command) => {
      const r = await tool('request_approval', { task_id: apTask, lease_epoch: ep, tool_name: 'Bash', input: { command } });
      const sc = r.structuredContent || {};
      assert(sc.decision === 'pending' && sc.approval_id, 'request_approval ' + JSON.stringify(r));
      return sc;
    };
    const a1 = await ask(evil);
    assert(a1.action.includes(evil), 'action ' + a1.action);

    await page.click('a[data-nav=tasks]');
    await page.waitForSelector(`[data-task="${apTask}"] [data-approval="${a1.approval_id}"]`, { timeout: 10000 });
    const row = `#approvals-pending [data-pending-approval="${a1.approval_id}"]`;
    await page.waitForSelector(row + ` a[href="#/tasks/${apTask}"]`, { timeout: 10000 });
    assert((await page.textContent(row)).includes(a1.action), 'pending row: ' + await page.textContent(row));
    // The project's policy in force; the schedules test's project has none.
    const card = `#project-policy-${pid}[data-policy-version="1"]`;
    await page.waitForSelector(card, { timeout: 10000 });
    const field = (f) => page.textContent(`${card} [data-policy-field=${f}]`);
    assert(await field('enabled') === 'enforced', 'enabled ' + await field('enabled'));
    assert(/Bash\(kubectl apply:\*\)/.test(await field('ask')), 'ask ' + await field('ask'));
    assert(/git push --force/.test(await field('deny')) && /git status/.test(await field('allow')), 'deny/allow');
    assert(await field('default') === 'ask' && await field('outside_repo') === 'deny' && await field('network') === 'ask',
      'categories ' + await page.textContent(card));
    assert(await field('timeout') === '10 min', 'timeout ' + await field('timeout'));
    const other = (await http(ADMIN, 'GET', '/api/projects')).json.projects.find((p) => p.name === 'sched-web');
    if (other) assert(/no policy/.test(await page.textContent(`#project-policy-${other.id}`)), 'a project without a policy');
    await page.screenshot({ path: join(ARTIFACTS, 'tasks-approval-1280.png'), fullPage: true });

    await page.click(row + ' a');
    await page.waitForSelector('#task-approval:not([hidden])', { timeout: 10000 });
    assert(await page.textContent('#task-approval-action') === a1.action, 'action shown ' + await page.textContent('#task-approval-action'));
    assert(/ask: Bash\(kubectl apply:\*\)/.test(await page.textContent('#task-approval-rule')), 'rule ' + await page.textContent('#task-approval-rule'));
    assert(/in \d+ min/.test(await page.textContent('#task-approval-expires')), 'expires ' + await page.textContent('#task-approval-expires'));
    assert(await page.$$eval('img', (l) => l.length) === 0, 'the action became markup');
    assert(await page.isVisible('#task-approval-approve') && await page.isVisible('#task-approval-deny'), 'buttons for an admin');
    await page.screenshot({ path: join(ARTIFACTS, 'task-approval-1280.png'), fullPage: true });
    await page.fill('#task-approval-reason', 'not now');
    await page.click('#task-approval-deny');
    await page.waitForSelector('#task-approval', { state: 'hidden', timeout: 10000 });
    const d1 = (await http(ADMIN, 'GET', '/api/approvals/' + a1.approval_id)).json;
    assert(d1.state === 'denied' && d1.reason === 'not now' && d1.decided_by === adminName, 'denied ' + JSON.stringify(d1));
    const told = await tool('get_approval', { task_id: apTask, lease_epoch: ep, approval_id: a1.approval_id });
    assert(told.structuredContent.decision === 'deny', 'the agent is told ' + JSON.stringify(told));

    // The next one appears on the open page by the live feed, with an empty reason box.
    const a2 = await ask(evil);
    await page.waitForSelector(`#task-approval[data-approval-id="${a2.approval_id}"]:not([hidden])`, { timeout: 10000 });
    assert(await page.inputValue('#task-approval-reason') === '', 'the reason box kept the last reason');
    await page.click('#task-approval-approve');
    await page.waitForSelector('#task-approval', { state: 'hidden', timeout: 10000 });
    const d2 = (await http(ADMIN, 'GET', '/api/approvals/' + a2.approval_id)).json;
    assert(d2.state === 'approved' && d2.decided_by === adminName, 'approved ' + JSON.stringify(d2));

    // Back on the board: the badge and the pending row are gone.
    await page.click('a[data-nav=tasks]');
    await page.waitForSelector(`[data-task="${apTask}"]`, { timeout: 10000 });
    await page.waitForFunction((id) => !document.querySelector(`[data-task="${id}"] [data-approval]`) &&
      !document.querySelector(`[data-pending-approval][data-task-id="${id}"]`), apTask, { timeout: 10000 });

    // Someone else answers first: the page says so (409) in its error style and shows what holds.
    const a3 = await ask('kubectl apply -f canary.yaml');
    await page.click(`[data-task="${apTask}"]`);
    await page.waitForSelector(`#task-approval[data-approval-id="${a3.approval_id}"]:not([hidden])`, { timeout: 10000 });
    await page.route(`**/api/approvals/${a3.approval_id}/deny`, async (route) => {
      await http(ADMIN, 'POST', `/api/approvals/${a3.approval_id}/approve`, { reason: 'shipped it' });
      await route.continue();
    });
    const before = consoleErrors.length;
    await page.click('#task-approval-deny');
    await page.waitForFunction(() => /approved already/.test(document.getElementById('flash').textContent), null, { timeout: 10000 });
    assert(await page.getAttribute('#flash', 'class') === 'flash', 'the 409 is shown as an error');
    await page.waitForSelector('#task-approval', { state: 'hidden', timeout: 10000 });
    await page.unroute(`**/api/approvals/${a3.approval_id}/deny`);
    // The expected 409 is the only thing that went to the console meanwhile.
    const extra = consoleErrors.splice(before);
    assert(extra.every((e) => /409/.test(e)), 'console: ' + extra.join('\n'));
    assert((await http(ADMIN, 'GET', '/api/approvals/' + a3.approval_id)).json.state === 'approved', 'a3 approved');

    // One left waiting, with a long action, for the phone-width check below.
    await ask('kubectl apply -f ' + 'deploy/overlays/production/'.repeat(8) + 'kustomization.yaml --server-side --force-conflicts');

    // An operator sees what waits, but no buttons (the server would refuse them: developer scope).
    if (OPERATOR) {
      const octx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const op = await octx.newPage();
      op.on('pageerror', (e) => consoleErrors.push(String(e)));
      await op.addInitScript((tok) => { if (location.protocol === 'http:') sessionStorage.setItem('drover.token', tok); }, OPERATOR);
      await op.goto(BASE + '/#/tasks/' + apTask);
      await op.waitForSelector('#task-approval:not([hidden])', { timeout: 10000 });
      assert(!(await op.isVisible('#task-approval-approve')) && !(await op.isVisible('#task-approval-deny')), 'buttons shown to an operator');
      assert(await op.isVisible('#task-approval .viewer-only'), 'the operator is not told who may answer');
      await octx.close();
    }
  });

  await test('keyboard: the skip link comes first and nav links work with Enter', async () => {
    await page.goto('about:blank');
    await page.goto(BASE + '/#/pool');
    await page.waitForFunction(() => document.body.classList.contains('admin'));
    await page.keyboard.press('Tab');
    const first = await page.evaluate(() => document.activeElement.className);
    assert(first === 'skip', 'first focus is the skip link, got ' + first);
    await page.focus('a[data-nav=agents]');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => !document.getElementById('page-agents').hidden);
  });

  await test('phone width: pages fit without horizontal page scroll', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    const p2 = await phone.newPage();
    p2.on('pageerror', (e) => consoleErrors.push(String(e)));
    await p2.addInitScript((t) => { if (location.protocol === 'http:') sessionStorage.setItem('drover.token', t); }, ADMIN);
    for (const [hash, name] of [['#/pool', 'pool'], ['#/agents', 'agents'], ['#/tasks', 'tasks'], ['#/tasks/' + taskId, 'task'], ['#/tasks/' + apTask, 'task-approval'], ['#/health', 'health'], ['#/schedules', 'schedules'], ['#/notifications', 'notifications']]) {
      await p2.goto('about:blank');
      await p2.goto(BASE + '/' + hash);
      await p2.waitForFunction(() => document.body.classList.contains('admin'));
      if (name === 'task-approval') await p2.waitForSelector('#task-approval:not([hidden])', { timeout: 5000 }).catch(() => {});
      await p2.waitForTimeout(300);
      const overflow = await p2.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert(overflow <= 1, name + ' overflows the phone width by ' + overflow + ' px');
      await p2.screenshot({ path: join(ARTIFACTS, name + '-phone.png'), fullPage: true });
    }
    await phone.close();
  });

  await test('no console errors', async () => {
    assert(consoleErrors.length === 0, 'console errors:\n' + consoleErrors.join('\n'));
  });
} finally {
  await browser.close();
}
console.log(results.join('\n'));
console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ''));
process.exit(failed ? 1 : 0);
