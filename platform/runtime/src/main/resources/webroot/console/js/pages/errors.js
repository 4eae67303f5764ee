// The error log: open errors per mapping and stage, grouped by cause (mapping, stage and the message with its
// record keys taken out); retry one, a group, or all of a mapping; skip one or a group; open a record on both sides.
import { get, post } from '../api.js';
import { h, replace, badge, table, select, time, toast, action } from '../dom.js';
import { subscribe } from '../events.js';

const STAGES = ['', 'READ', 'TRANSFORM', 'LOOKUP', 'WRITE', 'COMMIT'];

/** The message with the keys, ids and numbers replaced, so the same cause of many records is one group. */
export function pattern(message) {
  return String(message || '')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<id>')
    .replace(/\b\d+\b/g, '<n>')
    .replace(/\b[A-Z]+\d[\w-]*\b/g, '<key>');
}

/** The records page of the error's mapping, each side starting at the record. */
function openRecord(e) {
  const p = new URLSearchParams();
  if (e.erpId) {
    p.set('erp', e.erpId);
  }
  if (e.crmId) {
    p.set('crm', e.crmId);
  }
  return '#/mappings/' + encodeURIComponent(e.mapping) + '/records?' + p;
}

function query(hash) {
  const i = hash.indexOf('?');
  return new URLSearchParams(i < 0 ? '' : hash.slice(i + 1));
}

export default async function errors(el) {
  const q = query(location.hash);
  const { mappings } = await get('/api/v1/mappings');
  const mapping = select('mapping', [['', 'every mapping'], ...mappings.map((m) => m.name)], q.get('mapping') || '');
  const stage = select('stage', STAGES.map((s) => [s, s || 'any stage']), (q.get('stage') || '').toUpperCase());
  const all = h('input', { type: 'checkbox', id: 'filter-all', checked: q.get('all') === 'true' });
  mapping.id = 'filter-mapping';
  stage.id = 'filter-stage';
  const form = h('form', { class: 'filters', role: 'search', id: 'error-filters' },
    h('div', { class: 'field' }, h('label', { for: 'filter-mapping', text: 'Mapping' }), mapping),
    h('div', { class: 'field' }, h('label', { for: 'filter-stage', text: 'Stage' }), stage),
    h('div', { class: 'check' }, all, h('label', { for: 'filter-all', text: 'Resolved ones too' })),
    h('button', { type: 'submit', text: 'Filter' }));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const p = new URLSearchParams();
    if (mapping.value) {
      p.set('mapping', mapping.value);
    }
    if (stage.value) {
      p.set('stage', stage.value);
    }
    if (all.checked) {
      p.set('all', 'true');
    }
    location.hash = '#/errors' + (p.toString() ? '?' + p : '');
  });
  const params = new URLSearchParams({ limit: '500' });
  for (const k of ['mapping', 'stage', 'all']) {
    if (q.get(k)) {
      params.set(k, q.get(k));
    }
  }
  const page = await get('/api/v1/errors?' + params);
  const groups = new Map();
  for (const e of page.errors) {
    const key = e.mapping + '|' + e.kind + '|' + e.stage + '|' + pattern(e.message);
    if (!groups.has(key)) {
      groups.set(key, { mapping: e.mapping, kind: e.kind, stage: e.stage, pattern: pattern(e.message), errors: [] });
    }
    groups.get(key).errors.push(e);
  }
  const retryAll = q.get('mapping') ? '/api/v1/errors/retry-all?mapping=' + encodeURIComponent(q.get('mapping'))
    : '/api/v1/errors/retry-all';
  const retry = async (list) => {
    let n = 0;
    for (const e of list) {
      if (!e.resolvedAt) {
        await post('/api/v1/errors/' + e.id + '/retry');
        n++;
      }
    }
    toast('Retrying ' + n + ' record' + (n === 1 ? '' : 's'));
  };
  const skip = async (list) => {
    let n = 0;
    for (const e of list) {
      if (!e.resolvedAt) {
        await post('/api/v1/errors/' + e.id + '/skip');
        n++;
      }
    }
    toast('Skipped ' + n + ' record' + (n === 1 ? '' : 's') + ': left alone until retried');
  };
  // Live: when the open errors change (the event stream), say so; reloading is the reader's choice.
  const notice = h('div', { id: 'errors-changed', role: 'status' });
  let seen = null;
  const close = subscribe({ errors: (e) => {
    const now = q.get('mapping') ? (e.perMapping[q.get('mapping')] || 0) : e.open;
    if (seen === null) {
      seen = now;
    } else if (now !== seen) {
      replace(notice, h('p', { class: 'alert warn' }, 'The open errors changed: ' + now + ' now. ',
        h('button', { type: 'button', text: 'Reload', onclick: () => window.dispatchEvent(new HashChangeEvent(
          'hashchange')) })));
    }
  } });
  replace(el, h('h1', { text: 'Errors' }), notice,
    h('section', { class: 'card' }, form,
      h('div', { class: 'buttons' }, action(q.get('mapping') ? 'Retry all of ' + q.get('mapping') : 'Retry all',
        async (out) => {
          const r = await post(retryAll);
          replace(out, 'retrying ' + r.retried + ' record' + (r.retried === 1 ? '' : 's'));
        }, { id: 'retry-all' })),
      page.next ? h('p', { class: 'muted', text: 'Showing the newest 500 errors.' }) : null),
    groups.size === 0 ? h('section', { class: 'card' }, h('p', { class: 'muted empty', text: 'No open errors.' }))
      : [...groups.values()].map((g) => h('section', { class: 'card group' },
        h('h2', null, g.mapping, ' ', badge(g.stage), ' ', g.errors.length + ' record'
          + (g.errors.length === 1 ? '' : 's')),
        h('p', { class: 'message', text: g.pattern }),
        h('div', { class: 'buttons' }, action('Retry this group', () => retry(g.errors)),
          action('Skip this group', () => skip(g.errors))),
        table('Errors of ' + g.mapping, [
          { title: 'When', cell: (e) => time(e.occurredAt) },
          { title: 'Record', cell: (e) => [e.erpId ? 'ERP ' + e.erpId : '', e.erpId && e.crmId ? ' · ' : '',
            e.crmId ? 'CRM ' + e.crmId : '', e.erpId || e.crmId ? h('div', null, h('a', { class: 'open-record',
              href: openRecord(e), 'aria-label': 'Open ' + (e.erpId || e.crmId) + ' on both sides',
              text: 'Open on both sides' })) : null] },
          { title: 'Job', cell: (e) => (e.jobId ? h('a', { href: '#/jobs/' + e.jobId, text: '#' + e.jobId }) : '—') },
          { title: 'Message', cell: (e) => h('span', { class: 'message', text: e.message }) },
          { title: '', cell: (e) => (e.resolvedAt ? 'resolved ' + time(e.resolvedAt)
            : h('div', { class: 'buttons' }, action('Retry', () => retry([e]), { 'aria-label': 'Retry error ' + e.id }),
              action('Skip', async (o) => {
                await skip([e]);
                replace(o, badge('SKIPPED'));
              }, { 'aria-label': 'Skip error ' + e.id }))) },
        ], g.errors))));
  return close;
}
