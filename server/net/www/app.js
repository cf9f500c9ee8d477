/* Drover dashboard: plain JavaScript, no build step, no third-party code. Talks to the REST
 * API with the bearer token kept in sessionStorage. Live updates come from /api/events: a
 * fetch()-read server-sent-events stream when the server offers one, else polling with the
 * event cursor (the same ids, so either way nothing is missed or repeated). */
'use strict';

const STATES = ['backlog', 'in_progress', 'needs_input', 'ready_to_test', 'completed', 'failed', 'cancelled'];
const FRESH_S = 45;   /* heartbeat age under this: fresh */
const LATE_S = 120;   /* under this: late; after: stale (a lease is 120 s) */
const SAMPLE_MS = 5000;
const MAX_SAMPLES = 120;

const $ = (id) => document.getElementById(id);
const state = {
  token: sessionStorage.getItem('drover.token') || '',
  scope: '',
  cursor: null,
  agents: new Map(),       /* id -> agent (with hbBase: ms timestamp of the last beat) */
  samples: [],             /* {t, backlog, live, target} */
  decisions: [],
  page: '', taskId: 0, logAfter: 0, logTimer: 0,
  projects: [],
};

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') e.className = v; else if (k === 'text') e.textContent = v; else e.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids) if (k !== null && k !== undefined) e.append(k.nodeType ? k : String(k));
  return e;
}

function flash(msg, ok) {
  const f = $('flash');
  f.textContent = msg;
  f.className = ok ? 'flash ok' : 'flash';
  f.hidden = false;
  clearTimeout(flash.t);
  flash.t = setTimeout(() => { f.hidden = true; }, ok ? 3000 : 8000);
}

class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

async function api(method, path, body, extra) {
  const headers = Object.assign({ Accept: 'application/json' }, extra || {});
  if (state.token) headers.Authorization = 'Bearer ' + state.token;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
  if (!r.ok) {
    const e = json && json.error;
    const err = new ApiError(r.status, (e && e.code) || 'http_' + r.status,
      (e && e.message) || (typeof e === 'string' ? e : r.statusText));
    if (r.status === 401) openToken();
    throw err;
  }
  return json;
}

async function act(what, fn) {
  try { const out = await fn(); flash(what + ': done', true); return out; }
  catch (e) { flash(what + ' failed: ' + (e.code ? e.code + ' – ' : '') + e.message); return null; }
}

/* ------------------------------------------------------------------ token */

function openToken() {
  const d = $('token-dialog');
  if (!d.open) { $('token-input').value = ''; d.showModal(); $('token-input').focus(); }
}

async function whoami() {
  if (!state.token) { /* nothing to ask the server yet: sign in first */
    state.scope = '';
    document.body.classList.remove('admin');
    return;
  }
  try {
    const me = await api('GET', '/api/whoami');
    state.scope = me.scope;
    $('token-btn').textContent = me.name + ' (' + me.scope + ')';
  } catch (e) {
    state.scope = '';
    $('token-btn').textContent = 'Sign in';
  }
  document.body.classList.toggle('admin', state.scope === 'admin');
  document.body.classList.toggle('developer', state.scope === 'admin' || state.scope === 'developer');
}

function setupToken() {
  $('token-btn').addEventListener('click', openToken);
  $('token-cancel').addEventListener('click', () => $('token-dialog').close());
  $('token-clear').addEventListener('click', () => {
    sessionStorage.removeItem('drover.token'); state.token = ''; $('token-dialog').close(); whoami();
  });
  $('token-form').addEventListener('submit', async () => {
    state.token = $('token-input').value.trim();
    sessionStorage.setItem('drover.token', state.token);
    await whoami();
    if (state.scope) { startFeed(); route(); }
  });
}

/* ------------------------------------------------------------------ time and text */

function ago(s) {
  if (s === null || s === undefined || isNaN(s)) return '–';
  s = Math.max(0, s);
  if (s < 120) return Math.round(s) + ' s';
  if (s < 7200) return Math.round(s / 60) + ' min';
  if (s < 172800) return (s / 3600).toFixed(1) + ' h';
  return Math.round(s / 86400) + ' d';
}

function hbClass(age) {
  if (age === null || age === undefined) return ['none', 'never'];
  if (age < FRESH_S) return ['fresh', 'fresh'];
  if (age < LATE_S) return ['late', 'late'];
  return ['stale', 'stale'];
}

function taskLink(id, label) { return el('a', { href: '#/tasks/' + id }, label || ('#' + id)); }

/* ------------------------------------------------------------------ agents */

function agentAge(a) { return a.hbBase ? (Date.now() - a.hbBase) / 1000 : null; }

function ingestAgent(a) {
  const old = state.agents.get(a.id) || {};
  const m = Object.assign({}, old, a);
  if (typeof a.heartbeat_age_seconds === 'number') m.hbBase = Date.now() - a.heartbeat_age_seconds * 1000;
  if (typeof a.uptime_seconds === 'number') m.startBase = Date.now() - a.uptime_seconds * 1000;
  state.agents.set(a.id, m);
}

async function loadAgents() {
  const out = await api('GET', '/api/agents');
  state.agents.clear();
  for (const a of out.agents) ingestAgent(a);
  renderAgents();
}

function renderAgents() {
  const tb = $('agents-body');
  tb.replaceChildren();
  const list = [...state.agents.values()];
  if (!list.length) { tb.append(el('tr', {}, el('td', { colspan: 7, class: 'empty' }, 'No agents.'))); return; }
  for (const a of list) {
    const age = agentAge(a);
    const [cls, label] = hbClass(age);
    const ct = a.current_task;
    const actions = el('td', { class: 'admin-only' });
    if (a.status !== 'offline' && a.status !== 'draining') {
      const b = el('button', { type: 'button', 'data-drain': a.id }, 'Drain');
      b.addEventListener('click', () => act('Drain agent', () => api('DELETE', '/api/agents/' + a.id)).then(refresh));
      actions.append(b);
    }
    tb.append(el('tr', { 'data-agent': a.id },
      el('td', { class: 'mono' }, el('a', { href: '#/agents/' + a.id, 'data-agent-link': a.id },
        a.name ? a.name + ' ' : '', el('span', { class: 'note' }, a.id.slice(0, 8)))),
      el('td', { class: 'status' }, a.status,
        a.unusable_reason ? el('div', { class: 'note unusable-reason', 'data-unusable': a.id },
          'unusable: ' + a.unusable_reason) : null),
      el('td', { class: 'mono' }, a.pod_name || '–'),
      el('td', {}, el('span', { class: 'hb ' + cls, 'data-hb': a.id }, label + ' · ' + ago(age))),
      el('td', {}, ct ? taskLink(ct.id || ct, '#' + (ct.id || ct) + (ct.title ? ' ' + ct.title : '')) : '–'),
      el('td', {}, a.startBase ? ago((Date.now() - a.startBase) / 1000) : '–'),
      actions));
  }
}

/* Ages tick every second without refetching. */
function tickAges() {
  for (const span of document.querySelectorAll('[data-hb]')) {
    const a = state.agents.get(span.getAttribute('data-hb'));
    if (!a) continue;
    const age = agentAge(a);
    const [cls, label] = hbClass(age);
    span.className = 'hb ' + cls;
    span.textContent = label + ' · ' + ago(age);
  }
}

/* ------------------------------------------------------------------ pool */

function liveAgents() { return [...state.agents.values()].filter((a) => a.status !== 'offline').length; }

async function loadPool() {
  let pool = null;
  try { pool = await api('GET', '/api/pool'); $('pool-note').textContent = ''; }
  catch (e) { $('pool-note').textContent = e.status === 404 ? 'This server has no pool API.' : 'Pool: ' + e.message; }
  const metrics = await fetch('/metrics').then((r) => r.ok ? r.text() : '').catch(() => '');
  const metric = (name) => { const m = metrics.match(new RegExp('^' + name + ' (\\S+)$', 'm')); return m ? Number(m[1]) : null; };
  const backlog = metric('drover_backlog');
  /* GET /api/pool: {settings: {min_agents, max_agents, pinned_target, pinned_until},
   * counts: {busy, idle, starting, draining, ...}, leader: {replica}, decisions: [...]} */
  const p = pool || {};
  const set = p.settings || {};
  const counts = p.counts || null;
  const min = set.min_agents ?? metric('drover_pool_min_agents');
  const max = set.max_agents ?? metric('drover_pool_max_agents');
  const last = Array.isArray(p.decisions) && p.decisions.length ? p.decisions[0] : null;
  const pinned = set.pinned_target ?? null;
  const target = pinned ?? (last ? last.target : null);
  const actual = counts ? (counts.busy + counts.idle + counts.starting + counts.draining) : liveAgents();
  $('pool-min').textContent = min ?? '–';
  $('pool-max').textContent = max ?? '–';
  $('pool-target').textContent = (target ?? '–') + (pinned !== null ? ' (pinned)' : '');
  $('pool-actual').textContent = actual;
  $('pool-backlog').textContent = (backlog ?? '–') + (counts && counts.held ? ' (+' + counts.held + ' held by project limits)' : '');
  const leader = p.leader;
  $('pool-leader').textContent = leader ? (leader.replica || JSON.stringify(leader)) : '–';
  /* Never overwrite what the admin is typing (a refresh can land between two fields). */
  if (!$('pool-min-in').dataset.dirty && min != null) $('pool-min-in').value = min;
  if (!$('pool-max-in').dataset.dirty && max != null) $('pool-max-in').value = max;
  if (Array.isArray(p.decisions)) {
    state.decisions = p.decisions.slice(0, 20);
    /* Before the page has sampled anything, draw the recent decisions as the history. */
    if (!state.samples.length)
      for (const d of p.decisions.slice().reverse()) {
        const snap = d.inputs || {};
        const b = snap.backlog ?? (snap.counts && snap.counts.backlog) ?? (snap.snapshot && snap.snapshot.backlog);
        state.samples.push({ t: Date.parse(d.ts), backlog: typeof b === 'number' ? b : (backlog ?? 0), live: d.current, target: d.target });
      }
  }
  state.samples.push({ t: Date.now(), backlog: backlog ?? 0, live: actual, target: target ?? actual });
  if (state.samples.length > MAX_SAMPLES) state.samples.shift();
  renderCharts();
  renderDecisions();
}

function chart(svg, series) {
  const W = 600, H = 160, P = 28;
  svg.replaceChildren();
  const ns = 'http://www.w3.org/2000/svg';
  const mk = (tag, attrs, text) => { const e = document.createElementNS(ns, tag); for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v); if (text !== undefined) e.textContent = text; return e; };
  const pts = state.samples;
  let maxY = 1;
  for (const s of series) for (const p of pts) maxY = Math.max(maxY, p[s.key]);
  svg.append(mk('line', { x1: P, y1: H - P, x2: W - 4, y2: H - P, stroke: '#8a94a3' }));
  svg.append(mk('line', { x1: P, y1: 6, x2: P, y2: H - P, stroke: '#8a94a3' }));
  svg.append(mk('text', { x: 4, y: 14, 'font-size': 11, fill: '#5b6470' }, String(maxY)));
  svg.append(mk('text', { x: 4, y: H - P, 'font-size': 11, fill: '#5b6470' }, '0'));
  svg.append(mk('text', { x: P, y: H - 8, 'font-size': 11, fill: '#5b6470' }, pts.length > 1 ? 'last ' + ago((pts[pts.length - 1].t - pts[0].t) / 1000) : 'collecting…'));
  if (pts.length < 1) return;
  const x = (i) => P + (pts.length === 1 ? 0 : (i * (W - P - 8)) / (pts.length - 1));
  const y = (v) => H - P - (v * (H - P - 10)) / maxY;
  for (const s of series) {
    const d = pts.map((p, i) => (i ? 'L' : 'M') + x(i).toFixed(1) + ' ' + y(p[s.key]).toFixed(1)).join(' ');
    const attrs = { d, fill: 'none', stroke: s.colour, 'stroke-width': 2 };
    if (s.dash) attrs['stroke-dasharray'] = '6 4';
    svg.append(mk('path', attrs));
    const last = pts[pts.length - 1][s.key];
    svg.append(mk('text', { x: W - 120, y: y(last) - 4, 'font-size': 11, fill: s.colour }, s.label + ' ' + last));
  }
}

function renderCharts() {
  chart($('chart-backlog'), [{ key: 'backlog', colour: '#1f5fbf', label: 'backlog' }]);
  chart($('chart-pool'), [{ key: 'live', colour: '#1e7b34', label: 'agents' }, { key: 'target', colour: '#8a5a00', label: 'target', dash: true }]);
}

function renderDecisions() {
  const ol = $('scale-list');
  ol.replaceChildren();
  if (!state.decisions.length) { ol.append(el('li', { class: 'empty' }, 'None yet.')); return; }
  for (const d of state.decisions) {
    const when = d.ts || d.at || d.created_at || '';
    const what = d.message || ((d.current ?? d.from ?? '?') + ' → ' + (d.target ?? d.to ?? '?'));
    ol.append(el('li', {}, el('time', {}, when.replace('T', ' ').slice(0, 19)), ' ', el('strong', {}, what),
      d.reason ? ' — ' + d.reason : ''));
  }
}

function setupPool() {
  for (const id of ['pool-min-in', 'pool-max-in'])
    $(id).addEventListener('input', () => { $(id).dataset.dirty = '1'; });
  $('pool-bounds').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const body = {};
    if ($('pool-min-in').value !== '') body.min_agents = Number($('pool-min-in').value);
    if ($('pool-max-in').value !== '') body.max_agents = Number($('pool-max-in').value);
    act('Save pool bounds', () => api('PUT', '/api/pool', body)).then((out) => {
      if (out) { delete $('pool-min-in').dataset.dirty; delete $('pool-max-in').dataset.dirty; }
      loadPool();
    });
  });
  $('pool-pin').addEventListener('submit', (ev) => {
    ev.preventDefault();
    act('Pin pool target', () => api('POST', '/api/pool/scale', { count: Number($('pool-pin-in').value) })).then(loadPool);
  });
  $('pool-unpin').addEventListener('click', () => act('Unpin', () => api('POST', '/api/pool/scale', { count: null })).then(loadPool));
  $('agent-start').addEventListener('click', () => act('Start agent', () => api('POST', '/api/agents', {})).then(refresh));
}

/* ------------------------------------------------------------------ tasks */

async function loadProjects() {
  try {
    const out = await api('GET', '/api/projects');
    state.projects = out.projects;
  } catch (e) { state.projects = []; }
  for (const sel of [$('f-project'), $('n-project')]) {
    const keep = sel.value;
    sel.replaceChildren(sel.options[0]);
    for (const p of state.projects) sel.append(el('option', { value: p.name }, p.name));
    sel.value = keep;
  }
}

async function loadBoard() {
  const q = new URLSearchParams({ limit: '200' });
  if ($('f-project').value) q.set('project', $('f-project').value);
  if ($('f-agent').value.trim()) q.set('agent', $('f-agent').value.trim());
  let tasks = [];
  if (typeof loadPendingApprovals === 'function') loadPendingApprovals();
  try { tasks = (await api('GET', '/api/tasks?' + q)).tasks; }
  catch (e) { flash('Tasks: ' + e.message); }
  const text = $('f-text').value.trim().toLowerCase();
  if (text) tasks = tasks.filter((t) => t.title.toLowerCase().includes(text));
  const board = $('board');
  board.replaceChildren();
  for (const s of STATES) {
    const mine = tasks.filter((t) => t.state === s);
    const ul = el('ul', {});
    for (const t of mine)
      ul.append(el('li', {}, el('a', { class: 'tcard', href: '#/tasks/' + t.id, 'data-task': t.id },
        el('span', { class: 'id' }, '#' + t.id + (t.is_group ? ' · group' : '') + (t.parent_id ? ' · of #' + t.parent_id : '')),
        t.approval ? el('span', { class: 'badge', 'data-approval': t.approval.id, title: 'Waiting for approval: ' + t.approval.action }, 'approval') : null,
        el('br'), t.title)));
    if (!mine.length) ul.append(el('li', { class: 'empty' }, 'none'));
    board.append(el('section', { class: 'col', 'aria-label': s.replace('_', ' ') + ' tasks', 'data-state': s },
      el('h3', {}, s.replace(/_/g, ' ') + ' (' + mine.length + ')'), ul));
  }
}

function fact(dl, k, v) { dl.append(el('dt', {}, k), el('dd', {}, v === null || v === undefined || v === '' ? '–' : v)); }

async function loadTask(id) {
  let t;
  try { t = await api('GET', '/api/tasks/' + id); }
  catch (e) { flash('Task #' + id + ': ' + e.message); return; }
  $('task-title').textContent = '#' + t.id + ' ' + t.title;
  const dl = $('task-facts');
  dl.replaceChildren();
  fact(dl, 'State', el('span', {}, el('strong', { 'data-task-state': t.state }, t.state),
    t.approval ? el('span', { class: 'badge', 'data-approval': t.approval.id }, 'waiting for approval') : null));
  fact(dl, 'Project', t.project && t.project.name ? t.project.name : null);
  fact(dl, 'Repository', t.project ? t.project.repoUrl : null);
  fact(dl, 'Branch', t.branch ? t.branch + ' (from ' + t.base_branch + ')' : 'not yet (from ' + t.base_branch + ')');
  const pr = t.pull_request;
  fact(dl, 'Pull request', pr && pr.url ? el('span', {}, el('a', { href: pr.url, rel: 'noopener' }, pr.url), pr.state ? ' (' + pr.state + ')' : '')
    : pr ? 'none: the repository has no forge Drover can reach (plain git); fetch the branch with git fetch origin ' + (pr.head || t.branch)
    : t.pull_request_note || 'not yet');
  // The people on the forge: who filed the issue the task came from, who last asked Drover to
  // act (the labeller or commenter, then a reviewer who sent it back).
  if (t.forge_author || t.forge_requester)
    fact(dl, 'Forge people', [t.forge_author ? 'issue by ' + t.forge_author : '',
      t.forge_requester ? 'asked by ' + t.forge_requester : ''].filter(Boolean).join(' · '));
  fact(dl, 'Agent', t.agent_id);
  fact(dl, 'Attempt', t.attempt + ' of ' + t.max_attempts);
  fact(dl, 'Duration', t.duration_seconds != null ? ago(t.duration_seconds) : null);
  fact(dl, 'Priority', String(t.priority));
  if (t.parent_id) fact(dl, 'Fan-out group', taskLink(t.parent_id));
  if (t.children) {
    /* The candidates side by side: state, branch, pull request, tokens, time, summary. */
    const tokens = (u) => u ? (u.output_tokens ?? u.tokens ?? u.total_tokens ?? null) : null;
    const tb = el('tbody');
    for (const c of t.children) {
      const cpr = c.pull_request;
      const summary = c.result && (c.result.summary || c.result.message);
      tb.append(el('tr', {},
        el('td', {}, taskLink(c.id)), el('td', {}, c.state), el('td', {}, c.branch || '–'),
        el('td', {}, cpr && cpr.url ? el('a', { href: cpr.url, rel: 'noopener' }, '#' + (cpr.number ?? 'PR')) : (cpr ? 'branch only' : '–')),
        el('td', {}, c.result && Array.isArray(c.result.files)
          ? c.result.files.length + ' files +' + c.result.files.reduce((n, f) => n + (f.added || 0), 0) + ' −' + c.result.files.reduce((n, f) => n + (f.removed || 0), 0)
          : '–'),
        el('td', {}, tokens(c.usage) != null ? String(tokens(c.usage)) : '–'),
        el('td', {}, c.duration_seconds != null ? ago(c.duration_seconds) : '–'),
        el('td', {}, summary ? String(summary).slice(0, 120) : '–')));
    }
    const table = el('table', { class: 'children', 'aria-label': 'Fan-out children' },
      el('thead', {}, el('tr', {}, ...['Child', 'State', 'Branch', 'Pull request', 'Changes', 'Tokens', 'Time', 'Summary'].map((h) => el('th', { scope: 'col' }, h)))), tb);
    fact(dl, 'Children', table);
  }
  if (t.last_error) fact(dl, 'Last error', t.last_error);
  const res = t.result || {};
  if (Array.isArray(res.files)) {
    /* The change itself: files with +/- counts, and the diff (as the agent pushed it). */
    const ul = el('ul', { class: 'files', 'aria-label': 'Files changed' });
    let add = 0, del = 0;
    for (const f of res.files) {
      add += f.added || 0; del += f.removed || 0;
      ul.append(el('li', {}, el('code', {}, f.path), ' ',
        el('span', { class: 'added' }, f.added == null ? 'binary' : '+' + f.added), ' ',
        el('span', { class: 'removed' }, f.removed == null ? '' : '−' + f.removed)));
    }
    fact(dl, 'Changes', el('div', {}, res.files.length + ' file(s), +' + add + ' −' + del, ul,
      res.diff ? el('details', {}, el('summary', {}, 'Diff' + (res.diff_truncated ? ' (truncated)' : '')),
        el('pre', { class: 'diff', id: 'task-diff' }, res.diff)) : null));
  }
  fact(dl, 'Prompt', t.description);
  const q = $('task-question');
  q.hidden = t.state !== 'needs_input';
  $('task-question-text').textContent = t.question || '';
  if (typeof renderTaskApproval === 'function') renderTaskApproval(t);
  $('task-cancel').disabled = ['completed', 'failed', 'cancelled'].includes(t.state);
  $('task-retry').disabled = !['failed', 'cancelled'].includes(t.state);
  $('task-review').hidden = t.state !== 'ready_to_test';
  $('task-review-note').textContent = t.state !== 'ready_to_test' ? '' : pr && pr.url
    ? 'Review the pull request, then accept it, ask for changes or reject it.'
    : 'No forge pull request exists for this task' + (t.branch ? '; fetch the branch with: git fetch origin ' + t.branch : '') + '.';
  const ol = $('task-history');
  ol.replaceChildren();
  for (const h of t.history || [])
    ol.append(el('li', {}, el('time', {}, (h.ts || '').replace('T', ' ').slice(0, 19)), ' ', h.message + (h.by ? ' (by ' + h.by + ')' : '')));
  $('log-state').textContent = ['completed', 'failed', 'cancelled'].includes(t.state) ? '(finished)' : '(live)';
}

/* The coding model's part of the log (drover-agent's runner_transcript.h; the model's own
 * log_activity notes), as a transcript people can follow. */
function transcriptItem(e) {
  const m = e.metadata || {};
  if (m.source !== 'claude' && m.source !== 'model') return;
  const kind = m.source === 'model' ? 'note' : (m.kind || 'event');
  if (kind === 'event') return;
  const cls = 'tx-' + kind + (m.is_error ? ' tx-failed' : '') + (e.level === 'error' ? ' tx-error' : '');
  const label = { text: 'model', tool_use: 'tool', tool_result: 'result', result: 'session', init: 'session', note: 'note' }[kind] || kind;
  $('task-transcript').append(el('li', { class: cls, 'data-tx-kind': kind },
    el('span', { class: 'note' }, ((e.ts || '').slice(11, 19)) + ' ' + label + ' '), e.message));
}

async function pollLog() {
  if (state.page !== 'task') return;
  const id = state.taskId;
  try {
    const out = await api('GET', '/api/tasks/' + id + '/logs?after=' + state.logAfter + '&limit=500');
    if (id !== state.taskId) return;
    const pre = $('task-log');
    const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 8;
    for (const e of out.entries) {
      pre.append(((e.ts || '').slice(11, 19)) + ' ' + e.level.padEnd(7) + ' ' + e.message + '\n');
      transcriptItem(e);
    }
    if (out.entries.length && atEnd) pre.scrollTop = pre.scrollHeight;
    state.logAfter = out.next_after;
  } catch (e) { /* shown by the next successful poll */ }
  clearTimeout(state.logTimer);
  state.logTimer = setTimeout(pollLog, 1000);
}

function setupTasks() {
  $('task-filters').addEventListener('submit', (ev) => { ev.preventDefault(); loadBoard(); });
  $('answer-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const id = state.taskId;
    act('Answer', () => api('POST', '/api/tasks/' + id + '/answer', { answer: $('answer-text').value }))
      .then((t) => { if (t) $('answer-text').value = ''; loadTask(id); });
  });
  $('task-cancel').addEventListener('click', () => {
    const id = state.taskId;
    act('Cancel', () => api('POST', '/api/tasks/' + id + '/cancel', {})).then(() => loadTask(id));
  });
  $('task-accept').addEventListener('click', () => {
    const id = state.taskId;
    act('Accept', () => api('POST', '/api/tasks/' + id + '/accept')).then(() => loadTask(id));
  });
  $('task-reject').addEventListener('click', () => {
    const id = state.taskId;
    const body = $('rework-text').value ? { reason: $('rework-text').value } : undefined;
    act('Reject', () => api('POST', '/api/tasks/' + id + '/reject', body)).then(() => loadTask(id));
  });
  $('rework-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const id = state.taskId;
    act('Request changes', () => api('POST', '/api/tasks/' + id + '/rework', { instructions: $('rework-text').value }))
      .then((t) => { if (t) $('rework-text').value = ''; loadTask(id); });
  });
  $('task-retry').addEventListener('click', () => {
    const id = state.taskId;
    act('Retry', () => api('POST', '/api/tasks/' + id + '/retry')).then(() => loadTask(id));
  });
  $('new-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { prompt: $('n-prompt').value, priority: Number($('n-priority').value || 0),
      agent_count: Number($('n-agents').value || 1) };
    if ($('n-title').value) body.title = $('n-title').value;
    if ($('n-project').value) body.project = $('n-project').value;
    if ($('n-repo').value) body.repository = $('n-repo').value;
    if ($('n-branch').value) body.branch = $('n-branch').value;
    const t = await act('Queue task', () => api('POST', '/api/tasks', body));
    if (t) location.hash = '#/tasks/' + t.id;
  });
}

/* ------------------------------------------------------------------ live feed */

let feedGen = 0;

function onEvent(ev) {
  if (ev.id) state.cursor = ev.id;
  const d = ev.data || {};
  if (ev.event === 'heartbeat') {
    const a = state.agents.get(d.agent_id) || { id: d.agent_id };
    ingestAgent(Object.assign(a, { status: d.status, pod_name: d.pod_name, heartbeat_age_seconds: 0,
      current_task: d.current_task ? (a.current_task && a.current_task.id === d.current_task ? a.current_task : { id: d.current_task }) : null }));
    if (state.page === 'agents') renderAgents();
  } else if (ev.event === 'scale') {
    state.decisions.unshift(d.target !== undefined ? d : { ts: d.ts, message: d.message, reason: d.metadata && d.metadata.reason });
    state.decisions = state.decisions.slice(0, 20);
    if (state.page === 'pool') renderDecisions();
  } else if (ev.event === 'task') {
    if (state.page === 'tasks') debounce('board', () => { if (state.page === 'tasks') loadBoard(); });
    if (state.page === 'task' && d.task_id === state.taskId) {
      const id = state.taskId;
      /* The user may have moved on by the time the debounce fires. */
      debounce('task', () => { if (state.page === 'task' && state.taskId === id) loadTask(id); });
    }
    if (state.page === 'agents') debounce('agents', () => { if (state.page === 'agents') loadAgents(); });
  } else if (ev.event === 'system' && d.metadata && d.metadata.approval_id) {
    /* An approval was asked for, answered or expired: the task, the board and the list change. */
    if (state.page === 'tasks') debounce('board', () => { if (state.page === 'tasks') loadBoard(); });
    if (state.page === 'task' && d.task_id === state.taskId) {
      const id = state.taskId;
      debounce('task', () => { if (state.page === 'task' && state.taskId === id) loadTask(id); });
    }
  }
}

const timers = {};
function debounce(key, fn) { clearTimeout(timers[key]); timers[key] = setTimeout(fn, 250); }

function setLive(on, how) {
  $('live').textContent = on ? 'live (' + how + ')' : 'offline';
  $('live').classList.toggle('on', on);
}

/* Parse a text/event-stream body read with fetch (EventSource cannot send a bearer token). */
async function readSse(resp, gen) {
  const reader = resp.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  setLive(true, 'stream');
  for (;;) {
    const { value, done } = await reader.read();
    if (done || gen !== feedGen) return;
    buf += dec.decode(value, { stream: true });
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i); buf = buf.slice(i + 2);
      const ev = { event: 'message', data: '' };
      for (const line of block.split('\n')) {
        const c = line.indexOf(':');
        if (c <= 0) continue;
        const k = line.slice(0, c), v = line.slice(c + 1).replace(/^ /, '');
        if (k === 'id') ev.id = v; else if (k === 'event') ev.event = v; else if (k === 'data') ev.data += v;
      }
      try { ev.data = JSON.parse(ev.data); } catch (e) { /* keep text */ }
      onEvent(ev);
    }
  }
}

async function startFeed() {
  const gen = ++feedGen;
  if (!state.cursor) {
    try { state.cursor = (await api('GET', '/api/events?after=now')).next; } catch (e) { setLive(false); return; }
  }
  while (gen === feedGen) {
    try {
      const headers = { Accept: 'text/event-stream', 'Last-Event-ID': state.cursor };
      if (state.token) headers.Authorization = 'Bearer ' + state.token;
      const r = await fetch('/api/events?follow=1', { headers });
      if (r.ok && (r.headers.get('content-type') || '').startsWith('text/event-stream')) {
        await readSse(r, gen);
        continue;
      }
      /* No stream on this server: poll with the same cursor. */
      const out = await api('GET', '/api/events?after=' + encodeURIComponent(state.cursor) + '&limit=500');
      setLive(true, 'polling');
      for (const ev of out.events) onEvent(ev);
      state.cursor = out.next;
      await new Promise((res) => setTimeout(res, out.events.length >= 500 ? 0 : 1500));
    } catch (e) {
      setLive(false);
      if (e.status === 401) return;
      await new Promise((res) => setTimeout(res, 3000));
    }
  }
}

/* ------------------------------------------------------------------ routing */

async function refresh() {
  if (!state.scope) return;
  try {
    if (state.page === 'pool') {
      if (!state.agents.size) await loadAgents();
      await loadPool();
      if (typeof loadHistory === 'function') loadHistory().catch((e) => flash(e.message));
    }
    else if (state.page === 'agents') await loadAgents();
    else if (state.page === 'tasks') await loadBoard();
    else if (state.page === 'task') await loadTask(state.taskId);
    else if (state.page === 'health' && typeof loadHealth === 'function') await loadHealth();
    else if (state.page === 'schedules' && typeof loadSchedules === 'function') await loadSchedules();
    else if (state.page === 'notifications' && typeof loadNotifications === 'function') await loadNotifications();
    else if (state.page === 'agent' && typeof loadAgentPage === 'function') await loadAgentPage(location.hash.slice(9));
  } catch (e) { flash(e.message); }
}

function route() {
  const h = location.hash || '#/pool';
  let m;
  let page = 'pool';
  if ((m = h.match(/^#\/tasks\/(\d+)$/))) { page = 'task'; }
  else if (h === '#/agents') page = 'agents';
  else if (h === '#/tasks') page = 'tasks';
  else if (h === '#/new') page = 'new';
  else if (h === '#/health') page = 'health';
  else if (h === '#/schedules') page = 'schedules';
  else if (h === '#/notifications') page = 'notifications';
  else if (/^#\/agents\/[0-9a-f-]{36}$/.test(h)) page = 'agent';
  const newTask = m ? Number(m[1]) : 0;
  if (page !== state.page || newTask !== state.taskId) {
    state.logAfter = 0;
    $('task-log').textContent = '';
    $('task-transcript').replaceChildren();
  }
  state.page = page;
  state.taskId = newTask;
  for (const s of document.querySelectorAll('.page')) s.hidden = s.id !== 'page-' + page;
  for (const a of document.querySelectorAll('[data-nav]'))
    if (a.getAttribute('data-nav') === (page === 'task' ? 'tasks' : page === 'agent' ? 'agents' : page)) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  if (page === 'tasks' || page === 'new') loadProjects();
  if (page === 'tasks' && state.scope && typeof loadPolicies === 'function') loadPolicies();
  if (page === 'task') pollLog();
  refresh();
}

async function main() {
  setupToken();
  setupPool();
  setupTasks();
  window.addEventListener('hashchange', () => { route(); $('main').focus(); });
  setInterval(tickAges, 1000);
  setInterval(() => { if (state.page === 'pool' && state.scope) loadPool().catch(() => {}); }, SAMPLE_MS);
  setInterval(() => { if (state.page === 'agents' && state.scope) loadAgents().catch(() => {}); }, 15000);
  /* Approvals also end without an event the page sees first (a timeout): re-read the list. */
  setInterval(() => { if (state.page === 'tasks' && state.scope && typeof loadPendingApprovals === 'function') loadPendingApprovals(); }, 5000);
  await whoami();
  route();
  if (state.scope) startFeed(); else openToken();
}

main();
