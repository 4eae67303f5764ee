// The full synchronization review's lines, as GET /api/v1/full-sync and its progress events give them.
import { h, badge, table, time } from '../dom.js';

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
