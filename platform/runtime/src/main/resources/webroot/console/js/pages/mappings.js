// Integration table mappings: the list, and a mapping's page with its settings (PATCH, errors shown by field),
// field mappings, dependencies, watermarks (reset) and job history.
import { get, post, patch, del } from '../api.js';
import { h, replace, badge, table, facts, field, select, fieldErrors, time, ago, toast, action, duration }
  from '../dom.js';

const DIRECTIONS = ['TO_CRM', 'FROM_CRM', 'BIDIRECTIONAL'];

export async function mappingList(el) {
  const [{ mappings }, { schedules }] = await Promise.all([get('/api/v1/mappings'), get('/api/v1/schedules')]);
  replace(el, h('h1', { text: 'Integration table mappings' }),
    h('section', { class: 'card' }, table('Mappings', [
      { title: 'Mapping', cell: (m) => h('a', { href: '#/mappings/' + encodeURIComponent(m.name), text: m.name }) },
      { title: 'ERP', cell: (m) => m.erpEntitySet },
      { title: 'CRM', cell: (m) => m.crmEntitySet },
      { title: 'Direction', cell: (m) => h('span', { class: 'direction', text: m.effective.direction }) },
      { title: 'Schedule', cell: (m) => {
        const s = schedules.find((x) => x.mapping === m.name && x.kind !== 'LEDGER');
        return s ? h('span', null, badge(s.state), ' every ' + duration(s.intervalMs)) : '—';
      } },
      { title: 'Status', cell: (m) => h('span', null, badge(m.state), m.reason ? ' ' + m.reason : '') },
      { title: 'Dependencies', cell: (m) => (m.dependencies || []).map((d, i) => [i ? ', ' : '',
        h('a', { href: '#/mappings/' + encodeURIComponent(d.mapping), text: d.mapping + (d.optional ? ' (optional)'
          : '') })]) },
    ], mappings, 'No mapping is installed.')));
  return null;
}

function settingsForm(m, reload) {
  const e = m.effective;
  const num = (name, value, min, max, step = '1') => h('input', { name, type: 'number', value: String(value),
    min, max, step });
  const f = {
    direction: field('Direction', select('direction', DIRECTIONS, e.direction)),
    conflictPolicy: field('Conflict policy', select('conflictPolicy', ['NONE', 'ERP_WINS', 'CRM_WINS', 'MERGE'],
      e.conflictPolicy)),
    deletionPolicy: field('Deletion policy', select('deletionPolicy',
      ['NONE', 'RESTORE', 'REMOVE_COUPLING', 'DELETE_COUNTERPART'], e.deletionPolicy)),
    scheduleSeconds: field('Schedule (seconds)', num('scheduleSeconds', e.scheduleSeconds, '1')),
    skipAfterRepeats: field('Skip after identical errors', num('skipAfterRepeats', e.skipAfterRepeats, '1')),
    erpFilter: field('ERP filter ($filter)', h('input', { name: 'erpFilter', type: 'text', value: e.erpFilter || '',
      spellcheck: 'false' }), 'Empty: the plugin\'s filter (or none).'),
    crmFilter: field('CRM filter ($filter)', h('input', { name: 'crmFilter', type: 'text', value: e.crmFilter || '',
      spellcheck: 'false' }), 'Empty: the plugin\'s filter (or none).'),
    maxFailedShare: field('Error tolerance (share failed)', num('maxFailedShare', e.maxFailedShare, '0', '1', 'any')),
    minFailedRecords: field('Error tolerance (records)', num('minFailedRecords', e.minFailedRecords, '0')),
    syncOnlyCoupled: field('Synchronize only coupled records', h('input', { name: 'syncOnlyCoupled',
      type: 'checkbox', checked: e.syncOnlyCoupled })),
  };
  const errorBox = h('div', { class: 'form-error', id: 'mapping-form-error' });
  const form = h('form', { class: 'stack settings', id: 'mapping-form', novalidate: true },
    h('div', { class: 'form-grid' }, Object.values(f)), errorBox,
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary', text: 'Save' }),
      h('button', { type: 'button', text: 'Restore the plugin\'s definition', onclick: async () => {
        const body = {};
        for (const k of overridden(m)) {
          body[k] = null;
        }
        if (Object.keys(body).length === 0) {
          toast('Nothing is overridden');
          return;
        }
        try {
          await patch('/api/v1/mappings/' + encodeURIComponent(m.name), body);
          toast('Restored the plugin\'s definition');
          reload();
        } catch (err) {
          fieldErrors(f, errorBox, err);
        }
      } })));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = {};
    for (const [k, w] of Object.entries(f)) {
      const input = w.input;
      let value;
      if (input.type === 'checkbox') {
        value = input.checked;
      } else if (input.type === 'number') {
        // A value the browser cannot read as a number goes to the API as text: it names the field.
        value = input.value.trim() === '' ? null : Number.isNaN(Number(input.value)) ? input.value
          : Number(input.value);
      } else {
        value = input.value.trim() === '' ? null : input.value.trim();
      }
      const old = e[k] === undefined ? null : e[k];
      if (value !== old) {
        body[k] = value;
      }
    }
    if (Object.keys(body).length === 0) {
      replace(errorBox, h('p', { class: 'muted', text: 'Nothing changed.' }));
      return;
    }
    try {
      await patch('/api/v1/mappings/' + encodeURIComponent(m.name), body);
      toast('Saved ' + Object.keys(body).join(', '));
      reload();
    } catch (err) {
      fieldErrors(f, errorBox, err);
    }
  });
  return form;
}

function watermarks(name, w, reload) {
  return h('div', null,
    table('Watermarks', [
      { title: 'Side', cell: (x) => x.side },
      { title: 'Read up to', cell: (x) => time(x.modifiedOn) },
      { title: 'Next read from', cell: (x) => time(x.readFrom) },
      { title: 'Updated', cell: (x) => ago(x.updatedAt) },
      { title: 'Deletions held', cell: (x) => x.deletionsHeld || '—' },
    ], w.watermarks, 'Never read yet.'),
    action('Reset the watermarks', async () => {
      if (!window.confirm('Forget what ' + name + ' has read? The next run reads every record again.')) {
        return;
      }
      await del('/api/v1/mappings/' + encodeURIComponent(name) + '/watermarks');
      toast('Watermarks reset');
      reload();
    }));
}

function jobsTable(jobs) {
  return table('Job history', [
    { title: 'Job', cell: (j) => h('a', { href: '#/jobs/' + j.id, text: '#' + j.id }) },
    { title: 'Kind', cell: (j) => j.kind + (j.direction ? ' ' + j.direction : '') },
    { title: 'Status', cell: (j) => badge(j.status) },
    { title: 'Finished', cell: (j) => ago(j.finishedAt) },
    { title: 'Counts', cell: (j) => countsText(j.counts) },
  ], jobs, 'No job has run yet.');
}

/** The settings the operator changed (null: the plugin's definition). */
function overridden(m) {
  return Object.entries(m.overrides || {}).filter(([, v]) => v !== null && v !== undefined
    && !(Array.isArray(v) && v.length === 0)).map(([k]) => k);
}

export function countsText(c) {
  if (!c) {
    return '—';
  }
  return Object.entries(c).filter(([, v]) => v).map(([k, v]) => k + ' ' + v).join(', ') || 'nothing to do';
}

export async function mappingPage(el, [name]) {
  const path = '/api/v1/mappings/' + encodeURIComponent(name);
  const load = async () => {
    const [m, w, jobs] = await Promise.all([get(path), get(path + '/watermarks').catch(() => ({ watermarks: [] })),
      get('/api/v1/jobs?limit=10&mapping=' + encodeURIComponent(name))]);
    replace(el,
      h('p', { class: 'crumbs' }, h('a', { href: '#/mappings', text: 'Mappings' }), ' / ' + m.name),
      h('h1', null, m.name, ' ', badge(m.state)),
      m.reason ? h('p', { class: 'alert warn', text: m.reason }) : null,
      h('section', { class: 'card', 'aria-labelledby': 'h-def' }, h('h2', { id: 'h-def', text: 'Mapping' }),
        facts([['Plugin', m.plugin], ['ERP', m.erpEntitySet + ' (key ' + (m.erpKey || '—') + ')'],
          ['CRM', m.crmEntitySet + ' (key ' + (m.crmKey || '—') + (m.crmAlternateKey ? ', alternate key '
            + m.crmAlternateKey : '') + ')'],
          ['Direction', h('span', { id: 'mapping-direction', text: m.effective.direction })],
          ['Connection', m.connection],
          ['Dependencies', (m.dependencies || []).length ? m.dependencies.map((d, i) => [i ? ', ' : '',
            h('a', { href: '#/mappings/' + encodeURIComponent(d.mapping), text: d.mapping })]) : 'none'],
          ['Overrides', overridden(m).join(', ') || 'none (the plugin\'s definition)']]),
        h('div', { class: 'buttons' },
          action('Synchronize now', async (out) => {
            const r = await post(path + '/sync');
            replace(out, 'queued ', h('a', { href: '#/jobs/' + r.jobId, text: 'job #' + r.jobId }));
          }, { id: 'mapping-sync' }),
          h('a', { class: 'button', href: '#/mappings/' + encodeURIComponent(m.name) + '/records',
            id: 'mapping-records', text: 'Records side by side' }),
          h('a', { class: 'button', href: '#/mappings/' + encodeURIComponent(m.name) + '/couplings',
            text: 'Couplings' }),
          h('a', { class: 'button', href: '#/jobs?mapping=' + encodeURIComponent(m.name), text: 'All its jobs' }),
          h('a', { class: 'button', href: '#/errors?mapping=' + encodeURIComponent(m.name), text: 'Its errors' }))),
      h('section', { class: 'card', 'aria-labelledby': 'h-set' }, h('h2', { id: 'h-set', text: 'Settings' }),
        settingsForm(m, load)),
      h('section', { class: 'card', 'aria-labelledby': 'h-fields' }, h('h2', { id: 'h-fields', text: 'Fields' }),
        table('Field mappings', [
          { title: 'ERP field', cell: (x) => x.erpField || (x.constant !== null ? '= ' + x.constant : '—') },
          { title: 'CRM field', cell: (x) => x.crmField },
          { title: 'Direction', cell: (x) => x.direction },
          { title: 'Enabled', cell: (x) => (x.enabled ? 'yes' : 'no') },
          { title: 'Lookup', cell: (x) => x.lookupMapping || '' },
          { title: 'Transformations', cell: (x) => (x.transformations || []).join(', ') },
        ], m.effective.fields)),
      h('section', { class: 'card', 'aria-labelledby': 'h-wm' }, h('h2', { id: 'h-wm', text: 'Watermarks' }),
        watermarks(m.name, w, load)),
      h('section', { class: 'card', 'aria-labelledby': 'h-jobs' }, h('h2', { id: 'h-jobs', text: 'Job history' }),
        jobsTable(jobs.jobs)));
  };
  await load();
  return null;
}
