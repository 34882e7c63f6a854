// Overview: customers, devices by platform and status, events per minute over the last hour
// (an inline SVG bar chart), and monitor usage.

import { get } from './api.js';
import { h, svg, table } from './ui.js';

const PLATFORM_NAMES = { android: 'Android', ios: 'iOS', web: 'Web', other: 'Other' };
const STATUSES = ['active', 'unregistered', 'unknown'];

function chart(counts, firstMinute) {
  const width = 720;
  const height = 200;
  const left = 36;
  const bottom = 24;
  const top = 10;
  const peak = Math.max(1, ...counts);
  const slot = (width - left) / counts.length;
  const scale = (height - bottom - top) / peak;
  const total = counts.reduce((a, b) => a + b, 0);
  const label = `Events per minute over the last hour: ${total} in total, at most ${Math.max(0, ...counts)} in one minute.`;
  const bars = counts.map((count, i) => {
    const barHeight = count * scale;
    const minute = new Date((firstMinute + i) * 60000);
    const rect = svg('rect', {
      class: 'bar', x: (left + i * slot + 1).toFixed(1), y: (height - bottom - barHeight).toFixed(1),
      width: Math.max(1, slot - 2).toFixed(1), height: barHeight.toFixed(1),
    });
    const title = svg('title');
    title.textContent = `${minute.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}: ${count} events`;
    rect.append(title);
    return rect;
  });
  const tick = (value) => {
    const y = height - bottom - value * scale;
    const text = svg('text', { x: left - 6, y: (y + 4).toFixed(1), 'text-anchor': 'end' });
    text.textContent = String(value);
    return [svg('line', { class: 'axis', x1: left, x2: width, y1: y.toFixed(1), y2: y.toFixed(1), 'stroke-dasharray': '2 4' }), text];
  };
  const timeLabel = (i, anchor) => {
    const text = svg('text', { x: (left + i * slot).toFixed(1), y: height - 6, 'text-anchor': anchor });
    text.textContent = new Date((firstMinute + i) * 60000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    return text;
  };
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': label },
    ...tick(0), ...(peak > 1 ? tick(peak) : []), ...bars,
    svg('line', { class: 'axis', x1: left, x2: width, y1: height - bottom, y2: height - bottom }),
    timeLabel(0, 'start'), timeLabel(30, 'middle'), timeLabel(counts.length - 1, 'end'));
  return h('figure', { class: 'chart', style: null }, root,
    h('figcaption', { class: 'muted' }, label));
}

export async function render(main) {
  main.append(h('div', { class: 'page-head' }, h('h1', {}, 'Overview'),
    h('button', { type: 'button', class: 'secondary', onclick: () => { main.replaceChildren(); render(main); } }, 'Refresh')));
  const data = await get('/console/api/overview');
  const deviceTotal = Object.values(data.devices).reduce(
    (sum, byStatus) => sum + Object.values(byStatus).reduce((a, b) => a + b, 0), 0);
  const active = Object.values(data.devices).reduce((sum, byStatus) => sum + (byStatus.active || 0), 0);
  const eventsTotal = data.events_per_minute.reduce((a, b) => a + b, 0);
  main.append(h('div', { class: 'grid' },
    h('section', { class: 'panel', 'aria-labelledby': 'ov-customers' },
      h('h2', { id: 'ov-customers' }, 'Customers'), h('p', { class: 'stat', 'data-testid': 'customer-count' }, data.customers)),
    h('section', { class: 'panel', 'aria-labelledby': 'ov-devices' },
      h('h2', { id: 'ov-devices' }, 'Devices'), h('p', { class: 'stat', 'data-testid': 'device-count' }, deviceTotal),
      h('p', { class: 'muted' }, `${active} active`)),
    h('section', { class: 'panel', 'aria-labelledby': 'ov-events' },
      h('h2', { id: 'ov-events' }, 'Events, last hour'), h('p', { class: 'stat' }, eventsTotal))));

  const platforms = Object.keys(data.devices).sort();
  main.append(h('section', { class: 'panel', 'aria-labelledby': 'ov-platforms' },
    h('h2', { id: 'ov-platforms' }, 'Devices by platform and status'),
    platforms.length === 0
      ? h('p', { class: 'muted' }, 'No devices yet.')
      : table(['Platform', ...STATUSES.map((s) => s[0].toUpperCase() + s.slice(1)), 'Total'],
        platforms.map((platform) => {
          const byStatus = data.devices[platform];
          const total = Object.values(byStatus).reduce((a, b) => a + b, 0);
          return h('tr', {}, h('th', { scope: 'row' }, PLATFORM_NAMES[platform] || platform),
            STATUSES.map((s) => h('td', {}, byStatus[s] || 0)), h('td', {}, total));
        }), 'Devices by platform and status')));

  main.append(h('section', { class: 'panel', 'aria-labelledby': 'ov-chart' },
    h('h2', { id: 'ov-chart' }, 'Events per minute'), chart(data.events_per_minute, data.first_minute)));

  const used = data.monitor_usage.filter((m) => m.devices > 0);
  const most = Math.max(1, ...data.monitor_usage.map((m) => m.devices));
  main.append(h('section', { class: 'panel', 'aria-labelledby': 'ov-monitors' },
    h('h2', { id: 'ov-monitors' }, 'Monitor usage'),
    h('p', { class: 'muted' }, 'How many devices reported each monitored attribute.'),
    used.length === 0
      ? h('p', { class: 'muted' }, 'No device has reported a monitored attribute yet.')
      : table(['Attribute', 'Devices', ''], used.map((m) => {
        const bar = h('span');
        bar.style.width = `${Math.round((m.devices / most) * 100)}%`;
        return h('tr', {}, h('th', { scope: 'row' }, m.display_name, ' ', h('code', {}, m.attribute)),
          h('td', {}, m.devices), h('td', {}, h('div', { class: 'meter', 'aria-hidden': 'true' }, bar)));
      }), 'Monitor usage')));
}
