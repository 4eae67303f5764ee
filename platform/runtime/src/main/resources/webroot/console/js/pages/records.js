// Records and couplings side by side: a mapping's ERP records and CRM records, each page read live from its system
// with the coupling state of every record (GET /api/v1/mappings/{name}/records); select rows to couple two,
// uncouple, create counterparts or synchronize now. Each button is one admin API call.
import { get, post } from '../api.js';
import { h, replace, badge, toast, failure } from '../dom.js';

const STATES = [['', 'every state'], ['coupled', 'coupled'], ['uncoupled', 'uncoupled'], ['error', 'with an error'],
  ['pending', 'pending']];

function query(hash) {
  const i = hash.indexOf('?');
  return new URLSearchParams(i < 0 ? '' : hash.slice(i + 1));
}

/** One side's panel: its filter, its pages (More), its selection. */
function panel(name, side, from) {
  const label = side === 'erp' ? 'ERP' : 'CRM';
  const opened = from ? (side === 'crm' ? from.toLowerCase() : from) : null;
  const picks = new Map();
  let next = null;
  const state = h('select', { id: 'state-' + side, name: 'state-' + side }, STATES.map(([v, l]) =>
    h('option', { value: v, text: l })));
  const body = h('tbody');
  const head = h('tr');
  const more = h('div', { class: 'buttons' });
  const note = h('p', { class: 'muted', id: 'records-' + side + '-note' });
  const wrap = h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': label + ' records of '
    + name }, h('table', { id: 'records-' + side }, h('caption', { class: 'sr-only', text: label + ' records' }),
    h('thead', null, head), body));
  const load = async (url, reset) => {
    const page = await get(url);
    if (reset) {
      body.replaceChildren();
      picks.clear();
      replace(head, h('th', { scope: 'col', text: '' }), h('th', { scope: 'col', text: page.key }),
        page.fields.map((f) => h('th', { scope: 'col', text: f })), h('th', { scope: 'col', text: 'State' }),
        h('th', { scope: 'col', text: side === 'erp' ? 'CRM record' : 'ERP record' }));
    }
    for (const r of page.records) {
      const box = h('input', { type: 'checkbox', 'aria-label': 'Select ' + label + ' ' + r.key, 'data-key': r.key });
      picks.set(r.key, { box, r });
      const c = r.coupling;
      const other = c ? (side === 'erp' ? c.crmId : c.erpId) : null;
      // The record asked for (an error's "open on both sides") stands out.
      body.appendChild(h('tr', { 'data-state': r.state, class: r.key === opened ? 'opened' : null },
        h('td', { 'data-label': 'Select' }, box),
        h('td', { 'data-label': page.key }, h('code', { class: side === 'crm' ? 'guid' : null, text: r.key })),
        page.fields.map((f) => h('td', { 'data-label': f, text: r.fields[f] === null || r.fields[f] === undefined
          ? '' : String(r.fields[f]) })),
        h('td', { 'data-label': 'State' }, badge(r.state), c && c.skipped ? [' ', badge('SKIPPED')] : null,
          c && c.lastError ? h('div', { class: 'message', text: c.lastError }) : null),
        h('td', { 'data-label': side === 'erp' ? 'CRM record' : 'ERP record' }, other ? h('code', { class: side === 'erp' ? 'guid' : null, text: other })
          : '—')));
    }
    next = page.next || null;
    replace(note, page.records.length || !reset ? '' : 'No ' + label + ' record '
      + (state.value ? 'in this state ' : '') + 'on this page.');
    replace(more, next ? h('button', { type: 'button', text: 'More ' + label + ' records', id: 'more-' + side,
      onclick: () => load(next, false).catch((e) => replace(note, failure(e))) }) : null);
  };
  const first = () => {
    const p = new URLSearchParams({ side, limit: '50' });
    if (state.value) {
      p.set('state', state.value);
    }
    if (from) {
      p.set('from', from);
    }
    return load('/api/v1/mappings/' + encodeURIComponent(name) + '/records?' + p, true);
  };
  state.addEventListener('change', () => {
    from = null;
    first().catch((e) => replace(note, failure(e)));
  });
  const selected = () => [...picks.values()].filter((p) => p.box.checked).map((p) => p.r);
  const section = h('section', { class: 'card', 'aria-labelledby': 'h-' + side },
    h('h2', { id: 'h-' + side, text: label + ' records' }),
    h('div', { class: 'field' }, h('label', { for: 'state-' + side, text: 'Coupling state' }), state),
    note, wrap, more);
  return { section, first, selected, label };
}

export default async function records(el, [name]) {
  const q = query(location.hash);
  const m = await get('/api/v1/mappings/' + encodeURIComponent(name));
  let erpFrom = q.get('erp');
  let crmFrom = q.get('crm');
  if ((erpFrom && !crmFrom) || (crmFrom && !erpFrom)) {
    // One side's key (an error that names one record): its coupling gives the other side's.
    const c = (await get('/api/v1/couplings?limit=1&mapping=' + encodeURIComponent(name)
      + (erpFrom ? '&erpId=' + encodeURIComponent(erpFrom) : '&crmId=' + encodeURIComponent(crmFrom)))).couplings[0];
    if (c) {
      erpFrom = erpFrom || c.erpId;
      crmFrom = crmFrom || c.crmId;
    }
  }
  const erp = panel(name, 'erp', erpFrom);
  const crm = panel(name, 'crm', crmFrom);
  const out = h('div', { class: 'action-result', id: 'records-result', role: 'status' });
  const reload = () => Promise.all([erp.first(), crm.first()]).catch((e) => replace(out, failure(e)));
  const job = (text, r) => replace(out, text + ' ', h('a', { href: '#/jobs/' + r.jobId, text: 'job #' + r.jobId }));
  const run = (label, id, f) => h('button', { type: 'button', id, text: label, onclick: async (ev) => {
    ev.target.disabled = true;
    replace(out);
    try {
      await f();
    } catch (e) {
      replace(out, failure(e));
    } finally {
      ev.target.disabled = false;
    }
  } });
  const base = '/api/v1/mappings/' + encodeURIComponent(name);
  const direction = m.effective.direction;
  const buttons = h('div', { class: 'buttons' },
    run('Couple the two selected', 'records-couple', async () => {
      const e = erp.selected();
      const c = crm.selected();
      if (e.length !== 1 || c.length !== 1) {
        replace(out, 'Select one uncoupled ERP record and one uncoupled CRM record.');
        return;
      }
      const made = await post('/api/v1/couplings', { mapping: name, erpId: e[0].key, crmId: c[0].key });
      toast('Coupled ' + made.erpId + ' with ' + made.crmId);
      replace(out, 'Coupled ERP ' + made.erpId + ' with CRM ' + made.crmId + '.');
      await reload();
    }),
    run('Uncouple selected', 'records-uncouple', async () => {
      const ids = [...new Set([...erp.selected(), ...crm.selected()].filter((r) => r.coupling)
        .map((r) => r.coupling.id))];
      if (!ids.length) {
        replace(out, 'Select coupled records first.');
        return;
      }
      job('Uncoupling ' + ids.length + ' as', await post(base + '/uncouple', { ids }));
    }),
    run('Create counterparts of selected', 'records-create', async () => {
      const e = erp.selected().filter((r) => !r.coupling);
      const c = crm.selected().filter((r) => !r.coupling);
      if (!e.length && !c.length) {
        replace(out, 'Select uncoupled records first.');
        return;
      }
      const parts = [];
      if (e.length) {
        parts.push(h('span', null, 'ERP: ', h('a', { href: '#/jobs/' + (await post(base + '/create-counterparts',
          { side: 'ERP', records: e.map((r) => r.key) })).jobId, text: 'creating in the CRM' }), ' '));
      }
      if (c.length) {
        parts.push(h('span', null, 'CRM: ', h('a', { href: '#/jobs/' + (await post(base + '/create-counterparts',
          { side: 'CRM', records: c.map((r) => r.key) })).jobId, text: 'creating in the ERP' })));
      }
      replace(out, parts);
    }),
    run('Synchronize selected now', 'records-sync', async () => {
      const e = erp.selected().filter((r) => r.coupling);
      const c = crm.selected().filter((r) => r.coupling);
      if (!e.length && !c.length) {
        replace(out, 'Select coupled records first.');
        return;
      }
      const parts = [];
      if (e.length && direction !== 'FROM_CRM') {
        const r = await post(base + '/sync', { direction: 'TO_CRM', records: e.map((x) => x.key) });
        parts.push(h('span', null, 'to the CRM: ', h('a', { href: '#/jobs/' + r.jobId, text: 'job #' + r.jobId }), ' '));
      }
      if (c.length && direction !== 'TO_CRM') {
        const r = await post(base + '/sync', { direction: 'FROM_CRM', records: c.map((x) => x.key) });
        parts.push(h('span', null, 'from the CRM: ', h('a', { href: '#/jobs/' + r.jobId, text: 'job #' + r.jobId })));
      }
      replace(out, parts.length ? parts : 'The mapping synchronizes ' + direction + ': select records of its source '
        + 'side.');
    }),
    run('Reload', 'records-reload', reload));
  replace(el,
    h('p', { class: 'crumbs' }, h('a', { href: '#/mappings', text: 'Mappings' }), ' / ',
      h('a', { href: '#/mappings/' + encodeURIComponent(name), text: name }), ' / records'),
    h('h1', { text: 'Records of ' + name }),
    h('p', { class: 'muted', text: 'ERP ' + m.erpEntitySet + ' and CRM ' + m.crmEntitySet + ', read live within the '
      + 'mapping\'s filters, 50 per page in key order, with each record\'s coupling. Direction: ' + direction + '.' }),
    h('section', { class: 'card', 'aria-label': 'Actions on the selection' }, buttons, out,
      h('p', null, h('a', { href: '#/mappings/' + encodeURIComponent(name) + '/couplings',
        text: 'Couplings and couple by match' }))),
    h('div', { class: 'grid records' }, erp.section, crm.section));
  await reload();
  return null;
}
