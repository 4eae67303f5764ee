// The connection window: the stored settings with their secrets masked, the test of every check, the Enabled
// switch, and changes to the settings through PATCH /api/v1/connection (a merge patch: a secret left empty is kept).
import { get, post, patch } from '../api.js';
import { h, replace, badge, facts, field, fieldErrors, failure, time, toast, action } from '../dom.js';
import { checksTable } from './checks.js';

function secret(s) {
  if (!s) {
    return 'not set';
  }
  return s.set ? h('span', { class: 'secret' }, '•••••• set', s.changedAt ? ' (changed ' + time(s.changedAt) + ')' : '')
    : 'not set';
}

function sideFacts(side, kind) {
  if (!side) {
    return h('p', { class: 'muted', text: 'Not set up: run the setup guide.' });
  }
  if (kind === 'erp') {
    return facts([['Profile', side.profile], ['URL', side.url], ['Company', side.company], ['Tenant', side.tenant],
      ['User', side.user], ['Access key', secret(side.accessKey)], side.clientId ? ['Client id', side.clientId] : null,
      side.clientSecret ? ['Client secret', secret(side.clientSecret)] : null]);
  }
  return facts([['Web API', side.url], ['Token URL', side.tokenUrl], ['Scope', side.scope],
    ['Application users', (side.applicationUsers || []).map((u) => h('div', null, u.clientId, ' · ',
      secret(u.clientSecret)))]]);
}

function editForm(c, reload) {
  const erp = c.erp || {};
  const crm = c.crm || {};
  const input = (name, value, type = 'text') => h('input', { name, type, value: value || '', autocomplete: 'off',
    spellcheck: 'false' });
  const f = {
    'erp.url': field('ERP OData URL', input('erp.url', erp.url)),
    'erp.company': field('Company', input('erp.company', erp.company)),
    'erp.user': field('Web service user', input('erp.user', erp.user)),
    'erp.accessKey': field('New access key', input('erp.accessKey', '', 'password'), 'Empty: keep the stored key.'),
    'crm.url': field('CRM Web API URL', input('crm.url', crm.url)),
    'crm.tokenUrl': field('Token URL', input('crm.tokenUrl', crm.tokenUrl)),
  };
  const errorBox = h('div', { class: 'form-error' });
  const form = h('form', { class: 'stack', id: 'connection-form' },
    h('fieldset', null, h('legend', { text: 'ERP' }), f['erp.url'], f['erp.company'], f['erp.user'],
      f['erp.accessKey']),
    h('fieldset', null, h('legend', { text: 'CRM' }), f['crm.url'], f['crm.tokenUrl']),
    errorBox, h('button', { type: 'submit', class: 'primary', text: 'Save changes' }));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = {};
    const put = (side, key, value, old) => {
      if (value !== (old || '')) {
        body[side] = body[side] || {};
        body[side][key] = value === '' ? null : value;
      }
    };
    put('erp', 'url', f['erp.url'].input.value.trim(), erp.url);
    put('erp', 'company', f['erp.company'].input.value.trim(), erp.company);
    put('erp', 'user', f['erp.user'].input.value.trim(), erp.user);
    if (f['erp.accessKey'].input.value) {
      body.erp = body.erp || {};
      body.erp.accessKey = f['erp.accessKey'].input.value;
    }
    put('crm', 'url', f['crm.url'].input.value.trim(), crm.url);
    put('crm', 'tokenUrl', f['crm.tokenUrl'].input.value.trim(), crm.tokenUrl);
    if (Object.keys(body).length === 0) {
      replace(errorBox, h('p', { class: 'muted', text: 'Nothing changed.' }));
      return;
    }
    try {
      await patch('/api/v1/connection', body);
      toast('Connection saved');
      reload();
    } catch (e) {
      fieldErrors(f, errorBox, e);
    }
  });
  return form;
}

export default async function connection(el) {
  const load = async () => {
    let c;
    try {
      c = await get('/api/v1/connection');
    } catch (e) {
      replace(el, h('h1', { text: 'Connection' }), failure(e));
      return;
    }
    const testResult = h('div', { id: 'connection-test' }, c.checks && c.checks.length
      ? [h('p', { class: 'muted', text: 'Last test results:' }), checksTable(c.checks)] : null);
    const reason = h('input', { name: 'disabledReason', id: 'disabled-reason', type: 'text', value: '' });
    replace(el,
      h('h1', { text: 'Connection' }),
      h('section', { class: 'card', 'aria-labelledby': 'h-state' },
        h('h2', { id: 'h-state', text: 'State' }),
        h('p', { id: 'connection-enabled' }, badge(c.enabled ? 'ENABLED' : 'DISABLED'), ' ',
          badge(c.connected ? 'CONNECTED' : 'NOT CONNECTED'), c.disabledReason ? ' ' + c.disabledReason : ''),
        facts([['Revision', c.revision], ['Updated', time(c.updatedAt)],
          ['Source', c.source ? 'ERP: ' + c.source.erp + ', CRM: ' + c.source.crm : '—'],
          ['Secret key', c.secretKey ? c.secretKey.keyId : 'none (secrets cannot be stored)']]),
        c.enabled
          ? h('div', { class: 'inline-form' },
            h('label', { for: 'disabled-reason', text: 'Reason' }), reason,
            action('Disable', async () => {
              await patch('/api/v1/connection', { enabled: false, disabledReason: reason.value.trim() || null });
              toast('Connection disabled: no schedule runs on any node');
              load();
            }, { id: 'connection-disable' }))
          : action('Enable', async () => {
            await patch('/api/v1/connection', { enabled: true, disabledReason: null });
            toast('Connection enabled');
            load();
          }, { id: 'connection-enable', class: 'primary' })),
      h('div', { class: 'grid' },
        h('section', { class: 'card', 'aria-labelledby': 'h-erp' }, h('h2', { id: 'h-erp', text: 'ERP' }),
          sideFacts(c.erp, 'erp')),
        h('section', { class: 'card', 'aria-labelledby': 'h-crm' }, h('h2', { id: 'h-crm', text: 'CRM' }),
          sideFacts(c.crm, 'crm'))),
      h('section', { class: 'card', 'aria-labelledby': 'h-test' }, h('h2', { id: 'h-test', text: 'Test' }),
        h('p', { class: 'muted', text: 'Runs every check of both sides; a check that cannot run because an '
          + 'earlier one failed is skipped.' }),
        action('Test the connection', async () => {
          replace(testResult, h('p', { class: 'muted', text: 'Testing…' }));
          const r = await post('/api/v1/connection/test');
          replace(testResult, h('p', null, r.ok ? badge('OK') : badge('FAILED'),
            r.ok ? ' Every check passed.' : ' Failed: ' + r.failed.join(', ')), checksTable(r.checks));
        }, { id: 'connection-test-button' }),
        testResult),
      c.erp && c.erp.profile === 'nav' ? h('section', { class: 'card', 'aria-labelledby': 'h-edit' },
        h('h2', { id: 'h-edit', text: 'Change settings' }), editForm(c, load)) : null);
  };
  await load();
  return null;
}
