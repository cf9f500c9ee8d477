// What the two SDK clients (sdk-client.mjs on the v1 SDK, sdk2-client.mjs on the v2 one) share:
// the environment they read, the agent tools droverd must list, the step log and a checked tool
// call. Both SDKs' clients have the same callTool.
import assert from 'node:assert/strict';

export const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};

export const TOOLS = ['get_next_task', 'create_branch', 'log_activity', 'update_task_status',
  'heartbeat', 'ask_user_question', 'create_pull_request', 'trigger_preview_deploy',
  'get_git_credential', 'request_approval', 'get_approval'];

export function step(name) { console.log(`-- ${name}`); }

// A tool call's JSON: structuredContent, which must equal content[0].text parsed. With
// expectError the call must be an isError result, which is returned whole.
export async function call(client, name, args, { expectError = false } = {}) {
  const r = await client.callTool({ name, arguments: args });
  assert.ok(Array.isArray(r.content) && r.content.length >= 1, `${name}: content missing`);
  assert.equal(r.content[0].type, 'text', `${name}: content[0] is not text`);
  if (expectError) {
    assert.equal(r.isError, true, `${name}: expected isError, got ${JSON.stringify(r)}`);
    return r;
  }
  assert.ok(!r.isError, `${name}(${JSON.stringify(args)}) failed: ${JSON.stringify(r.content)}`);
  assert.deepEqual(r.structuredContent, JSON.parse(r.content[0].text),
    `${name}: structuredContent != content[0].text`);
  return r.structuredContent;
}
