/* Drover dashboard: the Notifications page — who hears of a task that needs them
 * (GET/POST/DELETE /api/notifications/endpoints) and what was sent to them
 * (GET /api/notifications/deliveries). Uses app.js's api(), el(), act(), flash() and state;
 * loaded after it. Everything from the API goes in as text (el() sets textContent). */
'use strict';

const NOTIFY_EVENTS = ['needs_input', 'ready_to_test', 'failed', 'completed', 'budget', 'cancelled', 'approval'];

/* "2026-12-04T01:30:00.123+00:00" -> "2026-12-04 01:30:00" */
function notifyTime(ts) { return ts ? String(ts).replace('T', ' ').slice(0, 19) : '—'; }

async function loadNotifyEndpoints() {
  const [out, projects] = await Promise.all([api('GET', '/api/notifications/endpoints'),
    api('GET', '/api/projects').catch(() => ({ projects: [] }))]);
  const names = new Map(projects.projects.map((p) => [p.id, p.name]));
  const sel = document.getElementById('notify-project');
  const keep = sel.value;
  sel.replaceChildren(el('option', { value: '' }, 'All projects'));
  for (const p of projects.projects) sel.append(el('option', { value: p.name }, p.name));
  sel.value = keep;
  if (sel.value !== keep) sel.value = '';
  const tb = document.getElementById('notify-endpoints-body');
  tb.replaceChildren();
  if (!out.endpoints.length)
    tb.append(el('tr', {}, el('td', { colspan: 6, class: 'empty', text: 'No notification endpoints yet.' })));
  for (const e of out.endpoints) {
    const del = el('button', { type: 'button', 'data-endpoint-delete': e.id }, 'Delete');
    del.addEventListener('click', () =>
      act('Delete notification endpoint ' + e.name,
        () => api('DELETE', '/api/notifications/endpoints/' + e.id)).then(loadNotifications));
    const project = e.project_id == null ? 'all projects' : (names.get(e.project_id) || String(e.project_id));
    tb.append(el('tr', { 'data-endpoint': e.name, 'data-endpoint-id': e.id },
      el('td', { class: 'mono', text: e.name }),
      el('td', { text: e.format }),
      el('td', { 'data-endpoint-field': 'events', text: (e.events || []).join(', ') }),
      el('td', { text: project }),
      el('td', { class: 'mono url', text: e.url }),
      el('td', { class: 'admin-only' }, del)));
  }
}

function deliveryAnswer(d) {
  const parts = [];
  if (d.last_status) parts.push('HTTP ' + d.last_status);
  if (d.last_error) parts.push(d.last_error);
  return parts.length ? parts.join(' — ') : '—';
}

async function loadNotifyDeliveries() {
  const tb = document.getElementById('notify-deliveries-body');
  let list;
  try { list = (await api('GET', '/api/notifications/deliveries?limit=50')).deliveries; }
  catch (e) {
    tb.replaceChildren(el('tr', {}, el('td', { colspan: 6, class: 'empty', text: 'Deliveries: ' + e.message })));
    return;
  }
  tb.replaceChildren();
  if (!list.length)
    tb.append(el('tr', {}, el('td', { colspan: 6, class: 'empty', text: 'Nothing sent yet.' })));
  for (const d of list) {
    const when = d.state === 'delivered' ? 'delivered ' + notifyTime(d.delivered_at)
      : d.state === 'pending' ? 'next try ' + notifyTime(d.next_attempt_at) : 'gave up';
    tb.append(el('tr', { 'data-delivery': d.id },
      el('td', { class: 'mono', text: d.endpoint }),
      el('td', { text: d.event }),
      el('td', {}, d.task_id ? taskLink(d.task_id) : '—'),
      el('td', {}, el('span', { class: 'dlv ' + d.state, text: d.state }),
        ' · ' + d.attempts + (d.attempts === 1 ? ' attempt' : ' attempts')),
      el('td', { class: 'answer', text: deliveryAnswer(d) }),
      el('td', { class: 'note', text: notifyTime(d.created_at) + ', ' + when })));
  }
}

async function loadNotifications() {
  await Promise.all([loadNotifyEndpoints(), loadNotifyDeliveries()]);
}

(function setupNotifications() {
  const box = document.getElementById('notify-events');
  for (const ev of NOTIFY_EVENTS) {
    const cb = el('input', { type: 'checkbox', name: 'notify-event', value: ev, id: 'notify-event-' + ev,
      checked: ev !== 'cancelled' });
    box.append(el('label', { for: 'notify-event-' + ev, class: 'check' }, cb, ' ' + ev));
  }
  document.getElementById('notify-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const events = [...document.querySelectorAll('input[name=notify-event]:checked')].map((c) => c.value);
    if (!events.length) { flash('Add notification endpoint failed: choose at least one event'); return; }
    const body = {
      name: document.getElementById('notify-name').value.trim(),
      url: document.getElementById('notify-url').value.trim(),
      format: document.getElementById('notify-format').value,
      events,
    };
    const project = document.getElementById('notify-project').value;
    if (project) body.project = project;
    const made = await act('Add notification endpoint ' + body.name,
      () => api('POST', '/api/notifications/endpoints', body));
    if (made) { ev.target.reset(); await loadNotifications(); }
  });
  document.getElementById('notify-refresh').addEventListener('click', () =>
    loadNotifyDeliveries().catch((e) => flash(e.message)));
  /* Deliveries move on their own (retries, answers): re-read them while the page is open. */
  setInterval(() => { if (state.page === 'notifications' && state.scope) loadNotifyDeliveries().catch(() => {}); }, 10000);
})();
