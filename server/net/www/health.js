/* Drover dashboard: the Health page (GET /api/diagnostics), one row per check with its status,
 * the detail and the fix. Uses app.js's api() and el(); loaded after it. Every text goes in
 * with textContent (el's `text`), never as HTML: details quote forge and agent output. */
'use strict';

async function loadHealth() {
  const body = document.getElementById('diag-body');
  const sum = document.getElementById('diag-summary');
  sum.textContent = 'Checking…';
  const r = await api('GET', '/api/diagnostics');
  body.replaceChildren();
  for (const c of r.checks) {
    body.append(el('tr', { 'data-check': c.name },
      el('td', { class: 'mono', text: c.name }),
      el('td', {}, el('span', { class: 'diag ' + c.status, text: c.status })),
      el('td', { text: c.detail }),
      el('td', { text: c.status === 'ok' ? '' : (c.fix || '') })));
  }
  const fails = r.checks.filter((c) => c.status === 'fail').length;
  const warns = r.checks.filter((c) => c.status === 'warn').length;
  sum.textContent = `Overall: ${r.status} (${fails} failing, ${warns} warning) at ${r.generated_at}.`;
  sum.setAttribute('data-status', r.status);
}

document.getElementById('diag-run').addEventListener('click', () => {
  loadHealth().catch((e) => flash(e.message));
});
