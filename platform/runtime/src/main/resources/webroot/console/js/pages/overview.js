// Overview: the connection, the nodes, each mapping's health, throughput, the full synchronization (live from the
// server-sent events) and the newest errors.
import { get, ApiError } from '../api.js';
import { h, replace, badge, table, facts, time, ago, failure } from '../dom.js';
import { reviewTable } from './fullsync.js';
import { subscribe } from '../events.js';

async function optional(path) {
  try {
    return await get(path);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      throw e;
    }
    return { failed: e };
  }
}

function connectionCard(c) {
  if (c.failed) {
    return failure(c.failed);
  }
  const state = !c.enabled ? 'DISABLED' : c.connected ? 'CONNECTED' : 'NOT CONNECTED';
  return h('div', null,
    h('p', { class: 'state', id: 'connection-state' }, badge(state),
      c.disabledReason ? ' ' + c.disabledReason : ''),
    facts([
      ['ERP', c.erp ? [c.erp.url || c.erp.tenant || '—', c.erp.company ? ' · ' + c.erp.company : ''] : 'not set'],
      ['CRM', c.crm ? c.crm.url : 'not set'],
      ['Revision', c.revision],
    ]),
    !c.connected ? h('p', null, h('a', { href: '#/setup', text: 'Run the setup guide' }), ' to connect.') : null);
}

/** Records written (inserted, modified, deleted) per minute by the jobs that ended in the last hour, drawn with Chart.js. */
function throughput(jobs, charts) {
  const now = Date.now();
  const buckets = new Array(60).fill(0);
  for (const j of jobs) {
    if (!j.finishedAt || !j.counts) {
      continue;
    }
    const age = Math.floor((now - new Date(j.finishedAt).getTime()) / 60000);
    if (age >= 0 && age < 60) {
      const c = j.counts;
      buckets[59 - age] += (c.inserted || 0) + (c.modified || 0) + (c.deleted || 0);
    }
  }
  const total = buckets.reduce((a, b) => a + b, 0);
  const canvas = h('canvas', { id: 'throughput-chart', role: 'img',
    'aria-label': 'Records written per minute in the last hour: ' + total + ' in all' });
  const wrap = h('div', null, h('div', { class: 'chart' }, canvas),
    h('p', { class: 'muted', text: total + ' records written in the last hour (inserted, modified or deleted on '
      + 'either side).' }));
  if (window.Chart) {
    charts.push(new window.Chart(canvas, {
      type: 'bar',
      data: {
        labels: buckets.map((_, i) => (i === 59 ? 'now' : '-' + (59 - i) + ' min')),
        datasets: [{ label: 'records per minute', data: buckets, backgroundColor: '#2f6fab' }],
      },
      options: { animation: false, maintainAspectRatio: false, plugins: { legend: { display: false } },
        scales: { x: { ticks: { maxTicksLimit: 6 } }, y: { beginAtZero: true, ticks: { precision: 0 } } } },
    }));
  }
  return wrap;
}

function health(mappings, schedules, lastJobs, running) {
  const now = Date.now();
  return table('Mappings health', [
    { title: 'Mapping', cell: (m) => h('a', { href: '#/mappings/' + encodeURIComponent(m.name), text: m.name }) },
    { title: 'Direction', cell: (m) => (m.effective ? m.effective.direction : m.direction) },
    { title: 'State', cell: (m) => badge(m.state) },
    { title: 'Schedule', cell: (m) => {
      const s = schedules.find((x) => x.mapping === m.name);
      if (!s) {
        return '—';
      }
      const late = s.state === 'ACTIVE' && s.nextRunAt && now - new Date(s.nextRunAt).getTime() > 5000;
      return h('span', null, badge(s.state), late ? ' ' + ago(s.nextRunAt) + ' behind' : '',
        s.pausedReason ? h('span', { class: 'muted', text: ' ' + s.pausedReason }) : null);
    } },
    { title: 'Last run', cell: (m) => {
      const j = lastJobs[m.name];
      const now = running[m.name] ? h('a', { href: '#/jobs?mapping=' + encodeURIComponent(m.name) + '&status=running',
        class: 'running', text: ' ' + running[m.name] + ' running' }) : null;
      return h('span', null, j ? h('a', { href: '#/jobs/' + j.id }, badge(j.status), ' ', ago(j.finishedAt)) : '—', now);
    } },
    { title: 'Failed', cell: (m) => String((lastJobs[m.name] && lastJobs[m.name].counts
      && lastJobs[m.name].counts.failed) || 0) },
    { title: 'Skipped', cell: (m) => String((lastJobs[m.name] && lastJobs[m.name].counts
      && lastJobs[m.name].counts.skipped) || 0) },
    // 429s the ERP or the CRM answered during the last run (each waited for and sent again): the job counts them,
    // so the figure is the same whichever node ran it.
    { title: 'Throttled', cell: (m) => {
      const n = (lastJobs[m.name] && lastJobs[m.name].counts && lastJobs[m.name].counts.throttled) || 0;
      return n > 0 ? h('span', { class: 'badge warn', text: String(n) }) : '0';
    } },
  ], mappings, 'No mapping is installed: put plugin jars into the plugins directory.');
}

/** The summary: connection, nodes, mappings' health, throughput, newest errors; re-read every few seconds. */
async function summary(box, charts) {
  const [conn, nodes, mappings, schedules, jobs, errs] = await Promise.all([
    optional('/api/v1/connection'), optional('/api/v1/nodes'), get('/api/v1/mappings'),
    get('/api/v1/schedules'), get('/api/v1/jobs?limit=200'), get('/api/v1/errors?limit=5')]);
  const lastJobs = {};
  const running = {};
  for (const j of jobs.jobs) {
    if (j.mapping && !lastJobs[j.mapping] && j.finishedAt) {
      lastJobs[j.mapping] = j;
    }
    if (j.mapping && j.status === 'RUNNING') {
      running[j.mapping] = (running[j.mapping] || 0) + 1;
    }
  }
  charts.forEach((c) => c.destroy());
  charts.length = 0;
  replace(box,
    h('div', { class: 'grid' },
      h('section', { class: 'card', 'aria-labelledby': 'h-conn' }, h('h2', { id: 'h-conn', text: 'Connection' }),
        connectionCard(conn)),
      h('section', { class: 'card', 'aria-labelledby': 'h-nodes' }, h('h2', { id: 'h-nodes', text: 'Nodes' }),
        nodes.failed ? failure(nodes.failed) : table('Nodes', [
          { title: 'Node', cell: (n) => n.id },
          { title: 'State', cell: (n) => badge(n.state) },
          { title: 'Jobs', cell: (n) => String(n.jobsRunning) },
          { title: 'Last seen', cell: (n) => ago(n.lastSeen) },
        ], nodes.nodes))),
    h('section', { class: 'card', 'aria-labelledby': 'h-health' }, h('h2', { id: 'h-health', text: 'Mappings' }),
      health(mappings.mappings, schedules.schedules, lastJobs, running)),
    h('div', { class: 'grid' },
      h('section', { class: 'card', 'aria-labelledby': 'h-tp' }, h('h2', { id: 'h-tp', text: 'Throughput' }),
        throughput(jobs.jobs, charts)),
      h('section', { class: 'card', 'aria-labelledby': 'h-err' }, h('h2', { id: 'h-err', text: 'Newest errors' }),
        table('Newest errors', [
          { title: 'When', cell: (e) => time(e.occurredAt) },
          { title: 'Mapping', cell: (e) => e.mapping },
          { title: 'Message', cell: (e) => h('span', null, h('span', { class: 'badge neutral', text: e.stage }),
            ' ', e.message) },
        ], errs.errors, 'No open errors.'),
        h('p', null, h('a', { href: '#/errors', text: 'All errors' })))));
  return conn;
}

export default async function overview(el) {
  const box = h('div', { id: 'overview-summary' }, h('p', { class: 'muted', text: 'Loading…' }));
  const reviewBox = h('div', { id: 'full-sync-review' });
  replace(el, h('h1', { text: 'Overview' }), box,
    h('section', { class: 'card', 'aria-labelledby': 'h-fs' }, h('h2', { id: 'h-fs', text: 'Full synchronization' }),
      reviewBox, h('p', null, h('a', { href: '#/full-sync', text: 'Review and start' }))));
  const charts = [];
  const conn = await summary(box, charts);
  let stopped = false;
  let timer = null;
  // Read again when a job ends or the open errors change (the event stream), and every 15 s for the rest
  // (heartbeats, schedules' lag).
  const again = (ms) => {
    clearTimeout(timer);
    timer = setTimeout(() => (box.contains(document.activeElement)
      // Not under the reader's focus: it would be lost; a little later.
      ? Promise.resolve(again(2000))
      : summary(box, charts)).catch(() => {}).finally(() => {
      if (!stopped) {
        again(15000);
      }
    }), ms);
  };
  again(15000);
  const closeEvents = subscribe({
    ready: () => again(300),
    job: (j) => {
      if (j.status !== 'QUEUED') {
        again(300);
      }
    },
    errors: () => again(300),
  });
  const stop = () => {
    stopped = true;
    clearTimeout(timer);
    closeEvents();
    charts.forEach((c) => c.destroy());
  };
  // The review needs both endpoints: without a complete connection there is none to ask for.
  if (!conn.connected) {
    replace(reviewBox, h('p', { class: 'muted', text: 'The full synchronization needs a complete connection: run '
      + 'the setup guide.' }));
    return stop;
  }
  const review = await optional('/api/v1/full-sync?counts=false');
  if (review.failed) {
    replace(reviewBox, h('p', { class: 'muted', text: review.failed.message }));
    return stop;
  }
  replace(reviewBox, reviewTable(review));
  // Live: the review as the server sends it (the jobs of every node, read from PostgreSQL each second).
  const events = new EventSource('/api/v1/full-sync/events');
  events.addEventListener('progress', (ev) => {
    try {
      replace(reviewBox, reviewTable(JSON.parse(ev.data)));
    } catch (e) {
      // a malformed event is skipped; the next one replaces it
    }
  });
  return () => {
    events.close();
    stop();
  };
}
