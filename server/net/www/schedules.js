/* Drover dashboard: the Schedules page (GET/POST/DELETE /api/schedules). Uses app.js's api(),
 * el(), act() and state; loaded after it. Text goes in with textContent only. */
'use strict';

async function loadSchedules() {
  const [out, projects] = await Promise.all([api('GET', '/api/schedules'),
    api('GET', '/api/projects').catch(() => ({ projects: [] }))]);
  const names = new Map(projects.projects.map((p) => [p.id, p.name]));
  const sel = document.getElementById('s-project');
  const keep = sel.value;
  sel.replaceChildren();
  for (const p of projects.projects) sel.append(el('option', { value: p.name }, p.name));
  if (keep) sel.value = keep;
  const tb = document.getElementById('schedules-body');
  tb.replaceChildren();
  if (!out.schedules.length)
    tb.append(el('tr', {}, el('td', { colspan: 7, class: 'empty', text: 'No schedules yet.' })));
  for (const s of out.schedules) {
    const del = el('button', { type: 'button', 'data-delete-schedule': s.id }, 'Delete');
    del.addEventListener('click', () =>
      act('Delete schedule ' + s.name, () => api('DELETE', '/api/schedules/' + s.id)).then(loadSchedules));
    tb.append(el('tr', { 'data-schedule': s.name },
      el('td', { class: 'mono', text: s.name }),
      el('td', { text: names.get(s.project_id) || String(s.project_id) }),
      el('td', { class: 'mono', text: s.cron }),
      el('td', { text: s.enabled ? 'yes' : 'no' }),
      el('td', { text: s.next_run_at || '—' }),
      el('td', { text: s.last_slot || '—' }),
      el('td', { class: 'admin-only' }, del)));
  }
}

document.getElementById('schedule-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const body = {
    name: document.getElementById('s-name').value.trim(),
    project: document.getElementById('s-project').value,
    cron: document.getElementById('s-cron').value.trim(),
    prompt: document.getElementById('s-prompt').value,
  };
  const made = await act('Add schedule ' + body.name, () => api('POST', '/api/schedules', body));
  if (made) { ev.target.reset(); await loadSchedules(); }
});
