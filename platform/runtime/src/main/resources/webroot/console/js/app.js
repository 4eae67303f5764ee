// The console's shell: sign-in, navigation by the URL's hash, one page at a time.
import * as api from './api.js';
import { h, replace, failure } from './dom.js';
import overview from './pages/overview.js';
import setup from './pages/setup.js';
import connection from './pages/connection.js';
import { mappingList, mappingPage } from './pages/mappings.js';
import { jobList, jobPage } from './pages/jobs.js';
import errors from './pages/errors.js';
import { fullSyncPage } from './pages/fullsync.js';
import plugins from './pages/plugins.js';
import couplings from './pages/couplings.js';
import records from './pages/records.js';

const routes = [
  [/^#\/overview$/, overview, 'Overview'],
  [/^#\/setup$/, setup, 'Setup guide'],
  [/^#\/connection$/, connection, 'Connection'],
  [/^#\/mappings$/, mappingList, 'Mappings'],
  [/^#\/mappings\/([^/?]+)$/, mappingPage, 'Mapping'],
  [/^#\/mappings\/([^/?]+)\/couplings$/, couplings, 'Couplings'],
  [/^#\/mappings\/([^/?]+)\/records(\?.*)?$/, records, 'Records'],
  [/^#\/full-sync$/, fullSyncPage, 'Full synchronization'],
  [/^#\/plugins$/, plugins, 'Plugins and schedules'],
  [/^#\/jobs(\?.*)?$/, jobList, 'Jobs'],
  [/^#\/jobs\/(\d+)$/, jobPage, 'Job'],
  [/^#\/errors(\?.*)?$/, errors, 'Errors'],
];

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const menu = document.getElementById('menu-toggle');
const signout = document.getElementById('signout');
let cleanup = null;
let signedIn = false;

function stopPage() {
  if (typeof cleanup === 'function') {
    try {
      cleanup();
    } catch (e) {
      // the page is gone either way
    }
  }
  cleanup = null;
}

function chrome(shown) {
  nav.hidden = !shown;
  menu.hidden = !shown;
  signout.hidden = !shown;
  document.body.classList.toggle('signed-in', shown);
}

function signInPage(message) {
  stopPage();
  signedIn = false;
  chrome(false);
  document.title = 'Sign in · Tandem console';
  const input = h('input', { type: 'password', id: 'token', name: 'token', autocomplete: 'current-password',
    required: true, 'aria-describedby': 'token-error' });
  const error = h('p', { class: 'field-error', id: 'token-error', role: 'alert', text: message || '' });
  const form = h('form', { class: 'card signin', id: 'signin-form' },
    h('h1', { text: 'Sign in to Tandem' }),
    h('p', { class: 'muted', text: 'Give the admin token of this installation (TANDEM_ADMIN_TOKEN; bin/tandem demo '
      + 'prints it). It is exchanged for a session cookie; the token is not kept in the browser.' }),
    h('div', { class: 'field' }, h('label', { for: 'token', text: 'Admin token' }), input, error),
    h('button', { type: 'submit', class: 'primary', text: 'Sign in' }));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    try {
      await api.signIn(input.value);
      input.value = '';
      signedIn = true;
      chrome(true);
      if (!location.hash || location.hash === '#/signin') {
        location.hash = '#/overview';
      }
      render();
    } catch (e) {
      error.textContent = e.message;
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    }
  });
  replace(main, form);
  input.focus();
}

async function render() {
  if (!signedIn) {
    return;
  }
  stopPage();
  const hash = location.hash || '#/overview';
  for (const a of nav.querySelectorAll('a')) {
    const base = a.getAttribute('href');
    if (hash === base || hash.startsWith(base + '/') || hash.startsWith(base + '?')) {
      a.setAttribute('aria-current', 'page');
    } else {
      a.removeAttribute('aria-current');
    }
  }
  nav.classList.remove('open');
  menu.setAttribute('aria-expanded', 'false');
  for (const [re, page, title] of routes) {
    const m = hash.match(re);
    if (m) {
      document.title = title + ' · Tandem console';
      const container = h('div', { class: 'page' });
      replace(main, container);
      try {
        cleanup = await page(container, m.slice(1).map((p) => (p === undefined ? p : decodeURIComponent(p))));
      } catch (e) {
        if (!(e instanceof api.ApiError && e.status === 401)) {
          replace(container, failure(e));
        }
      }
      return;
    }
  }
  replace(main, h('div', { class: 'page' }, h('h1', { text: 'Not found' }),
    h('p', null, 'No page ', h('code', { text: hash }), '. ', h('a', { href: '#/overview', text: 'Overview' }))));
}

menu.addEventListener('click', () => {
  const open = !nav.classList.contains('open');
  nav.classList.toggle('open', open);
  menu.setAttribute('aria-expanded', String(open));
});

signout.addEventListener('click', async () => {
  try {
    await api.signOut();
  } finally {
    signInPage('Signed out.');
  }
});

api.whenSignedOut(() => signInPage('Your session ended: sign in again.'));
window.addEventListener('hashchange', () => {
  render();
  main.focus({ preventScroll: true });
});

(async () => {
  try {
    const s = await api.session();
    if (s.signedIn) {
      signedIn = true;
      chrome(true);
      render();
    } else {
      signInPage();
    }
  } catch (e) {
    replace(main, failure(e));
  }
})();
