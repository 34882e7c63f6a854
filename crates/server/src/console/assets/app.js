// The console's entry: sign-in, the shell (top bar, navigation, the operator's tenant picker)
// and a router on the URL fragment (#/overview, #/tenant, #/apps...). Each page module exports
// render(main, ctx, params) and may return a cleanup function (the live feed closes its stream).

import { ApiError, get, post, put, del, setCsrfToken, whenSignedOut } from './api.js';
import { h, clear, field, setFieldError, alertBox, icon, uid } from './ui.js';
import * as overview from './overview.js';
import * as tenant from './tenant.js';
import * as apps from './apps.js';
import * as devices from './devices.js';
import * as schema from './schema.js';
import * as profiles from './profiles.js';
import * as events from './events.js';

const PAGES = [
  { path: 'overview', title: 'Overview', module: overview },
  { path: 'tenant', title: 'Tenant Settings', module: tenant },
  { path: 'apps', title: 'Apps', module: apps },
  { path: 'devices', title: 'Device attributes', module: devices },
  { path: 'schema', title: 'Customer attributes', module: schema },
  { path: 'profiles', title: 'Profiles', module: profiles },
  { path: 'events', title: 'Live events', module: events },
];

const root = document.getElementById('app');
let session = null;
let cleanup = null;

function route() {
  const raw = decodeURIComponent(location.hash.replace(/^#\/?/, ''));
  const [path, ...rest] = raw.split('/');
  const page = PAGES.find((p) => p.path === path) || PAGES[0];
  return { page, params: rest };
}

function signIn(message) {
  if (cleanup) { cleanup(); cleanup = null; }
  session = null;
  setCsrfToken(null);
  const email = field('E-mail address', h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true }));
  const password = field('Password', h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true }));
  const alert = alertBox();
  if (message) alert.show('error', message);
  const submit = h('button', { type: 'submit' }, 'Sign in');
  const form = h('form', { novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    setFieldError(email, email.input.value.trim() ? '' : 'Enter your e-mail address');
    setFieldError(password, password.input.value ? '' : 'Enter your password');
    if (!email.input.value.trim() || !password.input.value) return;
    submit.disabled = true;
    try {
      session = await post('/console/api/session', { email: email.input.value, password: password.input.value });
      setCsrfToken(session.csrf_token);
      shell();
    } catch (error) {
      alert.show('error', error instanceof ApiError ? error.message : `Could not sign in: ${error.message}`);
      password.input.value = '';
      password.input.focus();
    } finally {
      submit.disabled = false;
    }
  } }, alert, email.wrap, password.wrap, submit);
  clear(root).removeAttribute('aria-busy');
  root.append(h('main', { class: 'signin', id: 'main' },
    h('div', { class: 'panel' },
      h('h1', {}, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, 'ps'), ' profilestore console'),
      h('p', { class: 'muted' }, 'Sign in with your console account.'),
      form)));
  document.title = 'Sign in · profilestore console';
  email.input.focus();
}

async function signOut() {
  try { await del('/console/api/session'); } catch { /* the session may have ended already */ }
  location.hash = '#/overview';
  signIn();
}

function tenantPicker() {
  if (!session.operator) {
    return h('span', { class: 'who', 'data-testid': 'tenant-name' }, session.tenant ? session.tenant.name : '');
  }
  const id = uid('tenant');
  const select = h('select', { id, onchange: async () => {
    try {
      session = await put('/console/api/session/tenant', { tenant_id: select.value });
      setCsrfToken(session.csrf_token);
      shell();
    } catch (error) {
      window.alert(`Could not switch tenant: ${error.message}`);
    }
  } }, h('option', { value: '' }, 'Choose a tenant…'));
  get('/console/api/tenants').then(({ tenants }) => {
    for (const t of tenants) {
      select.append(h('option', { value: t.tenant_id, selected: session.tenant && session.tenant.tenant_id === t.tenant_id }, t.name));
    }
  }).catch(() => {});
  return h('div', { class: 'tenant-picker' }, h('label', { for: id, class: 'visually-hidden' }, 'Tenant'),
    h('span', { 'aria-hidden': 'true' }, 'Tenant'), select);
}

function shell() {
  const nav = h('nav', { class: 'side', id: 'side-nav', 'aria-label': 'Console sections' },
    h('ul', {}, PAGES.map((p) => h('li', {}, h('a', { href: `#/${p.path}`, 'data-page': p.path }, p.title)))));
  const menu = h('button', { type: 'button', class: 'secondary menu-button', 'aria-expanded': 'false', 'aria-controls': 'side-nav',
    onclick: () => {
      const open = nav.classList.toggle('open');
      menu.setAttribute('aria-expanded', String(open));
    } }, icon('menu'), 'Menu');
  const skip = h('a', { class: 'skip', href: '#main', onclick: (event) => { event.preventDefault(); main.focus(); } }, 'Skip to content');
  const main = h('main', { id: 'main', tabindex: '-1' });
  const top = h('header', { class: 'topbar' },
    menu,
    h('div', { class: 'brand' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, 'ps'), 'profilestore'),
    tenantPicker(),
    h('span', { class: 'who', 'data-testid': 'signed-in-as' }, session.email, session.operator ? ' (operator)' : ''),
    h('button', { type: 'button', class: 'secondary', onclick: signOut, 'data-action': 'sign-out' }, 'Sign out'));
  clear(root).removeAttribute('aria-busy');
  root.append(skip, h('div', { class: 'shell' }, top, nav, main));
  render();
}

async function render() {
  const main = document.getElementById('main');
  if (!main || !session) return;
  if (cleanup) { cleanup(); cleanup = null; }
  const { page, params } = route();
  for (const link of document.querySelectorAll('nav.side a')) {
    if (link.dataset.page === page.path) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.getElementById('side-nav')?.classList.remove('open');
  document.title = `${page.title} · profilestore console`;
  clear(main);
  if (!session.tenant) {
    main.append(h('div', { class: 'panel' }, h('h1', {}, 'Choose a tenant'),
      h('p', {}, 'As an operator you may act on every tenant: choose one in the top bar.')));
    return;
  }
  const ctx = { session, tenantId: session.tenant.tenant_id, navigate: (hash) => { location.hash = hash; } };
  try {
    const result = await page.module.render(main, ctx, params);
    if (typeof result === 'function') cleanup = result;
  } catch (error) {
    main.append(h('div', { class: 'alert error', role: 'alert' }, `This page could not be shown: ${error.message}`));
  }
}

window.addEventListener('hashchange', () => {
  render();
  document.getElementById('main')?.focus();
});
whenSignedOut(() => signIn('Your session has ended. Sign in again.'));

(async function start() {
  try {
    session = await get('/console/api/session');
    setCsrfToken(session.csrf_token);
    shell();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) signIn();
    else {
      clear(root).append(h('p', { class: 'loading', role: 'alert' }, `The console could not start: ${error.message}`));
    }
  }
})();
