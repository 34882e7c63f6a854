// Profiles: find customers by customerId, e-mail, MSISDN or a unique attribute; a customer's
// page with its attributes (editable, validated by the server), its linked devices with their
// device attributes, and its recent events.

import { ApiError, get, patch, seg } from './api.js';
import { h, field, setFieldError, alertBox, formatTime, table, uid } from './ui.js';

function searchForm(ctx, results, uniques) {
  const by = field('Find by', h('select', { name: 'by' },
    h('option', { value: 'customerId' }, 'customerId'),
    h('option', { value: 'email' }, 'E-mail'),
    h('option', { value: 'msisdn' }, 'MSISDN'),
    uniques.map((name) => h('option', { value: name }, `${name} (unique attribute)`))));
  const value = field('Value', h('input', { type: 'search', name: 'q', autocomplete: 'off' }));
  const form = h('form', { role: 'search', onsubmit: async (event) => {
    event.preventDefault();
    setFieldError(value, '');
    const q = value.input.value.trim();
    if (!q) { setFieldError(value, 'Enter a value to look for'); return; }
    results.replaceChildren();
    try {
      let customers;
      if (by.input.value === 'customerId') {
        try {
          customers = [await get(`/v1/customers/${seg(q)}`)];
        } catch (error) {
          if (error instanceof ApiError && error.status === 404) customers = [];
          else throw error;
        }
      } else {
        customers = (await get(`/v1/customers?${new URLSearchParams({ [by.input.value]: q })}`)).customers;
      }
      if (customers.length === 1 && by.input.value === 'customerId') {
        ctx.navigate(`#/profiles/${seg(customers[0].customer_id)}`);
        return;
      }
      results.append(customers.length === 0
        ? h('p', { role: 'status' }, 'No customer found.')
        : h('ul', { role: 'status' }, customers.map((c) => h('li', {},
          h('a', { href: `#/profiles/${seg(c.customer_id)}` }, c.customer_id),
          ' ', c.attributes.name || '', ' ', c.attributes.email ? `<${c.attributes.email}>` : ''))));
    } catch (error) {
      setFieldError(value, error instanceof ApiError && error.fields.length ? error.fields[0].message : error.message);
    }
  } }, h('div', { class: 'form-grid' }, by.wrap, value.wrap), h('button', { type: 'submit' }, 'Search'));
  return form;
}

function display(value) {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return JSON.stringify(value);
  return String(value);
}

function attributeRows(customer, reload) {
  return Object.entries(customer.attributes).sort(([a], [b]) => a.localeCompare(b)).map(([name, value]) => {
    const cell = h('td', {});
    const row = h('tr', { 'data-attribute': name }, h('th', { scope: 'row' }, h('code', {}, name)), cell);
    function show() {
      cell.replaceChildren(h('span', { 'data-testid': 'value' }, display(value)), ' ',
        h('button', { type: 'button', class: 'secondary', 'aria-label': `Edit ${name}`, 'data-action': 'edit', onclick: edit }, 'Edit'));
    }
    function edit() {
      const input = field(`New value of ${name}`, h('input', { type: 'text', name, value: display(value) }),
        'Empty clears the attribute.');
      const form = h('form', { onsubmit: async (event) => {
        event.preventDefault();
        setFieldError(input, '');
        const raw = input.input.value;
        let next = raw === '' ? null : raw;
        if (Array.isArray(value) && raw.trim().startsWith('[')) {
          try { next = JSON.parse(raw); } catch { /* sent as text; the server says what is wrong */ }
        }
        try {
          await patch(`/console/api/customers/${seg(customer.customer_id)}`, { attributes: { [name]: next } });
          reload();
        } catch (error) {
          setFieldError(input, error instanceof ApiError ? error.fieldMessage(name) || error.message : error.message);
          input.input.focus();
        }
      } }, input.wrap, h('div', { class: 'row' },
        h('button', { type: 'submit', 'data-action': 'save' }, 'Save'),
        h('button', { type: 'button', class: 'secondary', onclick: show }, 'Cancel')));
      cell.replaceChildren(form);
      input.input.focus();
    }
    show();
    return row;
  });
}

function addAttributeForm(customer, names, reload) {
  const listId = uid('names');
  const name = field('Attribute', h('input', { type: 'text', name: 'name', list: listId, autocomplete: 'off' }));
  const value = field('Value', h('input', { type: 'text', name: 'value' }));
  const form = h('form', { 'data-testid': 'add-customer-attribute', onsubmit: async (event) => {
    event.preventDefault();
    setFieldError(name, '');
    setFieldError(value, '');
    const attribute = name.input.value.trim();
    if (!attribute) { setFieldError(name, 'Name the attribute'); return; }
    try {
      await patch(`/console/api/customers/${seg(customer.customer_id)}`, { attributes: { [attribute]: value.input.value } });
      reload();
    } catch (error) {
      const message = error instanceof ApiError ? error.fieldMessage(attribute) : null;
      if (message) setFieldError(value, message);
      else setFieldError(name, error.message);
    }
  } }, h('datalist', { id: listId }, names.map((n) => h('option', { value: n }))),
  h('div', { class: 'form-grid' }, name.wrap, value.wrap), h('button', { type: 'submit' }, 'Set attribute'));
  return form;
}

function deviceCard(device, monitored) {
  const a = device.attributes;
  const platform = a.channelType || a.os || '';
  const keys = Object.keys(a).sort();
  return h('article', { class: 'device', 'aria-label': `Device ${device.device_id}` },
    h('h3', {}, device.app_name || device.app_id, ' · ', platform),
    h('dl', { class: 'kv' },
      h('dt', {}, 'App id'), h('dd', {}, h('code', {}, device.app_id)),
      h('dt', {}, 'userId'), h('dd', {}, device.user_id),
      h('dt', {}, 'deviceId'), h('dd', {}, device.device_id),
      h('dt', {}, 'Status'), h('dd', {}, a.status === '2' ? 'unregistered' : 'active'),
      h('dt', {}, 'Updated'), h('dd', {}, formatTime(device.updated_at))),
    h('details', {}, h('summary', {}, `Device attributes (${keys.length})`),
      h('dl', { class: 'kv' }, keys.map((k) => [
        h('dt', {}, monitored.has(k) ? h('strong', {}, k) : k), h('dd', {}, a[k])]))));
}

function eventItem(event) {
  const changes = (event.changes || []).map((c) => `${c.attribute}: ${display(c.old) || '∅'} → ${display(c.new) || '∅'}`);
  return h('li', {}, h('span', {}, h('span', { class: 'badge' }, event.type), ' ', h('span', { class: 'when' }, formatTime(event.occurred_at), ` · seq ${event.seq}`)),
    changes.length ? h('span', { class: 'muted' }, changes.join('; ')) : null);
}

async function customerPage(main, ctx, id) {
  main.append(h('div', { class: 'page-head' }, h('h1', {}, 'Customer ', h('code', {}, id)),
    h('a', { href: '#/profiles' }, 'Find another customer')));
  let customer;
  try {
    customer = await get(`/v1/customers/${seg(id)}`);
  } catch (error) {
    main.append(h('div', { class: 'alert error', role: 'alert' }, error.status === 404 ? 'No such customer.' : error.message));
    return;
  }
  const reload = () => { main.replaceChildren(); customerPage(main, ctx, id); };
  const [{ devices }, { events }, { attributes: schema }, catalogue] = await Promise.all([
    get(`/console/api/customers/${seg(id)}/devices`),
    get(`/console/api/customers/${seg(id)}/events`),
    get('/v1/customer-attributes'),
    get('/v1/device-attributes'),
  ]);
  const monitored = new Set(catalogue.attributes.map((a) => a.key));
  const writable = ['name', 'email', 'msisdn', ...schema.filter((a) => !a.retired).map((a) => a.name)];
  main.append(
    h('section', { class: 'panel', 'aria-labelledby': 'c-attrs' },
      h('h2', { id: 'c-attrs' }, 'Attributes'),
      h('p', { class: 'muted' }, `Version ${customer.version} · created ${formatTime(customer.created_at)} · updated ${formatTime(customer.updated_at)}`),
      table(['Attribute', 'Value'], attributeRows(customer, reload), 'Attributes'),
      h('h3', {}, 'Set an attribute'), addAttributeForm(customer, writable, reload)),
    h('section', { class: 'panel', 'aria-labelledby': 'c-devices' },
      h('h2', { id: 'c-devices' }, `Linked devices (${devices.length})`),
      devices.length === 0 ? h('p', { class: 'muted' }, 'No linked devices.')
        : h('div', { class: 'grid' }, devices.map((d) => deviceCard(d, monitored)))),
    h('section', { class: 'panel', 'aria-labelledby': 'c-events' },
      h('h2', { id: 'c-events' }, 'Recent events'),
      events.length === 0 ? h('p', { class: 'muted' }, 'No recent events.')
        : h('ul', { class: 'feed' }, events.map(eventItem))));
}

export async function render(main, ctx, params) {
  if (params[0]) {
    await customerPage(main, ctx, params.join('/'));
    return;
  }
  const { attributes } = await get('/v1/customer-attributes');
  const uniques = attributes.filter((a) => a.unique && !a.retired).map((a) => a.name);
  const results = h('div', { 'aria-live': 'polite' });
  main.append(h('div', { class: 'page-head' }, h('h1', {}, 'Profiles')),
    h('section', { class: 'panel', 'aria-labelledby': 'find' }, h('h2', { id: 'find' }, 'Find a customer'),
      searchForm(ctx, results, uniques), results));
}
