// The v2 MCP TypeScript SDK client (@modelcontextprotocol/client 2.4.0, protocol 2026-07-28)
// against droverd's /mcp over Streamable HTTP with a bearer token, in the modern era: connect
// pinned to 2026-07-28 (server/discover, no initialize, no session), list the tools and call
// every one of them, asserting the results; then connect in 'auto' mode (probe, must choose the
// modern era) and in the default legacy mode (must still work: a dual-era server). The v2 SDK
// ships no WebSocket client transport, so /ws is covered by the v1 script (sdk-client.mjs).
//
// usage: node sdk2-client.mjs   (env: DROVER_URL, DROVER_TOKEN, TASK_A, TASK_B,
//                                SUBMIT_TOKEN (a submitter's: admin), PROJECT (a project name),
//                                DROVER_NPM_TOOLS = the npm-tools directory)
// As a submitter (modern era): submit_task on PROJECT (the SDK mirrors arguments.project into
// Mcp-Param-Project, as the tool's x-mcp-header asks; droverd checks it), list_tasks,
// task_status, cancel_task. The SDK's core has no tasks-extension client (that is the separate
// @modelcontextprotocol/ext-tasks), so this client does not declare the extension and gets the
// ordinary results; the extension's flow is tested with curl in e2e_mcp_modern.
// Task A: get_next_task, create_branch (twice), log_activity (one and a batch), heartbeat,
// update_task_status (stale epoch -> isError, then completed). Task B: get_next_task,
// create_branch, create_pull_request, trigger_preview_deploy (isError: no webhook), heartbeat,
// ask_user_question (-> needs_input). Exit 0 only when every assertion held.
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';
import { env, TOOLS, step, call } from './sdk-common.mjs';

const require = createRequire(env('DROVER_NPM_TOOLS') + '/package.json');
const { Client, StreamableHTTPClientTransport } = await import(
  require.resolve('@modelcontextprotocol/client'));

const base = env('DROVER_URL');
const token = env('DROVER_TOKEN');
const taskA = Number(env('TASK_A'));
const taskB = Number(env('TASK_B'));
const auth = { Authorization: `Bearer ${token}` };

function transport(headers = auth) {
  return new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers } });
}

async function connect(mode, headers) {
  const client = new Client({ name: 'drover-sdk2-e2e', version: '0.0.1' },
    mode ? { versionNegotiation: { mode } } : {});
  const t = transport(headers);
  await client.connect(t);
  return { client, t };
}

async function modern() {
  step('modern: a connect without a token is refused (401)');
  await assert.rejects(connect({ pin: '2026-07-28' }, {}),
    (e) => /401|nauthori|invalid_token/i.test(String(e?.message ?? e) + (e?.code ?? '')));

  step('modern: connect pinned to 2026-07-28 (server/discover)');
  const { client, t } = await connect({ pin: '2026-07-28' });
  assert.equal(client.getProtocolEra(), 'modern', 'era');
  assert.equal(client.getNegotiatedProtocolVersion(), '2026-07-28', 'version');
  assert.ok(client.getServerCapabilities()?.tools, 'server declares tools');
  assert.equal(client.getServerVersion()?.name, 'drover', 'serverInfo from _meta');
  assert.equal(t.sessionId, undefined, 'no session in the modern era');

  step('modern: tools/list has the agent tools');
  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((x) => x.name).sort(), [...TOOLS].sort());

  step('modern: task A through get_next_task ... update_task_status');
  const got = await call(client, 'get_next_task', { wait_seconds: 0 });
  assert.equal(Number(got.task?.id), taskA, `get_next_task: ${JSON.stringify(got)}`);
  const epoch = got.task.lease_epoch;
  const br = await call(client, 'create_branch', { task_id: taskA, lease_epoch: epoch });
  assert.match(String(br.branch), new RegExp(`^drover/${taskA}-`), JSON.stringify(br));
  const br2 = await call(client, 'create_branch', { task_id: taskA, lease_epoch: epoch });
  assert.equal(br2.branch, br.branch, 'create_branch is idempotent');
  await call(client, 'log_activity', { task_id: taskA, message: 'sdk2 e2e: started' });
  await call(client, 'log_activity', { task_id: taskA, entries: [
    { level: 'info', message: 'sdk2 e2e: batch 1' }, { level: 'warning', message: 'sdk2 e2e: batch 2' }] });
  const hb = await call(client, 'heartbeat', { status: 'busy', task_ids: [taskA] });
  assert.ok((hb.tasks ?? []).some((x) => Number(x.id) === taskA), JSON.stringify(hb));
  await call(client, 'update_task_status', { task_id: taskA, status: 'completed',
    lease_epoch: epoch + 100 }, { expectError: true });
  const done = await call(client, 'update_task_status', { task_id: taskA, status: 'completed',
    lease_epoch: epoch, result: { summary: 'done by the v2 SDK e2e' } });
  assert.equal((done.task ?? done).state, 'completed', JSON.stringify(done));

  step('modern: task B through create_pull_request, trigger_preview_deploy, ask_user_question');
  const b = await call(client, 'get_next_task', { wait_seconds: 0 });
  assert.equal(Number(b.task?.id), taskB);
  const eb = b.task.lease_epoch;
  await call(client, 'create_branch', { task_id: taskB, lease_epoch: eb });
  const pr = await call(client, 'create_pull_request', { task_id: taskB, lease_epoch: eb,
    title: 'SDK2 e2e PR', body: 'opened by the v2 SDK e2e' });
  assert.ok(JSON.stringify(pr).includes('SDK2 e2e PR'), JSON.stringify(pr));
  const pv = await call(client, 'trigger_preview_deploy', { task_id: taskB, lease_epoch: eb },
    { expectError: true });
  assert.match(pv.content[0].text, /preview/i);
  await call(client, 'heartbeat', { status: 'busy', task_ids: [taskB] });
  const q = await call(client, 'ask_user_question', { task_id: taskB, lease_epoch: eb,
    question: 'Which colour?' });
  assert.equal((q.task ?? q).state, 'needs_input', JSON.stringify(q));

  step('modern: a held get_next_task (wait_seconds 1) ends with task null');
  const none = await call(client, 'get_next_task', { wait_seconds: 1 });
  assert.equal(none.task, null);

  step('modern: an unknown tool is an error, not a crash');
  const unknown = await client.callTool({ name: 'no_such_tool', arguments: {} })
    .then((r) => r, (e) => ({ thrown: e }));
  assert.ok(unknown.thrown || unknown.isError, JSON.stringify(unknown));
  await client.close();
}

async function submitter() {
  step('submitter: pinned modern with a submitter token: the submitter tools only');
  const { client } = await connect({ pin: '2026-07-28' }, { Authorization: `Bearer ${env('SUBMIT_TOKEN')}` });
  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((x) => x.name).sort(),
    ['accept_task', 'answer_task', 'cancel_task', 'list_tasks', 'rework_task', 'submit_task',
      'task_status']);
  step('submitter: submit_task on a project (Mcp-Param-Project mirrored by the SDK)');
  const sub = await call(client, 'submit_task', { project: env('PROJECT'), prompt: 'sdk2 e2e: delegated work',
    priority: 3, budget: { tokens: 1000 } });
  assert.equal(sub.task.state, 'backlog', JSON.stringify(sub));
  assert.match(sub.task_handle, /^drv-task-\d+\.[0-9a-f]{32}$/);
  const id = sub.task.id;
  step('submitter: list_tasks and task_status see it');
  const list = await call(client, 'list_tasks', { state: 'backlog', limit: 50 });
  assert.ok(list.tasks.some((x) => x.task.id === id), JSON.stringify(list).slice(0, 300));
  const st = await call(client, 'task_status', { task_id: id });
  assert.equal(st.task.description, 'sdk2 e2e: delegated work');
  step('submitter: cancel_task');
  const c = await call(client, 'cancel_task', { task_id: id, reason: 'sdk2 e2e' });
  assert.equal(c.task.state, 'cancelled', JSON.stringify(c));
  step('submitter: an agent tool with a submitter token is refused');
  await call(client, 'heartbeat', {}, { expectError: true });
  await client.close();
}

async function otherModes() {
  step("auto: the probe selects the modern era");
  const a = await connect('auto');
  assert.equal(a.client.getProtocolEra(), 'modern');
  await a.client.listTools();
  await a.client.close();

  step('legacy (the default): initialize still works on the same endpoint');
  const l = await connect(undefined);
  assert.equal(l.client.getProtocolEra(), 'legacy');
  assert.equal(l.client.getNegotiatedProtocolVersion(), '2025-11-25');
  await l.client.ping();
  const { tools } = await l.client.listTools();
  assert.equal(tools.length, TOOLS.length);
  await l.client.close();
}

try {
  await modern();
  await submitter();
  await otherModes();
  console.log('OK: v2 SDK client, modern and legacy eras');
} catch (e) {
  console.error(`FAIL: ${e?.stack ?? e}`);
  process.exit(1);
}
process.exit(process.exitCode ?? 0);
