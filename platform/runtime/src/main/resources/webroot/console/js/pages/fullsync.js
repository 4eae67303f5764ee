// The full synchronization review's lines, as GET /api/v1/full-sync and its progress events give them.
import { get, post } from '../api.js';
import { h, badge, table, time, replace, failure, toast } from '../dom.js';

function side(s) {
  if (!s || !s.status) {
    return '—';
  }
  const parts = [badge(s.status)];
  if (s.estimated) {
    parts.push(' ', h('progress', { max: String(s.estimated), value: String(Math.min(s.done || 0, s.estimated)),
      'aria-label': (s.done || 0) + ' of ' + s.estimated }), ' ', (s.done || 0) + ' / ' + s.estimated);
  } else if (s.done) {
    parts.push(' ' + s.done);
  }
  if (s.ratePerSecond) {
    parts.push(h('span', { class: 'muted', text: ' ' + Math.round(s.ratePerSecond) + '/s' }));
  }
  if (s.etaSeconds) {
    parts.push(h('span', { class: 'muted', text: ' ETA ' + s.etaSeconds + ' s' }));
  }
  if (s.reason) {
    parts.push(h('div', { class: 'muted', text: s.reason }));
  }
  return h('span', null, parts);
}

/** @param review {run, lines} */
export function reviewTable(review) {
  const run = review.run;
  return h('div', null,
    h('p', { id: 'full-sync-run' }, run
      ? ['Run ' + run.id + ': ', badge(run.status), ' started ' + time(run.startedAt),
        run.finishedAt ? ', ended ' + time(run.finishedAt) : '', run.message ? ' — ' + run.message : '']
      : 'No full synchronization has run yet.'),
    table('Full synchronization lines', [
      { title: 'Mapping', cell: (l) => h('a', { href: '#/mappings/' + encodeURIComponent(l.mapping), text: l.mapping }) },
      { title: 'Line', cell: (l) => (l.line ? badge(l.line.status) : '—') },
      { title: 'To CRM', cell: (l) => side(l.toCrm) },
      { title: 'From CRM', cell: (l) => side(l.fromCrm) },
      { title: 'Jobs', cell: (l) => h('a', { href: '#/jobs?mapping=' + encodeURIComponent(l.mapping)
        + '&kind=FULL_SYNC', text: 'jobs' }) },
    ], review.lines || [], 'No enabled mapping.'));
}

/**
 * The full synchronization review (CRM Full Synch. Review): each line's recommendation, rows on both sides and
 * status per direction, live from the server-sent events; Start for the chosen lines, with a warning first when a
 * chosen line is marked "couple first".
 */
export async function fullSyncPage(el) {
  const r = replace;
  const review = await get('/api/v1/full-sync');
  const live = h('div', { id: 'full-sync-review' }, reviewTable(review));
  const picks = new Map();
  const warn = h('div', { id: 'full-sync-warning', role: 'alert' });
  const out = h('div');
  const start = async () => {
    const mappings = [...picks.entries()].filter(([, c]) => c.checked).map(([m]) => m);
    try {
      const run = await post('/api/v1/full-sync/start', mappings.length === review.lines.length ? {} : { mappings });
      r(warn);
      toast('Full synchronization run ' + run.runId + ' started');
      r(out, h('p', null, 'Run ' + run.runId + ' started: ', run.lines.map((l) => l.mapping + ' ' + l.status
        + (l.reason ? ' (' + l.reason + ')' : '')).join('; ')));
    } catch (e) {
      r(out, failure(e));
    }
  };
  const choose = table('Lines to start', [
    { title: 'Start', cell: (l) => {
      const c = h('input', { type: 'checkbox', id: 'pick-' + l.mapping, checked: l.recommendation === 'FULL_SYNC',
        'aria-label': 'Start ' + l.mapping });
      picks.set(l.mapping, c);
      return c;
    } },
    { title: 'Mapping', cell: (l) => l.mapping },
    { title: 'Recommendation', cell: (l) => h('span', null, badge(l.recommendation), l.direction
      ? ' ' + l.direction : '', l.reason ? h('div', { class: 'muted', text: l.reason }) : null) },
    { title: 'ERP rows', cell: (l) => String(l.erpRows === undefined ? '—' : l.erpRows) },
    { title: 'CRM rows', cell: (l) => (l.crmRows === undefined ? '—' : l.crmRows + (l.crmRowsCapped ? '+' : '')) },
    { title: 'Coupled', cell: (l) => String(l.coupled === undefined ? '—' : l.coupled) },
    { title: 'Dependencies', cell: (l) => (l.dependencies || []).join(', ') || '—' },
  ], review.lines, 'No enabled mapping.');
  const startButton = h('button', { type: 'button', class: 'primary', id: 'full-sync-start', text: 'Start',
    onclick: () => {
      const risky = review.lines.filter((l) => picks.get(l.mapping).checked && l.recommendation === 'COUPLE_FIRST');
      if (risky.length === 0) {
        start();
        return;
      }
      r(warn, h('div', { class: 'alert warn' },
        h('p', null, h('strong', { text: 'Couple first: ' }), risky.map((l) => l.mapping + ' — ' + l.reason)
          .join('; ')),
        h('p', { text: 'Both sides hold records and nothing is coupled: a full synchronization now would create '
          + 'duplicates. Couple by match first (the mapping\'s page), or start anyway.' }),
        h('div', { class: 'buttons' },
          h('button', { type: 'button', id: 'full-sync-start-anyway', text: 'Start anyway', onclick: start }),
          h('button', { type: 'button', text: 'Cancel', onclick: () => r(warn) }))));
      warn.querySelector('button').focus();
    } });
  r(el, h('h1', { text: 'Full synchronization' }),
    h('section', { class: 'card', 'aria-labelledby': 'h-review' }, h('h2', { id: 'h-review', text: 'Review' }),
      live),
    h('section', { class: 'card', 'aria-labelledby': 'h-start' }, h('h2', { id: 'h-start', text: 'Start a run' }),
      h('p', { class: 'muted', text: 'The chosen lines run in dependency order, each as FULL_SYNC jobs; the others '
        + 'are skipped with the reason.' }),
      choose, warn, h('div', { class: 'buttons' }, startButton), out));
  const events = new EventSource('/api/v1/full-sync/events');
  events.addEventListener('progress', (ev) => {
    try {
      r(live, reviewTable(JSON.parse(ev.data)));
    } catch (e) {
      // skipped; the next event replaces it
    }
  });
  return () => events.close();
}
