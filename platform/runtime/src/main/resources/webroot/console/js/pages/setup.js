// The setup guide (Dynamics 365 Connection Setup): the five steps of /api/v1/setup, each with its form, the
// checks' results and what to do when one fails. The guide's state is in PostgreSQL: any node resumes it.
import { get, post } from '../api.js';
import { h, replace, badge, field, select, fieldErrors, facts, failure, toast } from '../dom.js';
import { checksTable, failedChecks } from './checks.js';
import { reviewTable } from './fullsync.js';

const TITLES = {
  connection: '1. Connection',
  solution: '2. CRM solution',
  integrationUser: '3. Integration user',
  synchronize: '4. What to synchronize',
  finish: '5. Finish',
};

function input(name, type = 'text', value = '') {
  return h('input', { name, type, value, autocomplete: type === 'password' ? 'new-password' : 'off',
    spellcheck: 'false' });
}

/** Runs a step; on failure shows the field errors and the failed checks. */
async function run(step, path, body, fields, errorBox, rerender) {
  try {
    const guide = await post(path, body);
    toast(TITLES[step] + ': done');
    rerender(guide);
  } catch (e) {
    fieldErrors(fields, errorBox, e);
    const checks = failedChecks(e);
    if (checks) {
      errorBox.appendChild(checks);
    }
  }
}

function connectionForm(path, rerender) {
  const f = {
    'erp.profile': field('ERP', select('erp.profile', [['nav', 'NAV / Business Central on premises (web service '
      + 'access key)'], ['bc-online', 'Business Central online (Entra client credentials)']], 'nav')),
    'erp.url': field('ERP OData URL', input('erp.url'), 'e.g. https://erp.contoso.local:7048/BC/ODataV4'),
    'erp.company': field('Company', input('erp.company')),
    'erp.user': field('Web service user', input('erp.user')),
    'erp.accessKey': field('Web service access key', input('erp.accessKey', 'password')),
    'erp.tenant': field('Tenant', input('erp.tenant'), 'the Entra tenant id or domain, e.g. contoso.onmicrosoft.com'),
    'erp.environment': field('Environment (optional)', input('erp.environment'), 'Production when left empty'),
    'erp.clientId': field('Client id', input('erp.clientId'), 'the Entra application registered in Business '
      + 'Central (Microsoft Entra Applications page)'),
    'erp.clientSecret': field('Client secret', input('erp.clientSecret', 'password')),
    'erp.online.company': field('Company', input('erp.online.company')),
    'erp.tokenUrl': field('Token endpoint (optional)', input('erp.tokenUrl'), 'only to override '
      + 'https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token'),
    'erp.scope': field('Scope (optional)', input('erp.scope'), 'only to override '
      + 'https://api.businesscentral.dynamics.com/.default'),
    'erp.online.url': field('OData URL (optional)', input('erp.online.url'), 'only to override '
      + 'https://api.businesscentral.dynamics.com/v2.0/{tenant}/{environment}/ODataV4'),
    'crm.url': field('CRM Web API URL', input('crm.url'), 'e.g. https://contoso.crm4.dynamics.com/api/data/v9.2'),
    'crm.tokenUrl': field('Token URL', input('crm.tokenUrl')),
    'crm.scope': field('Scope (optional)', input('crm.scope')),
    'crm.applicationUsers[0].clientId': field('Application user: client id', input('crm.clientId')),
    'crm.applicationUsers[0].clientSecret': field('Application user: client secret',
      input('crm.clientSecret', 'password')),
  };
  const errorBox = h('div', { class: 'form-error' });
  const v = (k) => f[k].input.value.trim();
  const nav = h('div', { class: 'profile-fields', id: 'erp-nav-fields' }, f['erp.url'], f['erp.company'],
    f['erp.user'], f['erp.accessKey']);
  const online = h('div', { class: 'profile-fields', id: 'erp-online-fields', hidden: true }, f['erp.tenant'],
    f['erp.environment'], f['erp.clientId'], f['erp.clientSecret'], f['erp.online.company'], f['erp.tokenUrl'],
    f['erp.scope'], f['erp.online.url']);
  const profile = f['erp.profile'].input;
  profile.addEventListener('change', () => {
    nav.hidden = profile.value !== 'nav';
    online.hidden = profile.value !== 'bc-online';
  });
  const form = h('form', { class: 'stack', id: 'setup-connection' },
    h('fieldset', null, h('legend', { text: 'ERP (Business Central / NAV web services)' }), f['erp.profile'], nav,
      online),
    h('fieldset', null, h('legend', { text: 'CRM (Dataverse)' }),
      f['crm.url'], f['crm.tokenUrl'], f['crm.scope'], f['crm.applicationUsers[0].clientId'],
      f['crm.applicationUsers[0].clientSecret']),
    errorBox,
    h('button', { type: 'submit', class: 'primary', text: 'Check and store the connection' }));
  // The API names bc-online's company and URL erp.company and erp.url: its errors go to the fields shown.
  const shown = () => {
    const out = { ...f };
    if (profile.value === 'bc-online') {
      out['erp.company'] = f['erp.online.company'];
      out['erp.url'] = f['erp.online.url'];
    }
    delete out['erp.online.company'];
    delete out['erp.online.url'];
    return out;
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const crm = { url: v('crm.url'), tokenUrl: v('crm.tokenUrl'),
      applicationUsers: [{ clientId: v('crm.applicationUsers[0].clientId'),
        clientSecret: f['crm.applicationUsers[0].clientSecret'].input.value }] };
    if (v('crm.scope')) {
      crm.scope = v('crm.scope');
    }
    let erp;
    if (profile.value === 'bc-online') {
      erp = { profile: 'bc-online', clientId: v('erp.clientId'),
        clientSecret: f['erp.clientSecret'].input.value, company: v('erp.online.company') };
      for (const [k, name] of [['tenant', 'erp.tenant'], ['environment', 'erp.environment'], ['tokenUrl', 'erp.tokenUrl'],
        ['scope', 'erp.scope'], ['url', 'erp.online.url']]) {
        if (v(name)) {
          erp[k] = v(name);
        }
      }
    } else {
      erp = { profile: 'nav', url: v('erp.url'), company: v('erp.company'), user: v('erp.user'),
        accessKey: f['erp.accessKey'].input.value };
    }
    run('connection', path, { erp, crm }, shown(), errorBox, rerender);
  });
  return form;
}

function adminForm(step, path, rerender, optionalAdmin) {
  const f = {
    'admin.clientId': field('Administrator client id', input('admin.clientId')),
    'admin.clientSecret': field('Administrator client secret', input('admin.clientSecret', 'password')),
  };
  const errorBox = h('div', { class: 'form-error' });
  const skip = step === 'solution'
    ? h('button', { type: 'button', text: 'Skip (the solution is imported already)', onclick: () =>
      run(step, path, { skip: true }, f, errorBox, rerender) })
    : null;
  const form = h('form', { class: 'stack', id: 'setup-' + step },
    h('p', { class: 'muted', text: step === 'solution'
      ? 'A CRM account with System Administrator and System Customizer imports the TandemIntegration solution. '
        + 'It is held in this node\'s memory for 30 minutes, never stored.'
      : 'Assigns Integration Administrator and Integration User to every application user. Leave the account '
        + 'empty when this node still holds it from the previous step.' }),
    f['admin.clientId'], f['admin.clientSecret'], errorBox,
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary',
      text: step === 'solution' ? 'Import the solution' : 'Assign the roles' }), skip));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const id = f['admin.clientId'].input.value.trim();
    const body = id || !optionalAdmin
      ? { admin: { clientId: id, clientSecret: f['admin.clientSecret'].input.value } } : {};
    run(step, path, body, f, errorBox, rerender);
  });
  return form;
}

async function synchronizeForm(path, rerender) {
  const { mappings } = await get('/api/v1/mappings');
  const rows = mappings.map((m) => ({
    m,
    enabled: h('input', { type: 'checkbox', name: 'enabled-' + m.name, checked: m.state === 'ENABLED',
      id: 'sync-' + m.name }),
    direction: select('direction-' + m.name, ['TO_CRM', 'FROM_CRM', 'BIDIRECTIONAL'],
      m.effective ? m.effective.direction : m.direction),
  }));
  const f = {};
  const errorBox = h('div', { class: 'form-error' });
  const form = h('form', { class: 'stack', id: 'setup-synchronize' },
    h('p', { class: 'muted', text: 'Choose the mappings to run and their direction. A mapping left out gets a '
      + 'disabled schedule.' }),
    rows.length ? null : h('p', { class: 'alert warn', text: 'No mapping is installed: see the plugins (GET '
      + '/api/v1/plugins) for the reason, or put plugin jars into the plugins directory.' }),
    h('div', { class: 'table-wrap' }, h('table', null,
      h('thead', null, h('tr', null, h('th', { text: 'Run' }), h('th', { text: 'Mapping' }),
        h('th', { text: 'Direction' }))),
      h('tbody', null, rows.map((r) => {
        r.direction.setAttribute('aria-label', 'Direction of ' + r.m.name);
        return h('tr', null, h('td', null, r.enabled),
          h('td', null, h('label', { for: 'sync-' + r.m.name, text: r.m.name })), h('td', null, r.direction));
      })))),
    errorBox,
    h('button', { type: 'submit', class: 'primary', text: 'Save the selection' }));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const body = { mappings: {} };
    for (const r of rows) {
      body.mappings[r.m.name] = { enabled: r.enabled.checked, direction: r.direction.value };
    }
    run('synchronize', path, body, f, errorBox, rerender);
  });
  return form;
}

function finishForm(path, rerender) {
  const start = h('input', { type: 'checkbox', id: 'start-full-sync', name: 'startFullSync', checked: true });
  const errorBox = h('div', { class: 'form-error' });
  const form = h('form', { class: 'stack', id: 'setup-finish' },
    h('p', { class: 'muted', text: 'Enables the connection: the schedules start on every node.' }),
    h('div', { class: 'check' }, start, h('label', { for: 'start-full-sync',
      text: 'Start the full synchronization now' })),
    errorBox,
    h('button', { type: 'submit', class: 'primary', text: 'Finish the setup' }));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    run('finish', path, { startFullSync: start.checked }, {}, errorBox, rerender);
  });
  return form;
}

function result(step) {
  const r = step.result;
  if (!r) {
    return null;
  }
  const parts = [];
  if (r.at) {
    parts.push(h('p', { class: 'muted', text: 'Done ' + new Date(r.at).toLocaleString() }));
  }
  if (Array.isArray(r.checks)) {
    parts.push(checksTable(r.checks));
  }
  if (step.step === 'solution' && r.version) {
    parts.push(facts([['Solution', r.solution], ['Version', r.version], ['Tables', r.tables]]));
  }
  if (step.step === 'integrationUser' && Array.isArray(r.users)) {
    parts.push(facts(r.users.map((u) => [u.clientId, (u.rolesAdded || []).length
      ? 'added ' + u.rolesAdded.join(', ') : 'had the roles already'])));
  }
  if (step.step === 'synchronize' && Array.isArray(r.disabledMappings)) {
    parts.push(facts([['Disabled mappings', r.disabledMappings.join(', ') || 'none']]));
  }
  if (step.step === 'finish' && r.fullSync) {
    parts.push(h('p', { text: 'Full synchronization started: run ' + r.fullSync.runId + '.' }));
  }
  if (step.step === 'finish' && r.review) {
    parts.push(reviewTable(r.review));
    parts.push(h('p', null, h('a', { href: '#/overview', text: 'Watch it on the overview' })));
  }
  return parts;
}

export default async function setup(el) {
  const render = async (guide) => {
    const steps = await Promise.all(guide.steps.map(async (s) => {
      const open = s.step === guide.next;
      let form = null;
      if (open) {
        form = s.step === 'connection' ? connectionForm(s.path, render)
          : s.step === 'solution' ? adminForm(s.step, s.path, render, false)
            : s.step === 'integrationUser' ? adminForm(s.step, s.path, render, true)
              : s.step === 'synchronize' ? await synchronizeForm(s.path, render)
                : finishForm(s.path, render);
      }
      return h('section', { class: 'card step' + (open ? ' current' : ''), id: 'step-' + s.step,
        'aria-current': open ? 'step' : null },
      h('h2', null, TITLES[s.step] || s.step, ' ', badge(s.status)), result(s), form,
      !open && s.status !== 'open' ? h('button', { type: 'button', class: 'link', text: 'Run this step again',
        onclick: () => {
          const again = { ...guide, next: s.step };
          render(again);
        } }) : null);
    }));
    replace(el, h('h1', { text: 'Setup guide' }),
      h('p', { id: 'setup-state' }, guide.finished ? 'The setup is finished. ' : 'Next: ' + (TITLES[guide.next]
        || guide.next) + '. ', 'Each step checks what it needs before anything is stored.'),
      steps);
    const current = el.querySelector('.step.current input, .step.current select, .step.current button');
    if (current && guide.next) {
      current.focus();
    }
  };
  try {
    await render(await get('/api/v1/setup'));
  } catch (e) {
    replace(el, h('h1', { text: 'Setup guide' }), failure(e));
  }
  return null;
}
