/* Drover dashboard: tiered autonomy (docs/dashboard.md). A task waiting for a person's answer
 * (the task JSON's `approval`), the pending approvals across tasks (GET /api/approvals) and
 * each project's policy in force (GET /api/projects/ID/policy/versions). Uses app.js's api(),
 * el(), act(), flash() and state; loaded after it. Everything from the API goes in as text
 * (el() sets textContent): an action is whatever the coding model asked to run. */
'use strict';

/* "2026-12-04T01:30:00.123+00:00" -> "2026-12-04 01:30:00" */
function approvalTime(ts) { return ts ? String(ts).replace('T', ' ').slice(0, 19) : '–'; }

/* "in 9 min" / "passed" for an expires_at, from this browser's clock. */
function approvalLeft(ts) {
  const ms = Date.parse(ts);
  if (isNaN(ms)) return '';
  const s = (ms - Date.now()) / 1000;
  return s <= 0 ? 'time is up' : 'in ' + ago(s);
}

function expiresText(ts) { return approvalTime(ts) + ' (' + approvalLeft(ts) + ')'; }

/* The expiry countdowns tick with the heartbeat ages (app.js's tickAges runs every second). */
setInterval(() => {
  for (const e of document.querySelectorAll('[data-expires]')) e.textContent = expiresText(e.getAttribute('data-expires'));
}, 1000);

/* Called by loadTask with the task JSON: the panel shows while the task waits on a person. */
function renderTaskApproval(t) {
  const a = t.approval;
  const panel = document.getElementById('task-approval');
  const shown = panel.getAttribute('data-approval-id');
  panel.hidden = !a;
  if (!a) { panel.removeAttribute('data-approval-id'); return; }
  if (shown !== String(a.id)) document.getElementById('task-approval-reason').value = '';
  panel.setAttribute('data-approval-id', String(a.id));
  document.getElementById('task-approval-action').textContent = a.action;
  document.getElementById('task-approval-rule').textContent = a.rule || '–';
  document.getElementById('task-approval-tool').textContent = a.tool_name || '–';
  document.getElementById('task-approval-created').textContent = approvalTime(a.created_at);
  const exp = document.getElementById('task-approval-expires');
  exp.setAttribute('data-expires', a.expires_at || '');
  exp.textContent = expiresText(a.expires_at);
  for (const b of ['task-approval-approve', 'task-approval-deny']) document.getElementById(b).disabled = false;
}

async function decideApproval(approve) {
  const panel = document.getElementById('task-approval');
  const id = panel.getAttribute('data-approval-id');
  const task = state.taskId;
  if (!id) return;
  const reason = document.getElementById('task-approval-reason').value.trim();
  const buttons = ['task-approval-approve', 'task-approval-deny'].map((b) => document.getElementById(b));
  for (const b of buttons) b.disabled = true;
  const out = await act((approve ? 'Approve' : 'Deny') + ' #' + id,
    () => api('POST', '/api/approvals/' + id + (approve ? '/approve' : '/deny'), reason ? { reason } : undefined));
  if (out) document.getElementById('task-approval-reason').value = '';
  for (const b of buttons) b.disabled = false;
  /* Either way (done, or 409: someone else answered, or it expired) show what holds now. */
  if (state.page === 'task' && state.taskId === task) loadTask(task);
}

document.getElementById('task-approval-approve').addEventListener('click', () => decideApproval(true));
document.getElementById('task-approval-deny').addEventListener('click', () => decideApproval(false));

/* The tasks page's list of pending approvals across tasks. */
async function loadPendingApprovals() {
  const ul = document.getElementById('approvals-list');
  let list;
  try { list = (await api('GET', '/api/approvals?state=pending&limit=100')).approvals; }
  catch (e) {
    ul.replaceChildren(el('li', { class: 'empty', text: 'Approvals: ' + e.message }));
    return;
  }
  document.getElementById('approvals-count').textContent = '(' + list.length + ')';
  ul.replaceChildren();
  if (!list.length) { ul.append(el('li', { class: 'empty', text: 'Nothing is waiting for approval.' })); return; }
  for (const a of list)
    ul.append(el('li', { 'data-pending-approval': a.id, 'data-task-id': a.task_id },
      el('a', { href: '#/tasks/' + a.task_id, text: '#' + a.task_id + (a.task_title ? ' ' + a.task_title : '') }), ': ',
      el('code', { text: a.action }), ' ',
      el('span', { class: 'note' }, '(' + (a.rule || 'ask') + '; expires ',
        el('span', { 'data-expires': a.expires_at || '', text: expiresText(a.expires_at) }), ')')));
}

/* Each project's policy in force: the newest version (the versions list, so that a project
 * without a policy is an empty list rather than a 404 in the browser's console). */
function policyCard(p, versions) {
  const v = versions[0];
  const box = el('article', { class: 'policy', id: 'project-policy-' + p.id, 'data-project': p.name,
    'aria-labelledby': 'project-policy-title-' + p.id });
  box.append(el('h4', { id: 'project-policy-title-' + p.id, text: p.name }),
    el('div', { class: 'note mono', text: p.repository || p.repoUrl || '' }));
  if (!v) {
    box.setAttribute('data-policy-version', '0');
    box.append(el('p', {}, el('span', { class: 'pol-state none', text: 'no policy' }),
      ': its agents run without one.'));
    return box;
  }
  const pol = v.policy || {};
  box.setAttribute('data-policy-version', String(v.version));
  box.append(el('p', {}, 'Version ', el('strong', { 'data-policy-field': 'version', text: String(v.version) }),
    versions.length > 1 ? ' of ' + versions.length : '', ' · ',
    el('span', { class: 'pol-state ' + (v.enabled ? 'on' : 'off'), 'data-policy-field': 'enabled',
      text: v.enabled ? 'enforced' : 'off' }),
    el('br'), el('span', { class: 'note', text: 'set by ' + (v.created_by || '?') + ' at ' + approvalTime(v.created_at) })));
  const dl = el('dl', { class: 'facts' });
  const rules = (k) => {
    const list = Array.isArray(pol[k]) ? pol[k] : [];
    if (!list.length) return el('span', { class: 'note', 'data-policy-field': k, text: 'none' });
    return el('ul', { 'data-policy-field': k }, ...list.map((r) => el('li', {}, el('code', { text: r }))));
  };
  const row = (k, v2) => dl.append(el('dt', { text: k }), el('dd', {}, v2));
  row('Deny', rules('deny'));
  row('Ask first', rules('ask'));
  row('Allow', rules('allow'));
  row('Otherwise', el('span', { 'data-policy-field': 'default', text: pol.default || 'ask' }));
  row('Outside the repository', el('span', { 'data-policy-field': 'outside_repo', text: pol.outside_repo || 'deny' }));
  row('Network', el('span', { 'data-policy-field': 'network', text: pol.network || 'ask' }));
  row('Approval timeout', el('span', { 'data-policy-field': 'timeout',
    text: ago(v.approval_timeout_seconds ?? pol.approval_timeout_seconds) }));
  box.append(dl);
  return box;
}

async function loadPolicies() {
  const box = document.getElementById('projects-list');
  let projects;
  try { projects = (await api('GET', '/api/projects')).projects; }
  catch (e) { box.replaceChildren(el('p', { class: 'empty', text: 'Projects: ' + e.message })); return; }
  const cards = await Promise.all(projects.map(async (p) => {
    try { return policyCard(p, (await api('GET', '/api/projects/' + p.id + '/policy/versions')).versions); }
    catch (e) { return el('article', { class: 'policy', id: 'project-policy-' + p.id }, el('h4', { text: p.name }),
      el('p', { class: 'empty', text: 'Policy: ' + e.message })); }
  }));
  box.replaceChildren(...cards);
  if (!cards.length) box.append(el('p', { class: 'empty', text: 'No projects yet.' }));
}
