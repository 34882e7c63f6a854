// Small DOM helpers shared by the pages. Text is always set as text (never parsed as HTML),
// so values from the store cannot inject markup.

let nextId = 0;
export const uid = (prefix = 'f') => `${prefix}-${++nextId}`;

/** h('button', {class: 'x', onclick: fn}, 'text', child...) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'value') el.value = value;
    else if (key === 'checked') el.checked = Boolean(value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

const SVG = 'http://www.w3.org/2000/svg';

export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  for (const child of children.flat()) if (child) el.append(child);
  return el;
}

const ICONS = {
  eye: ['M1 12s4-7 11-7 11 7 11 7-4 7-11 7S1 12 1 12z', 'M12 9a3 3 0 1 0 0 6 3 3 0 0 0 0-6z'],
  eyeOff: ['M17.9 17.9A10.4 10.4 0 0 1 12 19c-7 0-11-7-11-7a18.5 18.5 0 0 1 5.1-5.9', 'M9.9 4.2A9.7 9.7 0 0 1 12 4c7 0 11 8 11 8a18.6 18.6 0 0 1-2.2 3.2', 'M1 1l22 22', 'M14.1 14.1a3 3 0 1 1-4.2-4.2'],
  copy: ['M9 9h11v11H9z', 'M5 15H4V4h11v1'],
  rotate: ['M23 4v6h-6', 'M20.5 15a9 9 0 1 1-2.1-9.4L23 10'],
  check: ['M20 6L9 17l-5-5'],
  menu: ['M3 6h18', 'M3 12h18', 'M3 18h18'],
  close: ['M18 6L6 18', 'M6 6l12 12'],
};

export function icon(name) {
  return svg('svg', { class: 'icon', viewBox: '0 0 24 24', 'aria-hidden': 'true', focusable: 'false' },
    ...(ICONS[name] || []).map((d) => svg('path', { d })));
}

/** An icon-only button; `label` is what assistive technology announces (and the tooltip). */
export function iconButton(name, label, onclick, extra = {}) {
  return h('button', { type: 'button', class: 'icon', 'aria-label': label, title: label, onclick, ...extra }, icon(name));
}

/** A labelled form field: returns {wrap, input, error}; the error sits beside the input. */
export function field(labelText, input, hint) {
  const id = input.id || uid();
  input.id = id;
  const error = h('div', { class: 'field-error', id: `${id}-error`, role: 'alert' });
  const described = [`${id}-error`];
  let hintEl = null;
  if (hint) {
    hintEl = h('div', { class: 'hint', id: `${id}-hint` }, hint);
    described.push(`${id}-hint`);
  }
  input.setAttribute('aria-describedby', described.join(' '));
  const wrap = h('div', { class: 'field' }, h('label', { for: id }, labelText), input, hintEl, error);
  return { wrap, input, error };
}

export function checkbox(labelText, checked, attrs = {}) {
  const input = h('input', { type: 'checkbox', checked, ...attrs });
  const wrap = h('label', { class: 'check' }, input, labelText);
  return { wrap, input };
}

export function setFieldError(f, message) {
  f.error.textContent = message || '';
  if (message) f.input.setAttribute('aria-invalid', 'true');
  else f.input.removeAttribute('aria-invalid');
}

/** An alert region for a form's general errors or confirmations. */
export function alertBox() {
  const box = h('div', { class: 'alert', role: 'status', 'aria-live': 'polite' });
  box.show = (kind, message) => {
    box.className = `alert ${kind}`;
    box.textContent = message || '';
  };
  box.hide = () => { box.className = 'alert'; box.textContent = ''; };
  return box;
}

/** Writes text to the clipboard (the async Clipboard API, or the old selection copy). */
export async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const area = h('textarea', { readonly: true, class: 'visually-hidden' });
  area.value = text;
  document.body.append(area);
  area.select();
  const ok = document.execCommand('copy');
  area.remove();
  if (!ok) throw new Error('the browser refused to copy');
}

const MASK = '•'.repeat(24);

/**
 * A secret shown masked, with a "view" icon that reveals it, a "copy" icon that copies it (with
 * a visible confirmation) and, optionally, a "rotate" icon. `load()` fetches the secret the
 * first time it is needed; `what` names it for labels ("profile key").
 */
export function secretField({ what, load, onRotate, testId }) {
  let value = null;
  let shown = false;
  const text = h('span', { class: 'secret-value', 'data-testid': testId, 'aria-label': `${what}, hidden` }, MASK);
  const confirm = h('span', { class: 'copied', role: 'status', 'aria-live': 'polite', 'data-testid': testId && `${testId}-copied` });
  const alert = alertBox();
  async function secret() {
    if (value === null) value = await load();
    return value;
  }
  function render() {
    text.textContent = shown ? value : MASK;
    text.setAttribute('aria-label', shown ? what : `${what}, hidden`);
    view.replaceChildren(icon(shown ? 'eyeOff' : 'eye'));
    view.setAttribute('aria-label', shown ? `Hide ${what}` : `View ${what}`);
    view.title = view.getAttribute('aria-label');
    view.setAttribute('aria-pressed', String(shown));
  }
  const view = iconButton('eye', `View ${what}`, async () => {
    try {
      await secret();
      shown = !shown;
      render();
      alert.hide();
    } catch (error) {
      alert.show('error', `Could not load the ${what}: ${error.message}`);
    }
  }, { 'aria-pressed': 'false', 'data-action': 'view' });
  let timer = null;
  const copy = iconButton('copy', `Copy ${what}`, async () => {
    try {
      await copyText(await secret());
      confirm.textContent = `Copied ${what} to the clipboard`;
      clearTimeout(timer);
      timer = setTimeout(() => { confirm.textContent = ''; }, 4000);
      alert.hide();
    } catch (error) {
      alert.show('error', `Could not copy: ${error.message}`);
    }
  }, { 'data-action': 'copy' });
  const buttons = [view, copy];
  if (onRotate) buttons.push(iconButton('rotate', `Rotate ${what}`, onRotate, { 'data-action': 'rotate' }));
  const el = h('div', {}, h('div', { class: 'secret' }, text, ...buttons, confirm), alert);
  return {
    el,
    /** Shows a new secret (after a rotation), revealed. */
    replace(newValue) {
      value = newValue;
      shown = true;
      render();
    },
  };
}

export function formatTime(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleString();
}

export function table(headers, rows, caption) {
  return h('div', { class: 'table-wrap' },
    h('table', {},
      caption ? h('caption', { class: 'visually-hidden' }, caption) : null,
      h('thead', {}, h('tr', {}, headers.map((text) => h('th', { scope: 'col' }, text)))),
      h('tbody', {}, rows)));
}

export const PLATFORMS = [
  { key: 'ios', name: 'iOS' },
  { key: 'android', name: 'Android' },
  { key: 'web', name: 'Web' },
];
