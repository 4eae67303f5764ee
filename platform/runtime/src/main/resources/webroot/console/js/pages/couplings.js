// A mapping's couplings: the coupled pairs with their last results and errors; uncouple or synchronize a
// selection, couple two records by hand, and couple by match with its options (its results on the job's page).
import { get, post } from '../api.js';
import { h, replace, badge, table, field, fieldErrors, ago, action, toast } from '../dom.js';

export default async function couplings(el, [name]) {
  const m = await get('/api/v1/mappings/' + encodeURIComponent(name));
  let after = null;
  const rows = [];
  const picks = new Map();
  const list = h('div', { id: 'coupling-list' });
  const more = h('div');
  const out = h('div', { class: 'action-result' });
  const show = async () => {
    const page = await get('/api/v1/couplings?limit=200&mapping=' + encodeURIComponent(name)
      + (after ? '&after=' + after : ''));
    rows.push(...page.couplings);
    after = page.couplings.length ? page.couplings[page.couplings.length - 1].id : after;
    replace(list, table('Couplings of ' + name, [
      { title: '', cell: (c) => {
        const box = h('input', { type: 'checkbox', 'aria-label': 'Select ' + (c.erpId || c.crmId) });
        picks.set(c.id, { box, c });
        return box;
      } },
      { title: 'ERP', cell: (c) => c.erpId || '—' },
      { title: 'CRM', cell: (c) => h('code', { text: c.crmId || '—' }) },
      { title: 'State', cell: (c) => h('span', null, badge(c.state), c.skipped ? ' ' : '', c.skipped
        ? badge('SKIPPED') : null) },
      { title: 'Last results', cell: (c) => 'to CRM ' + (c.lastResultToCrm || '—') + ', from CRM '
        + (c.lastResultFromCrm || '—') },
      { title: 'Last job', cell: (c) => (c.lastJobId ? h('a', { href: '#/jobs/' + c.lastJobId, text: '#' + c.lastJobId })
        : '—') },
      { title: 'Error', cell: (c) => h('span', { class: 'message', text: c.lastError || '' }) },
    ], rows, 'Nothing is coupled in ' + name + ' yet.'));
    replace(more, page.next ? h('button', { type: 'button', text: 'More', onclick: show }) : null);
  };
  const selected = () => [...picks.values()].filter((p) => p.box.checked).map((p) => p.c);
  const directions = m.effective.direction === 'BIDIRECTIONAL' ? ['TO_CRM', 'FROM_CRM'] : [m.effective.direction];

  const fe = {
    erpId: field('ERP key', h('input', { type: 'text', name: 'erpId', spellcheck: 'false' })),
    crmId: field('CRM id', h('input', { type: 'text', name: 'crmId', spellcheck: 'false' })),
  };
  const coupleError = h('div', { class: 'form-error' });
  const coupleForm = h('form', { class: 'inline-fields', id: 'couple-form' }, fe.erpId, fe.crmId, coupleError,
    h('button', { type: 'submit', text: 'Couple' }));
  coupleForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const c = await post('/api/v1/couplings', { mapping: name, erpId: fe.erpId.input.value.trim(),
        crmId: fe.crmId.input.value.trim() });
      toast('Coupled ' + c.erpId + ' with ' + c.crmId);
      fieldErrors(fe, coupleError, new Error(''));
      replace(coupleError);
      rows.length = 0;
      after = null;
      await show();
    } catch (e) {
      fieldErrors(fe, coupleError, e);
    }
  });

  const opt = (id, label) => h('div', { class: 'check' }, h('input', { type: 'checkbox', id }),
    h('label', { for: id, text: label }));
  const matchForm = h('form', { class: 'stack', id: 'match-form' },
    h('div', { class: 'field' }, h('label', { for: 'match-side', text: 'Match' }),
      h('select', { id: 'match-side', name: 'side' }, h('option', { value: 'ERP', text: 'ERP records against '
        + 'uncoupled CRM rows' }), h('option', { value: 'CRM', text: 'CRM rows against uncoupled ERP records' }))),
    h('div', { class: 'field' }, h('label', { for: 'match-case', text: 'Fields compared case-sensitively' }),
      h('input', { type: 'text', id: 'match-case', name: 'caseSensitive', spellcheck: 'false' }),
      h('p', { class: 'hint', text: 'Match field names, ERP or CRM, separated by commas; text is compared '
        + 'case-insensitively otherwise.' })),
    opt('match-create', 'Create the counterpart of a record without any match'),
    opt('match-sync', 'Synchronize the newly coupled records right away'),
    opt('match-missing', 'Couple although references are not coupled (allowMissingReferences)'),
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary', text: 'Couple by match' })),
    h('div', { class: 'action-result', id: 'match-result' }));
  matchForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const res = matchForm.querySelector('#match-result');
    try {
      const exact = matchForm.querySelector('#match-case').value.split(',').map((x) => x.trim()).filter((x) => x);
      const r = await post('/api/v1/mappings/' + encodeURIComponent(name) + '/couple-by-match', {
        side: matchForm.querySelector('#match-side').value,
        ...(exact.length ? { caseSensitive: exact } : {}),
        createIfNoMatch: matchForm.querySelector('#match-create').checked,
        syncAfter: matchForm.querySelector('#match-sync').checked,
        allowMissingReferences: matchForm.querySelector('#match-missing').checked,
      });
      replace(res, 'Matching as ', h('a', { href: '#/jobs/' + r.jobId, text: 'job #' + r.jobId }),
        ': its page lists each record (coupled, no match, ambiguous with the candidates).');
    } catch (e) {
      replace(res, h('div', { class: 'alert bad', role: 'alert', text: e.message }));
    }
  });

  replace(el,
    h('p', { class: 'crumbs' }, h('a', { href: '#/mappings', text: 'Mappings' }), ' / ',
      h('a', { href: '#/mappings/' + encodeURIComponent(name), text: name }), ' / couplings'),
    h('h1', { text: 'Couplings of ' + name }),
    h('p', null, h('a', { href: '#/mappings/' + encodeURIComponent(name) + '/records',
      text: 'The ERP and CRM records side by side' })),
    h('section', { class: 'card', 'aria-labelledby': 'h-pairs' }, h('h2', { id: 'h-pairs', text: 'Coupled records' }),
      h('div', { class: 'buttons' },
        directions.map((d) => action('Synchronize selected ' + d.replace('_', ' ').toLowerCase(), async (o) => {
          const sel = selected();
          if (!sel.length) {
            replace(o, 'Select records first.');
            return;
          }
          const r = await post('/api/v1/mappings/' + encodeURIComponent(name) + '/sync', { direction: d,
            records: sel.map((c) => (d === 'TO_CRM' ? c.erpId : c.crmId)) });
          replace(o, 'queued ', h('a', { href: '#/jobs/' + r.jobId, text: 'job #' + r.jobId }));
        })),
        action('Uncouple selected', async (o) => {
          const sel = selected();
          if (!sel.length) {
            replace(o, 'Select records first.');
            return;
          }
          const r = await post('/api/v1/mappings/' + encodeURIComponent(name) + '/uncouple',
            { ids: sel.map((c) => c.id) });
          replace(o, 'uncoupling as ', h('a', { href: '#/jobs/' + r.jobId, text: 'job #' + r.jobId }));
        })),
      out, list, more),
    h('section', { class: 'card', 'aria-labelledby': 'h-couple' }, h('h2', { id: 'h-couple', text: 'Couple by hand' }),
      coupleForm),
    h('section', { class: 'card', 'aria-labelledby': 'h-match' }, h('h2', { id: 'h-match', text: 'Couple by match' }),
      matchForm));
  await show();
  return null;
}
