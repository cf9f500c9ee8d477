/* Drover dashboard: the pool page's history (GET /api/history): backlog, pool size against
 * target, tasks finished and failed, and each agent's heartbeat timeline with its gaps, from
 * the samples droverd keeps, so the charts do not start empty at every visit. Uses app.js's
 * api(); loaded after it. Every label is set with textContent. */
'use strict';

const HIST_NS = 'http://www.w3.org/2000/svg';
function histMk(tag, attrs, text) {
  const e = document.createElementNS(HIST_NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

/* Lines over time: series [{key, colour, label, dash?}] of samples [{t, ...}] in [t0, t1]. */
function histChart(svg, samples, series, t0, t1) {
  const W = 600, H = 160, P = 28;
  svg.replaceChildren();
  let maxY = 1;
  for (const s of series) for (const p of samples) maxY = Math.max(maxY, p[s.key] || 0);
  svg.append(histMk('line', { x1: P, y1: H - P, x2: W - 4, y2: H - P, stroke: '#8a94a3' }));
  svg.append(histMk('line', { x1: P, y1: 6, x2: P, y2: H - P, stroke: '#8a94a3' }));
  svg.append(histMk('text', { x: 4, y: 14, 'font-size': 11, fill: '#5b6470' }, String(maxY)));
  svg.append(histMk('text', { x: 4, y: H - P, 'font-size': 11, fill: '#5b6470' }, '0'));
  svg.append(histMk('text', { x: P, y: H - 8, 'font-size': 11, fill: '#5b6470' },
    samples.length ? new Date(t0).toISOString().slice(5, 16).replace('T', ' ') + ' – now (UTC)' : 'no samples yet'));
  const x = (t) => P + ((t - t0) * (W - P - 8)) / Math.max(1, t1 - t0);
  const y = (v) => H - P - ((v || 0) * (H - P - 10)) / maxY;
  for (const s of series) {
    if (!samples.length) break;
    const d = samples.map((p, i) => (i ? 'L' : 'M') + x(p.t).toFixed(1) + ' ' + y(p[s.key]).toFixed(1)).join(' ');
    const attrs = { d, fill: 'none', stroke: s.colour, 'stroke-width': 2, 'data-series': s.key };
    if (s.dash) attrs['stroke-dasharray'] = '6 4';
    svg.append(histMk('path', attrs));
    const last = samples[samples.length - 1][s.key];
    svg.append(histMk('text', { x: W - 130, y: y(last) - 4, 'font-size': 11, fill: s.colour }, s.label + ' ' + (last ?? '–')));
  }
}

/* One row per agent: a bar over the window, red where the agent was silent. */
function histAgents(svg, agents, gaps, t0, t1) {
  const W = 600, P = 120, ROW = 14;
  const shown = agents.slice(0, 10);
  svg.replaceChildren();
  svg.setAttribute('viewBox', `0 0 ${W} ${Math.max(40, 10 + shown.length * (ROW + 4))}`);
  if (!shown.length) {
    svg.append(histMk('text', { x: 8, y: 20, 'font-size': 12, fill: '#5b6470' }, 'no agents in this window'));
    return;
  }
  const x = (t) => P + ((Math.min(Math.max(t, t0), t1) - t0) * (W - P - 8)) / Math.max(1, t1 - t0);
  shown.forEach((a, i) => {
    const top = 6 + i * (ROW + 4);
    const from = Math.max(t0, Date.parse(a.created_at) || t0);
    const to = a.status === 'offline' && a.last_heartbeat_at ? Date.parse(a.last_heartbeat_at) : t1;
    svg.append(histMk('text', { x: 4, y: top + 11, 'font-size': 11, fill: '#1b2430' }, (a.name || a.id.slice(0, 8)).slice(0, 18)));
    const row = histMk('g', { 'data-agent-row': a.id });
    row.append(histMk('rect', { x: x(from), y: top, width: Math.max(1, x(to) - x(from)), height: ROW, fill: '#e3f4e7', stroke: '#1e7b34' }));
    for (const g of gaps.filter((g) => g.agent_id === a.id)) {
      const s = Date.parse(g.start), e = Date.parse(g.end);
      row.append(histMk('rect', { x: x(s), y: top, width: Math.max(2, x(e) - x(s)), height: ROW, fill: '#b3261e', 'data-gap': '1' },
      ));
      row.lastChild.append(histMk('title', {}, `silent ${Math.round((e - s) / 1000)} s from ${g.start}`));
    }
    svg.append(row);
  });
}

async function loadHistory() {
  const hours = Number(document.getElementById('hist-hours').value) || 24;
  const h = await api('GET', '/api/history?hours=' + hours);
  const t1 = Date.now(), t0 = t1 - hours * 3600 * 1000;
  const samples = h.samples.map((s) => Object.assign({ t: Date.parse(s.ts) }, s));
  histChart(document.getElementById('hist-backlog'), samples,
    [{ key: 'backlog', colour: '#1f5fbf', label: 'runnable' }, { key: 'delayed', colour: '#5b6470', label: 'delayed', dash: true }], t0, t1);
  histChart(document.getElementById('hist-pool'), samples,
    [{ key: 'live_agents', colour: '#1e7b34', label: 'agents' }, { key: 'target', colour: '#8a5a00', label: 'target', dash: true }], t0, t1);
  histChart(document.getElementById('hist-done'), samples,
    [{ key: 'finished', colour: '#1e7b34', label: 'finished' }, { key: 'failed', colour: '#b3261e', label: 'failed' }], t0, t1);
  histAgents(document.getElementById('hist-agents'), h.agents, h.gaps, t0, t1);
  document.getElementById('hist-note').textContent =
    `${h.samples.length} sample(s) over ${hours} h (buckets of ${Math.round(h.step_seconds / 60)} min), ` +
    `${h.gaps.length} heartbeat gap(s). From the samples droverd keeps (one a minute, --history-days).`;
}

document.getElementById('hist-hours').addEventListener('change', () => { loadHistory().catch((e) => flash(e.message)); });
