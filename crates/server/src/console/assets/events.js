// Live events: the tenant's change events as they are committed, from the native API's SSE
// stream (/v1/events/stream, authenticated by the session cookie), filterable by type. The
// browser's EventSource reconnects by itself and resumes after the last event it received.

import { h, checkbox, formatTime } from './ui.js';

const TYPES = [
  'customer.created', 'customer.updated', 'customer.deleted',
  'app_profile.registered', 'app_profile.updated', 'app_profile.linked',
  'app_profile.unlinked', 'app_profile.unregistered', 'app_profile.deleted',
];
/** Entries kept on the page; older ones are dropped. */
const KEEP = 200;

function subject(event) {
  const s = event.subject || {};
  if (s.customer_id) return `customer ${s.customer_id}`;
  return `app ${s.app_id} · user ${s.user_id} · device ${s.device_id}`;
}

function display(value) {
  if (value === null || value === undefined) return '∅';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function entry(event) {
  const changes = (event.changes || []).map((c) => `${c.attribute}: ${display(c.old)} → ${display(c.new)}`);
  return h('li', { 'data-type': event.type, 'data-seq': event.seq },
    h('span', {}, h('span', { class: 'badge' }, event.type), ' ', h('strong', {}, subject(event))),
    h('span', { class: 'when' }, formatTime(event.occurred_at), ` · seq ${event.seq}`,
      event.device_event ? ` · ${event.device_event}` : ''),
    changes.length ? h('span', { class: 'muted' }, changes.join('; ')) : null);
}

export async function render(main) {
  let source = null;
  let paused = false;
  const feed = h('ul', { class: 'feed', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions', 'data-testid': 'feed' });
  const empty = h('p', { class: 'muted' }, 'Waiting for events… Changes made from now on appear here.');
  const dot = h('span', { class: 'status-dot', 'aria-hidden': 'true' });
  const state = h('span', { role: 'status', 'data-testid': 'stream-state' }, 'Connecting…');
  const boxes = TYPES.map((type) => ({ type, ...checkbox(type, false, { name: 'type', value: type }) }));

  function connect() {
    if (source) source.close();
    const chosen = boxes.filter((b) => b.input.checked).map((b) => b.type);
    const query = chosen.length ? `?${new URLSearchParams({ type: chosen.join(',') })}` : '';
    source = new EventSource(`/v1/events/stream${query}`, { withCredentials: true });
    state.textContent = 'Connecting…';
    dot.classList.remove('live');
    source.onopen = () => { state.textContent = chosen.length ? `Live: ${chosen.join(', ')}` : 'Live: every type'; dot.classList.add('live'); };
    source.onerror = () => { state.textContent = 'Disconnected; reconnecting…'; dot.classList.remove('live'); };
    source.onmessage = (message) => {
      if (paused) return;
      let event;
      try { event = JSON.parse(message.data); } catch { return; }
      empty.remove();
      feed.prepend(entry(event));
      while (feed.children.length > KEEP) feed.lastElementChild.remove();
    };
  }
  for (const b of boxes) b.input.addEventListener('change', connect);

  const pause = h('button', { type: 'button', class: 'secondary', 'aria-pressed': 'false', onclick: () => {
    paused = !paused;
    pause.setAttribute('aria-pressed', String(paused));
    pause.textContent = paused ? 'Resume' : 'Pause';
  } }, 'Pause');
  main.append(h('div', { class: 'page-head' }, h('h1', {}, 'Live events'), h('span', { class: 'row' }, dot, state)),
    h('section', { class: 'panel' },
      h('fieldset', {}, h('legend', {}, 'Show only these types (none checked: every type)'),
        h('div', { class: 'form-grid' }, boxes.map((b) => b.wrap))),
      h('div', { class: 'row' }, pause,
        h('button', { type: 'button', class: 'secondary', onclick: () => { feed.replaceChildren(); } }, 'Clear'))),
    h('section', { class: 'panel', 'aria-label': 'Events' }, empty, feed));
  connect();
  return () => { if (source) source.close(); };
}
