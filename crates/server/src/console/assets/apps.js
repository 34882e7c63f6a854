// Apps: the list, creating one, and per app its id and client key (view, copy, rotate) and its
// options (multi-user per device, single device per user, profile TTL, JWT secret).

import { ApiError, get, post, patch, seg } from './api.js';
import { h, field, checkbox, setFieldError, alertBox, secretField, formatTime, table, iconButton, copyText } from './ui.js';

function createSection(onCreated) {
  const name = field('App name', h('input', { type: 'text', name: 'name', maxlength: 128, autocomplete: 'off' }));
  const status = alertBox();
  const form = h('form', { onsubmit: async (event) => {
    event.preventDefault();
    setFieldError(name, '');
    try {
      const app = await post('/v1/apps', { name: name.input.value });
      name.input.value = '';
      status.show('ok', `Created ${app.name} (${app.app_id}).`);
      onCreated(app);
    } catch (error) {
      setFieldError(name, error instanceof ApiError ? error.fieldMessage('name') || error.message : error.message);
    }
  } }, name.wrap, h('button', { type: 'submit' }, 'Create app'), status);
  return h('section', { class: 'panel', 'aria-labelledby': 'create-app' }, h('h2', { id: 'create-app' }, 'Create an app'), form);
}

/** A confirmation to show after the page is drawn again (a save redraws the app). */
let flash = null;

function optionsForm(app, onSaved) {
  const o = app.options;
  const multi = checkbox('Multi-user per device', o.multi_user_per_device, { name: 'multi_user_per_device' });
  const single = checkbox('Single device per user', o.single_device_per_user, { name: 'single_device_per_user' });
  const ttl = field('Profile TTL (days)', h('input', { type: 'number', min: 1, max: 365, name: 'profile_ttl_days', value: o.profile_ttl_days }),
    'Installs without SDK contact for this long are deleted (1 to 365).');
  const jwt = field('JWT secret', h('input', { type: 'password', name: 'jwt_secret', autocomplete: 'new-password' }),
    o.jwt_required ? 'Set: SDK calls must carry a JWT. Enter a new one to replace it.' : 'Not set. At least 32 characters; SDK calls then need an HS256 JWT.');
  const removeJwt = o.jwt_required ? checkbox('Remove the JWT secret', false, { name: 'remove_jwt' }) : null;
  const status = alertBox();
  if (flash) { status.show('ok', flash); flash = null; }
  // novalidate: the server's message is shown beside the field, not the browser's bubble.
  const form = h('form', { novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    for (const f of [ttl, jwt]) setFieldError(f, '');
    const change = {
      multi_user_per_device: multi.input.checked,
      single_device_per_user: single.input.checked,
      profile_ttl_days: Number(ttl.input.value),
    };
    if (jwt.input.value) change.jwt_secret = jwt.input.value;
    else if (removeJwt && removeJwt.input.checked) change.jwt_secret = null;
    try {
      const saved = await patch(`/v1/apps/${seg(app.app_id)}`, change);
      jwt.input.value = '';
      flash = 'Options saved.';
      onSaved(saved);
    } catch (error) {
      status.hide();
      if (!(error instanceof ApiError)) { status.show('error', error.message); return; }
      const fields = { profile_ttl_days: ttl, jwt_secret: jwt };
      let placed = false;
      for (const e of error.fields) {
        if (fields[e.field]) { setFieldError(fields[e.field], e.message); placed = true; }
      }
      if (!placed) status.show('error', error.message);
    }
  } }, multi.wrap, single.wrap, ttl.wrap, jwt.wrap, removeJwt && removeJwt.wrap, h('button', { type: 'submit' }, 'Save options'), status);
  return form;
}

function appPanel(app, refresh, navigate) {
  const status = alertBox();
  const key = secretField({
    what: 'client key',
    testId: 'client-key',
    load: async () => (await get(`/console/api/apps/${seg(app.app_id)}/client-key`)).client_key,
    onRotate: async () => {
      if (!window.confirm(`Issue a new client key for ${app.name}? The old key stops working at once.`)) return;
      try {
        const rotated = await patch(`/v1/apps/${seg(app.app_id)}`, { rotate_client_key: true });
        key.replace(rotated.client_key);
        status.show('ok', 'A new client key was issued; the old one no longer works.');
      } catch (error) {
        status.show('error', error.message);
      }
    },
  });
  if (app.client_key) key.replace(app.client_key);
  const copied = h('span', { class: 'copied', role: 'status' });
  return h('section', { class: 'panel', 'aria-labelledby': `app-${app.app_id}`, 'data-app': app.app_id },
    h('h2', { id: `app-${app.app_id}` }, app.name),
    h('div', { class: 'row' }, h('span', {}, 'App id '), h('code', { 'data-testid': 'app-id' }, app.app_id),
      iconButton('copy', 'Copy app id', async () => {
        await copyText(app.app_id);
        copied.textContent = 'Copied app id';
        setTimeout(() => { copied.textContent = ''; }, 3000);
      }), copied),
    h('h3', {}, 'Client key'), key.el, status,
    h('h3', {}, 'Options'), optionsForm(app, refresh),
    h('p', {}, h('a', { href: `#/devices/${seg(app.app_id)}` }, 'Configure device attributes of this app')),
    h('button', { type: 'button', class: 'secondary', onclick: () => navigate('#/apps') }, 'Back to the list'));
}

export async function render(main, ctx, params) {
  const selected = params[0];
  const { apps } = await get('/v1/apps');
  main.append(h('div', { class: 'page-head' }, h('h1', {}, 'Apps')));
  const app = apps.find((a) => a.app_id === selected);
  if (app) {
    main.append(appPanel(app, () => { main.replaceChildren(); render(main, ctx, params); }, ctx.navigate));
    return;
  }
  const list = apps.length === 0
    ? h('p', { class: 'muted' }, 'No apps yet.')
    : table(['Name', 'App id', 'Created', 'Options', ''], apps.map((a) => h('tr', {},
      h('th', { scope: 'row' }, a.name),
      h('td', {}, h('code', {}, a.app_id)),
      h('td', {}, formatTime(a.created_at)),
      h('td', {},
        a.options.multi_user_per_device ? h('span', { class: 'badge' }, 'multi-user') : null,
        a.options.single_device_per_user ? h('span', { class: 'badge' }, 'single device') : null,
        h('span', { class: 'badge' }, `TTL ${a.options.profile_ttl_days} d`),
        a.options.jwt_required ? h('span', { class: 'badge on' }, 'JWT') : null),
      h('td', {}, h('a', { href: `#/apps/${seg(a.app_id)}`, 'aria-label': `Manage ${a.name}` }, 'Manage')))), 'Apps');
  main.append(h('section', { class: 'panel', 'aria-labelledby': 'apps-list' }, h('h2', { id: 'apps-list' }, 'Your apps'), list),
    createSection((created) => {
      main.replaceChildren();
      render(main, ctx, [created.app_id]).then(() => {
        // The key of a new app is in the creation answer: show it at once.
        const panel = main.querySelector(`[data-app="${created.app_id}"]`);
        if (panel) panel.querySelector('[data-action="view"]')?.click();
      });
    }));
}
