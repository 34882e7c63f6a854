// Device attributes: per app, one card per platform (iOS, Android, Web). Hovering a card (or
// focusing into it) shows its Configure button, which opens the editor: the SDK version band,
// then One-time, Event-based and Interval-based monitors listing exactly what the catalogue
// offers for that platform and band, with toggles (and the interval of interval monitors).
// Save replaces the app's policy (PUT /v1/apps/{appId}/device-policy); verifyPolicy serves it.

import { ApiError, get, put, seg } from './api.js';
import { h, alertBox, uid, PLATFORMS } from './ui.js';

const CATEGORIES = [
  { key: 'one_time', title: 'One-time monitors', hint: 'Captured once, right after registration.' },
  { key: 'event', title: 'Event-based monitors', hint: 'Captured every time the event occurs on the device.' },
  { key: 'interval', title: 'Interval-based monitors', hint: 'Captured at the interval you set.' },
];
const BANDS = [
  { key: '2.12+', title: 'SDK 2.12 and higher' },
  { key: '2.11-', title: 'SDK 2.11.x and lower' },
];
const DEFAULT_INTERVAL_MINUTES = 60;

function summary(monitors) {
  if (monitors.length === 0) return null;
  return h('ul', {}, CATEGORIES.map((c) => {
    const n = monitors.filter((m) => m.category === c.key).length;
    return n ? h('li', {}, `${c.title}: ${n}`) : null;
  }));
}

function editor({ app, platform, policy, catalogue, onSaved }) {
  const names = Object.fromEntries(catalogue.attributes.map((a) => [a.key, a.display_name]));
  // attribute → monitor, for this platform: an attribute is enabled at most once.
  const enabled = new Map(policy[platform.key].map((m) => [m.attribute, { ...m }]));
  let band = BANDS[0].key;
  const body = h('div', { class: 'editor-body' });
  const status = alertBox();
  const dialog = h('dialog', { class: 'editor', 'aria-labelledby': 'editor-title', 'data-platform': platform.key });

  function monitorRow(attribute, category) {
    const id = uid('mon');
    const current = enabled.get(attribute);
    const on = Boolean(current && current.category === category);
    const toggle = h('input', { type: 'checkbox', role: 'switch', id, checked: on, 'data-attribute': attribute, 'data-category': category });
    const row = h('div', { class: 'monitor' },
      h('label', { class: 'check', for: id }, toggle, names[attribute] || attribute, ' ', h('code', { class: 'muted' }, attribute)));
    let minutes = null;
    if (category === 'interval') {
      minutes = h('input', { type: 'number', min: 1, max: 10080, step: 1, id: `${id}-every`, 'data-interval-for': attribute,
        value: on && current.interval_seconds ? Math.round(current.interval_seconds / 60) : DEFAULT_INTERVAL_MINUTES,
        disabled: !on });
      minutes.addEventListener('input', () => {
        const m = enabled.get(attribute);
        if (m) m.interval_seconds = Math.round(Number(minutes.value) * 60);
      });
      row.append(h('span', { class: 'interval' }, h('label', { for: `${id}-every`, class: 'check' }, 'every'), minutes, 'minutes'));
    }
    toggle.addEventListener('change', () => {
      if (toggle.checked) {
        const monitor = { attribute, category };
        if (category === 'interval') monitor.interval_seconds = Math.round(Number(minutes.value || DEFAULT_INTERVAL_MINUTES) * 60);
        enabled.set(attribute, monitor);
      } else {
        enabled.delete(attribute);
      }
      if (minutes) minutes.disabled = !toggle.checked;
    });
    return row;
  }

  function draw() {
    const offer = catalogue.offers.find((o) => o.platform === platform.key && o.sdk_band === band);
    const bandGroup = h('fieldset', { class: 'band' }, h('legend', {}, 'SDK version'),
      BANDS.map((b) => {
        const id = uid('band');
        const radio = h('input', { type: 'radio', name: 'band', id, value: b.key, checked: b.key === band,
          onchange: () => { band = b.key; draw(); body.querySelector(`input[value="${b.key}"]`)?.focus(); } });
        return h('label', { class: 'check', for: id }, radio, b.title);
      }));
    body.replaceChildren(bandGroup, ...CATEGORIES.map((c) => {
      const attributes = offer ? offer[c.key] : [];
      return h('fieldset', { 'data-category': c.key },
        h('legend', {}, c.title),
        h('p', { class: 'muted' }, c.hint),
        attributes.length === 0
          ? h('p', { class: 'muted' }, `None for ${platform.name} with ${BANDS.find((b) => b.key === band).title}.`)
          : attributes.map((attribute) => monitorRow(attribute, c.key)));
    }), status);
  }

  async function save() {
    status.hide();
    const next = { ...policy, [platform.key]: [...enabled.values()] };
    try {
      const saved = await put(`/v1/apps/${seg(app.app_id)}/device-policy`, next);
      dialog.close();
      onSaved(saved);
    } catch (error) {
      const detail = error instanceof ApiError && error.fields.length
        ? error.fields.map((f) => `${f.field}: ${f.message}`).join('; ') : error.message;
      status.show('error', `Not saved: ${detail}`);
    }
  }

  draw();
  dialog.append(
    h('div', { class: 'editor-head' }, h('h2', { id: 'editor-title' }, `Configure ${platform.name} monitors`),
      h('span', { class: 'muted' }, app.name)),
    body,
    h('div', { class: 'editor-foot' },
      h('button', { type: 'button', class: 'secondary', onclick: () => dialog.close() }, 'Cancel'),
      h('button', { type: 'button', onclick: save, 'data-action': 'save-policy' }, 'Save')));
  dialog.addEventListener('close', () => dialog.remove());
  return dialog;
}

export async function render(main, ctx, params) {
  const [{ apps }, catalogue] = await Promise.all([get('/v1/apps'), get('/v1/device-attributes')]);
  main.append(h('div', { class: 'page-head' }, h('h1', {}, 'Device attributes')));
  if (apps.length === 0) {
    main.append(h('div', { class: 'panel' }, h('p', {}, 'Create an app first: ', h('a', { href: '#/apps' }, 'Apps'), '.')));
    return;
  }
  const app = apps.find((a) => a.app_id === params[0]) || apps[0];
  const pickerId = uid('app');
  const picker = h('select', { id: pickerId, onchange: () => ctx.navigate(`#/devices/${seg(picker.value)}`) },
    apps.map((a) => h('option', { value: a.app_id, selected: a.app_id === app.app_id }, `${a.name} (${a.app_id})`)));
  main.append(h('div', { class: 'field' }, h('label', { for: pickerId }, 'App'), picker),
    h('p', { class: 'muted' }, 'Hover over a platform and choose Configure to pick the attributes its SDK monitors.'));
  const status = alertBox();
  const cards = h('div', { class: 'platforms' });
  main.append(status, cards);

  let policy = await get(`/v1/apps/${seg(app.app_id)}/device-policy`);
  function drawCards() {
    cards.replaceChildren(...PLATFORMS.map((platform) => {
      const monitors = policy[platform.key] || [];
      const configure = h('button', { type: 'button', class: 'configure', 'data-action': 'configure', 'aria-label': `Configure ${platform.name}`,
        onclick: () => {
          const dialog = editor({
            app, platform, policy, catalogue,
            onSaved: (saved) => {
              policy = saved;
              drawCards();
              status.show('ok', `${platform.name} monitors saved: SDKs receive them at their next verifyPolicy.`);
            },
          });
          document.body.append(dialog);
          dialog.showModal();
        } }, 'Configure');
      return h('section', { class: 'platform-card', 'data-platform': platform.key, 'aria-label': `${platform.name} monitors` },
        h('div', { class: 'platform-name' }, platform.name),
        h('p', { class: 'muted', 'data-testid': 'monitor-count' }, `${monitors.length} monitor${monitors.length === 1 ? '' : 's'} enabled`),
        summary(monitors), configure);
    }));
  }
  drawCards();
  return () => document.querySelectorAll('dialog.editor').forEach((d) => d.remove());
}
