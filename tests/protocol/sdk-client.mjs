// The official MCP TypeScript SDK client (@modelcontextprotocol/sdk) against droverd, over
// Streamable HTTP (/mcp) and over the SDK's WebSocketClientTransport (/ws, subprotocol "mcp"),
// with a bearer token. Lists the tools and calls every one of them, asserting the results.
//
// usage: node sdk-client.mjs   (env: DROVER_URL, DROVER_TOKEN, AGENT_ID, TASK_A, TASK_B,
//                               DROVER_NPM_TOOLS = the npm-tools directory)
// Task A goes through HTTP: get_next_task, create_branch, log_activity (one and a batch),
// heartbeat, update_task_status(completed). Task B through WebSocket: get_next_task,
// create_pull_request, heartbeat, ask_user_question (-> needs_input). Exit 0 only when every
// assertion held; the failing one is printed.
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';
import { env, TOOLS, step, call } from './sdk-common.mjs';

const require = createRequire(env('DROVER_NPM_TOOLS') + '/package.json');
const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
const { StreamableHTTPClientTransport } = require('@modelcontextprotocol/sdk/client/streamableHttp.js');
const { WebSocketClientTransport } = require('@modelcontextprotocol/sdk/client/websocket.js');
const WS = require('ws');

const base = env('DROVER_URL');
const token = env('DROVER_TOKEN');
const agentId = env('AGENT_ID');
const taskA = Number(env('TASK_A'));
const taskB = Number(env('TASK_B'));
const auth = { Authorization: `Bearer ${token}` };

// The SDK's WebSocketClientTransport does `new WebSocket(url, "mcp")` with the global WebSocket,
// which cannot send headers. Give it one that can (the `ws` package), adding the bearer token to
// the upgrade request exactly like Claude Code's "ws" transport does.
function wsWithHeaders(headers) {
  return class extends WS {
    constructor(url, protocols) { super(url, protocols, { headers }); }
  };
}

async function checkTools(client) {
  const { tools } = await client.listTools();
  const names = tools.map((t) => t.name).sort();
  assert.deepEqual(names, [...TOOLS].sort(), `tools/list: ${names}`);
  assert.equal(new Set(names).size, names.length, `duplicate tool names: ${names}`);
  for (const t of tools) {
    assert.ok(t.description && t.description.length > 0, `${t.name}: no description`);
    assert.equal(t.inputSchema?.type, 'object', `${t.name}: inputSchema is not an object schema`);
    assert.equal(t.outputSchema?.type, 'object', `${t.name}: outputSchema is not an object schema`);
  }
  return tools;
}

async function overHttp() {
  step('HTTP: a request without a token is refused with 401');
  const bare = new Client({ name: 'drover-sdk-e2e', version: '0.0.1' });
  await assert.rejects(bare.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`))),
    (e) => /401|nauthori|invalid_token/i.test(String(e?.message ?? e) + (e?.code ?? '')));
  await bare.close().catch(() => {});

  step('HTTP: initialize with a bearer token');
  const transport = new StreamableHTTPClientTransport(new URL(`${base}/mcp`),
    { requestInit: { headers: auth } });
  const client = new Client({ name: 'drover-sdk-e2e', version: '0.0.1' });
  await client.connect(transport);
  assert.equal(transport.protocolVersion, '2025-11-25', 'negotiated protocol version');
  assert.ok(client.getServerCapabilities()?.tools, 'server declares tools');
  console.log(`   session ${transport.sessionId ?? '(none)'}, server ${JSON.stringify(client.getServerVersion())}`);
  await client.ping();

  step('HTTP: tools/list has exactly the eight tools, each with schemas');
  await checkTools(client);

  step('HTTP: get_next_task returns task A');
  const got = await call(client, 'get_next_task', { wait_seconds: 0 });
  assert.ok(got.task, `get_next_task returned no task: ${JSON.stringify(got)}`);
  assert.equal(Number(got.task.id), taskA, 'the oldest task comes first');
  for (const k of ['title', 'description', 'priority', 'attempt', 'lease_epoch', 'project'])
    assert.ok(k in got.task, `task lacks ${k}`);
  assert.equal(got.task.attempt, 1);
  const epoch = got.task.lease_epoch;

  step('HTTP: create_branch names the branch drover/<id>-<slug> and is idempotent');
  const br = await call(client, 'create_branch', { task_id: taskA, lease_epoch: epoch });
  const branch = br.branch ?? br.task?.branch;
  assert.match(String(branch), new RegExp(`^drover/${taskA}-`), `branch: ${JSON.stringify(br)}`);
  const br2 = await call(client, 'create_branch', { task_id: taskA, lease_epoch: epoch });
  assert.equal(br2.branch ?? br2.task?.branch, branch, 'create_branch twice gives the same branch');

  step('HTTP: log_activity, one entry and a batch');
  await call(client, 'log_activity', { task_id: taskA, level: 'info', message: 'sdk e2e: started',
    metadata: { step: 1 } });
  await call(client, 'log_activity', { task_id: taskA, entries: [
    { level: 'info', message: 'sdk e2e: batch 1' }, { level: 'warning', message: 'sdk e2e: batch 2' }] });

  step('HTTP: heartbeat keeps task A');
  const hb = await call(client, 'heartbeat', { status: 'busy', task_ids: [taskA] });
  const held = (hb.tasks ?? []).find((t) => Number(t.id) === taskA);
  assert.ok(held && held.cancelled === false, `heartbeat: ${JSON.stringify(hb)}`);

  step('HTTP: update_task_status with a stale epoch is an isError result');
  await call(client, 'update_task_status', { task_id: taskA, status: 'completed',
    lease_epoch: epoch + 100 }, { expectError: true });

  step('HTTP: update_task_status(completed)');
  const done = await call(client, 'update_task_status', { task_id: taskA, status: 'completed',
    lease_epoch: epoch, result: { summary: 'done by the SDK e2e' } });
  assert.equal((done.task ?? done).state, 'completed', JSON.stringify(done));

  step('HTTP: an unknown tool is an error, not a crash');
  const unknown = await client.callTool({ name: 'no_such_tool', arguments: {} })
    .then((r) => r, (e) => ({ thrown: e }));
  assert.ok(unknown.thrown || unknown.isError, `unknown tool: ${JSON.stringify(unknown)}`);

  await transport.terminateSession().catch(() => {});
  await client.close();
}

async function overWebSocket() {
  const wsUrl = new URL(`${base.replace(/^http/, 'ws')}/ws`);

  step('WS: an upgrade without a token is refused');
  globalThis.WebSocket = wsWithHeaders({});
  const bare = new Client({ name: 'drover-sdk-e2e-ws', version: '0.0.1' });
  await assert.rejects(bare.connect(new WebSocketClientTransport(wsUrl)));
  await bare.close().catch(() => {});

  step('WS: initialize over WebSocketClientTransport (subprotocol mcp) with a bearer token');
  globalThis.WebSocket = wsWithHeaders(auth);
  const client = new Client({ name: 'drover-sdk-e2e-ws', version: '0.0.1' });
  await client.connect(new WebSocketClientTransport(wsUrl));
  await client.ping();

  step('WS: tools/list');
  await checkTools(client);

  step('WS: get_next_task returns task B');
  const got = await call(client, 'get_next_task', { wait_seconds: 0 });
  assert.ok(got.task, `get_next_task returned no task: ${JSON.stringify(got)}`);
  assert.equal(Number(got.task.id), taskB);
  const epoch = got.task.lease_epoch;

  step('WS: create_branch for task B (a pull request needs a branch)');
  await call(client, 'create_branch', { task_id: taskB, lease_epoch: epoch });

  step('WS: create_pull_request is recorded on the task');
  const pr = await call(client, 'create_pull_request', { task_id: taskB, lease_epoch: epoch,
    title: 'SDK e2e PR', body: 'opened by the SDK e2e' });
  assert.ok(JSON.stringify(pr).includes('SDK e2e PR'), `create_pull_request: ${JSON.stringify(pr)}`);

  step('WS: trigger_preview_deploy without a configured webhook is a clear tool error');
  const pv = await call(client, 'trigger_preview_deploy', { task_id: taskB, lease_epoch: epoch },
    { expectError: true });
  assert.match(pv.content[0].text, /preview/i, `trigger_preview_deploy: ${JSON.stringify(pv)}`);

  step('WS: heartbeat');
  await call(client, 'heartbeat', { status: 'busy', task_ids: [taskB] });

  step('WS: ask_user_question moves task B to needs_input');
  const q = await call(client, 'ask_user_question', { task_id: taskB, lease_epoch: epoch,
    question: 'Which branch should this target?' });
  assert.equal((q.task ?? q).state, 'needs_input', JSON.stringify(q));

  step('WS: get_next_task now finds nothing');
  const none = await call(client, 'get_next_task', { wait_seconds: 0 });
  assert.equal(none.task, null);
  await client.close();
}

try {
  await overHttp();
  await overWebSocket();
  console.log(`OK: SDK client over HTTP and WebSocket, agent ${agentId}`);
} catch (e) {
  console.error(`FAIL: ${e?.stack ?? e}`);
  // An open WebSocket would keep Node alive: exit now so the test fails instead of hanging.
  process.exit(1);
}
// An open WebSocket or a pending long-poll must not keep a failed run alive.
process.exit(process.exitCode ?? 0);
