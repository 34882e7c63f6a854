// Tenant Settings: the profile key (masked; view, copy, rotate with a grace period), the IP
// allow list and the rate limit.

import { ApiError, get, post, put } from './api.js';
import { h, field, setFieldError, alertBox, secretField, formatTime } from './ui.js';

const GRACE_CHOICES = [
  [0, 'None: the old key stops at once'],
  [60, '1 minute'],
  [3600, '1 hour'],
  [86400, '24 hours'],
  [604800, '7 days'],
];

function keySection(settings) {
  const status = alertBox();
  let key = null;
  const secret = secretField({
    what: 'profile key',
    testId: 'profile-key',
    load: async () => (await get('/console/api/tenant/profile-key')).profile_key,
    onRotate: () => {
      rotateForm.hidden = !rotateForm.hidden;
      if (!rotateForm.hidden) grace.input.focus();
    },
  });
  const grace = field('Grace period for the old key', h('select', { name: 'grace' },
    GRACE_CHOICES.map(([seconds, text]) => h('option', { value: seconds }, text)),
    h('option', { value: 'custom' }, 'Other (in seconds)…')),
  'Clients using the old key keep working until the grace period ends.');
  const custom = field('Grace period in seconds', h('input', { type: 'number', name: 'grace_seconds', min: 0, max: 2592000, step: 1 }),
    'From 0 to 2,592,000 (30 days).');
  custom.wrap.hidden = true;
  grace.input.addEventListener('change', () => {
    custom.wrap.hidden = grace.input.value !== 'custom';
    if (!custom.wrap.hidden) custom.input.focus();
  });
  const rotateForm = h('form', { hidden: true, novalidate: true, class: 'panel', onsubmit: async (event) => {
    event.preventDefault();
    setFieldError(grace, '');
    setFieldError(custom, '');
    const seconds = Number(grace.input.value === 'custom' ? custom.input.value : grace.input.value);
    if (grace.input.value === 'custom' && (custom.input.value === '' || !Number.isInteger(seconds) || seconds < 0)) {
      setFieldError(custom, 'A whole number of seconds, 0 or more');
      return;
    }
    try {
      key = await post('/console/api/tenant/profile-key/rotate', { grace_seconds: seconds });
      secret.replace(key.profile_key);
      rotateForm.hidden = true;
      status.show('ok', `A new profile key was issued. Older keys stop working ${key.older_keys_retire_at ? `at ${formatTime(key.older_keys_retire_at)}` : 'now'}.`);
    } catch (error) {
      const target = grace.input.value === 'custom' ? custom : grace;
      setFieldError(target, error instanceof ApiError ? error.fieldMessage('grace_seconds') || error.message : error.message);
    }
  } },
  h('h3', {}, 'Rotate the profile key'), grace.wrap, custom.wrap,
  h('div', { class: 'row' },
    h('button', { type: 'submit', class: 'danger', 'data-action': 'confirm-rotate' }, 'Issue a new key'),
    h('button', { type: 'button', class: 'secondary', onclick: () => { rotateForm.hidden = true; } }, 'Cancel')));
  return h('section', { class: 'panel', 'aria-labelledby': 'key-title' },
    h('h2', { id: 'key-title' }, 'Profile key'),
    h('p', { class: 'muted' }, 'Send it as the key header (compatible API) or Authorization: Bearer (native API). Keep it secret.'),
    secret.el, status, rotateForm,
    h('p', { class: 'muted' }, `Tenant ${settings.name} · id `, h('code', {}, settings.tenant_id), ` · ProfileID ${settings.store_number}`));
}

function allowListSection(settings) {
  const list = field('Allowed addresses', h('textarea', { name: 'allowed_ips', rows: 4, spellcheck: 'false' }),
    'One IP address or CIDR block per line. Empty: every address is allowed.');
  list.input.value = settings.allowed_ips.join('\n');
  const status = alertBox();
  const form = h('form', { onsubmit: async (event) => {
    event.preventDefault();
    setFieldError(list, '');
    const entries = list.input.value.split('\n').map((s) => s.trim()).filter(Boolean);
    try {
      const saved = await put('/console/api/tenant/allowed-ips', { allowed_ips: entries });
      list.input.value = saved.allowed_ips.join('\n');
      status.show('ok', saved.allowed_ips.length ? `Saved: ${saved.allowed_ips.length} entries.` : 'Saved: every address is allowed.');
    } catch (error) {
      status.hide();
      const message = error instanceof ApiError && error.fields.length ? error.fields.map((f) => f.message).join('; ') : error.message;
      setFieldError(list, message);
    }
  } }, list.wrap, h('button', { type: 'submit' }, 'Save allow list'), status);
  return h('section', { class: 'panel', 'aria-labelledby': 'ip-title' },
    h('h2', { id: 'ip-title' }, 'IP allow list'),
    h('p', { class: 'muted' }, 'While the list is not empty, API calls with this tenant\'s keys from other addresses are refused.'),
    form);
}

function rateLimitSection(settings) {
  const effective = settings.rate_limit || settings.default_rate_limit;
  const describe = effective ? `${effective} requests per second` : 'unlimited';
  if (!settings.can_set_rate_limit) {
    return h('section', { class: 'panel', 'aria-labelledby': 'rate-title' },
      h('h2', { id: 'rate-title' }, 'Rate limit'),
      h('p', {}, `API calls for this tenant: ${describe}${settings.rate_limit ? '' : ' (the server default)'}.`),
      h('p', { class: 'muted' }, 'An operator changes it.'));
  }
  const limit = field('Requests per second', h('input', { type: 'number', min: 0, step: 1, name: 'rate_limit', value: settings.rate_limit }),
    `0 uses the server default (${settings.default_rate_limit || 'unlimited'}).`);
  const status = alertBox();
  const form = h('form', { novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    setFieldError(limit, '');
    const value = Number(limit.input.value);
    if (!Number.isInteger(value) || value < 0) {
      setFieldError(limit, 'A whole number, 0 or more');
      return;
    }
    try {
      await put('/console/api/tenant/rate-limit', { requests_per_second: value });
      status.show('ok', 'Saved.');
    } catch (error) {
      setFieldError(limit, error.message);
    }
  } }, limit.wrap, h('button', { type: 'submit' }, 'Save rate limit'), status);
  return h('section', { class: 'panel', 'aria-labelledby': 'rate-title' },
    h('h2', { id: 'rate-title' }, 'Rate limit'), h('p', { class: 'muted' }, `Now: ${describe}.`), form);
}

export async function render(main) {
  const settings = await get('/console/api/tenant');
  main.append(h('div', { class: 'page-head' }, h('h1', {}, 'Tenant Settings')),
    keySection(settings), allowListSection(settings), rateLimitSection(settings));
}
