// The synchronization log: jobs filtered by mapping, kind and status (in the URL, so a filtered list can be linked
// to), and a job's page with its counts, message, timings and per-record results.
import { get, post } from '../api.js';
import { h, replace, badge, table, facts, select, time, ago, duration, action, toast } from '../dom.js';
import { countsText } from './mappings.js';
import { subscribe } from '../events.js';

const KINDS = ['', 'SYNC', 'FULL_SYNC', 'COUPLE', 'UNCOUPLE', 'MATCH', 'LEDGER'];
const STATUSES = ['', 'queued', 'running', 'succeeded', 'failed', 'cancelled'];

function query(hash) {
  const i = hash.indexOf('?');
  return new URLSearchParams(i < 0 ? '' : hash.slice(i + 1));
}

export async function jobList(el) {
  const q = query(location.hash);
  const { mappings } = await get('/api/v1/mappings');
  const filters = {
    mapping: select('mapping', [['', 'any mapping'], ...mappings.map((m) => m.name)], q.get('mapping') || ''),
    kind: select('kind', KINDS.map((k) => [k, k || 'any kind']), (q.get('kind') || '').toUpperCase()),
    status: select('status', STATUSES.map((s) => [s, s || 'any status']), (q.get('status') || '').toLowerCase()),
  };
  const form = h('form', { class: 'filters', id: 'job-filters', role: 'search' },
    Object.entries(filters).map(([k, s]) => {
      s.id = 'filter-' + k;
      return h('div', { class: 'field' }, h('label', { for: s.id, text: k[0].toUpperCase() + k.slice(1) }), s);
    }),
    h('button', { type: 'submit', text: 'Filter' }));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const p = new URLSearchParams();
    for (const [k, s] of Object.entries(filters)) {
      if (s.value) {
        p.set(k, s.value);
      }
    }
    location.hash = '#/jobs' + (p.toString() ? '?' + p : '');
  });
  const list = h('div', { id: 'job-list' });
  const more = h('div');
  const params = new URLSearchParams();
  for (const k of ['mapping', 'kind', 'status']) {
    if (q.get(k)) {
      params.set(k, q.get(k));
    }
  }
  params.set('limit', '50');
  const rows = [];
  const draw = () => {
    replace(list, table('Jobs', [
      { title: 'Job', cell: (j) => h('a', { href: '#/jobs/' + j.id, text: '#' + j.id }) },
      { title: 'Mapping', cell: (j) => j.mapping || '—' },
      { title: 'Kind', cell: (j) => j.kind + (j.direction ? ' ' + j.direction : '') },
      { title: 'Status', cell: (j) => badge(j.status) },
      { title: 'Created', cell: (j) => time(j.createdAt) },
      { title: 'Duration', cell: (j) => duration(j.durationMs) },
      { title: 'Counts', cell: (j) => countsText(j.counts) },
      { title: 'Message', cell: (j) => h('span', { class: 'message', text: j.message || '' }) },
    ], rows, 'No job matches.'));
  };
  const show = async (path) => {
    const page = await get(path);
    rows.push(...page.jobs);
    draw();
    replace(more, page.next ? h('button', { type: 'button', text: 'Older jobs', onclick: () => show(page.next) })
      : null);
  };
  const live = h('p', { class: 'muted', id: 'jobs-live', text: 'Live: new jobs and changes appear as they happen.' });
  replace(el, h('h1', { text: 'Jobs' }), h('section', { class: 'card' }, form, live, list, more));
  await show('/api/v1/jobs?' + params);
  // Live from the event stream: a job that matches the filter is added at the top, a listed one is updated.
  const matches = (j) => (!q.get('mapping') || j.mapping === q.get('mapping'))
    && (!q.get('kind') || j.kind === q.get('kind').toUpperCase())
    && (!q.get('status') || j.status === q.get('status').toUpperCase());
  return subscribe({
    // The stream follows changes from now on: the first page again, so none between the first read and now is lost.
    ready: async () => {
      const page = await get('/api/v1/jobs?' + params);
      let changed = false;
      for (const j of page.jobs) {
        const i = rows.findIndex((r) => r.id === j.id);
        if (i < 0) {
          rows.push(j);
          changed = true;
        } else if (JSON.stringify(rows[i]) !== JSON.stringify(j)) {
          rows[i] = j;
          changed = true;
        }
      }
      if (changed) {
        rows.sort((x, y) => y.id - x.id);
        draw();
      }
    },
    job: (j) => {
      const i = rows.findIndex((r) => r.id === j.id);
      if (i >= 0) {
        rows[i] = j;
      } else if (matches(j) && (rows.length === 0 || j.id > rows[0].id)) {
        rows.unshift(j);
      } else {
        return;
      }
      draw();
    },
  }, () => replace(live, 'Not live (the node refused the event stream): reload for changes.'));
}

const rank = (r) => (r.result === 'coupled' || r.result === 'created' ? 1 : 0);

const GUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/**
 * A record a match left ambiguous (or contested), resolved by hand: one button per candidate of the other side
 * (the result's candidates; for results recorded before they were kept, the CRM ids its reason names), coupling
 * the two (POST /api/v1/couplings). Works both ways: an ERP record with CRM candidates, a CRM row with ERP ones.
 */
function resolve(job, r) {
  if (job.kind !== 'MATCH' || !(r.result === 'ambiguous' || r.result === 'taken') || (r.erpId && r.crmId)
    || (!r.erpId && !r.crmId)) {
    return null;
  }
  const erpSide = Boolean(r.erpId);
  const own = erpSide ? r.erpId : r.crmId;
  const candidates = r.candidates && r.candidates.length ? r.candidates
    : erpSide ? [...new Set((r.reason || '').match(GUID) || [])] : [];
  if (candidates.length === 0) {
    return null;
  }
  const out = h('div', { class: 'resolve' });
  candidates.forEach((c) => out.appendChild(action('Couple with ' + c, async (o) => {
    const made = await post('/api/v1/couplings', { mapping: job.mapping, erpId: erpSide ? own : c,
      crmId: erpSide ? c : own });
    replace(out, h('span', { class: 'resolved' }, badge('COUPLED'), ' by hand with ' + (erpSide ? made.crmId
      : made.erpId)));
    toast('Coupled ' + made.erpId + ' with ' + made.crmId);
    return o;
  }, { 'aria-label': 'Couple ' + own + ' with ' + c })));
  return out;
}

export async function jobPage(el, [id]) {
  let timer = null;
  const load = async () => {
    const j = await get('/api/v1/jobs/' + id);
    let records = null;
    if (j.kind === 'MATCH' || j.kind === 'COUPLE') {
      records = await get('/api/v1/jobs/' + id + '/records?limit=200');
    }
    replace(el,
      h('p', { class: 'crumbs' }, h('a', { href: '#/jobs', text: 'Jobs' }), ' / #' + j.id),
      h('h1', null, 'Job #' + j.id + ' ', badge(j.status)),
      h('section', { class: 'card' },
        facts([['Kind', j.kind], ['Mapping', j.mapping ? h('a', { href: '#/mappings/' + encodeURIComponent(j.mapping),
          text: j.mapping }) : '—'], ['Direction', j.direction], ['Attempts', j.attempts + ' of ' + j.maxAttempts],
        ['Created', time(j.createdAt)], ['Started', time(j.startedAt)], ['Finished', time(j.finishedAt)],
        ['Duration', duration(j.durationMs)], ['Node', j.leaseOwner], ['Parent', j.parentId
          ? h('a', { href: '#/jobs/' + j.parentId, text: '#' + j.parentId }) : null],
        ['Message', j.message ? h('span', { class: 'message', id: 'job-message', text: j.message }) : null]]),
        j.status === 'QUEUED' ? action('Cancel', async () => {
          await post('/api/v1/jobs/' + id + '/cancel');
          toast('Job #' + id + ' cancelled');
          load();
        }) : null),
      h('section', { class: 'card', 'aria-labelledby': 'h-counts' }, h('h2', { id: 'h-counts', text: 'Counts' }),
        j.counts ? facts(Object.entries(j.counts).map(([k, v]) => [k, String(v)])) : h('p', { class: 'muted',
          text: 'No counts yet.' })),
      j.parameters && Object.keys(j.parameters).length ? h('section', { class: 'card' },
        h('h2', { text: 'Parameters' }), facts(Object.entries(j.parameters).map(([k, v]) => [k,
          typeof v === 'object' ? JSON.stringify(v) : String(v)]))) : null,
      records ? h('section', { class: 'card', 'aria-labelledby': 'h-rec' },
        h('h2', { id: 'h-rec', text: 'Records' }),
        h('p', null, countsText(records.counts)),
        table('Per-record results', [
          { title: 'ERP', cell: (r) => r.erpId || '—' },
          { title: 'CRM', cell: (r) => r.crmId || '—' },
          { title: 'Result', cell: (r) => badge(r.result) },
          { title: 'Reason', cell: (r) => h('span', null, r.reason || '', resolve(j, r)) },
          { title: 'At', cell: (r) => ago(r.at) },
        // The records that need a look first: no match, ambiguous, taken, failed; then the coupled and created.
        ], [...records.records].sort((x, y) => rank(x) - rank(y)), 'No record results.')) : null);
    return j;
  };
  const first = await load();
  if (first.status !== 'QUEUED' && first.status !== 'RUNNING') {
    return null;
  }
  // Followed from the event stream until it ends; every 2 s instead when the node refuses the stream.
  let close = subscribe({
    // Read again once the stream follows the job: it may have ended in between.
    ready: () => load().catch(() => {}),
    job: (j) => {
      if (j.id === Number(id)) {
        load().catch(() => {});
      }
    },
  }, () => {
    const poll = () => {
      timer = setTimeout(() => load().then((j) => {
        if (j.status === 'QUEUED' || j.status === 'RUNNING') {
          poll();
        }
      }).catch(() => {}), 2000);
    };
    poll();
  });
  return () => {
    clearTimeout(timer);
    close();
    close = () => {};
  };
}
