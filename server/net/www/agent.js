/* Drover dashboard: an agent's page (#/agents/ID): its facts and its own log (pod log or
 * process output), streamed live from GET /api/agents/ID/logs?follow=1 (read with fetch: the
 * bearer token cannot go through EventSource). One stream at a time; leaving the page ends it.
 * Uses app.js's api(), el() and state; loaded after it. Lines go in as text, never HTML. */
'use strict';

const agentLog = { gen: 0, id: '', ctrl: null };

function agentLogState(text) { document.getElementById('agent-log-state').textContent = text; }

async function agentLogStream(id, gen) {
  const pre = document.getElementById('agent-log');
  const headers = { Accept: 'text/event-stream' };
  if (state.token) headers.Authorization = 'Bearer ' + state.token;
  agentLog.ctrl = new AbortController();
  let lines = 0;
  try {
    const r = await fetch('/api/agents/' + id + '/logs?follow=1', { headers, signal: agentLog.ctrl.signal });
    if (!r.ok) {
      const j = await r.json().catch(() => null);
      agentLogState('(' + ((j && j.error && j.error.message) || r.statusText) + ')');
      return;
    }
    agentLogState('(live)');
    const reader = r.body.getReader();
    const dec = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done || gen !== agentLog.gen) break;
      buf += dec.decode(value, { stream: true });
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i); buf = buf.slice(i + 2);
        for (const line of block.split('\n')) {
          if (!line.startsWith('data:')) continue;
          let d = line.slice(5).replace(/^ /, '');
          try { d = JSON.parse(d).line ?? d; } catch (e) { /* plain text */ }
          pre.append(document.createTextNode(d + '\n'));
          lines++;
        }
      }
      if (pre.scrollHeight - pre.scrollTop - pre.clientHeight < 80) pre.scrollTop = pre.scrollHeight;
    }
    if (gen === agentLog.gen)
      agentLogState(lines ? '(the stream ended)' : '(no output: this droverd runs no pod backend for it, or it has not written anything)');
  } catch (e) {
    if (gen === agentLog.gen) agentLogState('(stream lost: ' + e.message + ')');
  }
}

async function loadAgentPage(id) {
  const a = await api('GET', '/api/agents/' + id);
  document.getElementById('agent-title').textContent = 'Agent ' + (a.name || a.id.slice(0, 8));
  const facts = document.getElementById('agent-facts');
  facts.replaceChildren();
  for (const [k, v] of [['id', a.id], ['status', a.status], ['backend', a.backend], ['pod', a.pod_name],
    ['last heartbeat', a.last_heartbeat_at], ['current task', a.current_task && (a.current_task.id || a.current_task)]]) {
    facts.append(el('dt', { text: k }), el('dd', { class: 'mono', 'data-fact': k, text: v == null ? '–' : String(v) }));
  }
  if (agentLog.id !== id || !agentLog.ctrl) {
    agentLogStop();
    agentLog.id = id;
    document.getElementById('agent-log').textContent = '';
    agentLogStream(id, ++agentLog.gen);
  }
}

function agentLogStop() {
  agentLog.gen++;
  if (agentLog.ctrl) agentLog.ctrl.abort();
  agentLog.ctrl = null;
  agentLog.id = '';
}

window.addEventListener('hashchange', () => { if (!/^#\/agents\/[0-9a-f-]{36}$/.test(location.hash)) agentLogStop(); });
