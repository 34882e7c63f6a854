// Customer attributes: the tenant's schema registry (/v1/customer-attributes): the list, adding
// one with its type and constraints, and retiring one. The API's validation errors are shown
// beside the field they name.

import { ApiError, get, post, del, seg } from './api.js';
import { h, field, checkbox, setFieldError, alertBox, table } from './ui.js';

const TYPES = ['string', 'integer', 'decimal', 'boolean', 'date', 'datetime', 'email', 'msisdn', 'enum', 'list'];
// Which constraint fields each type takes (the API refuses the others, naming them).
const CONSTRAINTS = {
  values: ['enum'],
  min: ['integer', 'decimal', 'date', 'datetime'],
  max: ['integer', 'decimal', 'date', 'datetime'],
  min_length: ['string'],
  max_length: ['string'],
  pattern: ['string'],
  max_items: ['list'],
};
const INTEGER_FIELDS = ['min_length', 'max_length', 'max_items'];

function constraintsOf(attribute) {
  const parts = [];
  if (attribute.values) parts.push(`one of ${attribute.values.join(', ')}`);
  if (attribute.min !== undefined && attribute.min !== null) parts.push(`min ${attribute.min}`);
  if (attribute.max !== undefined && attribute.max !== null) parts.push(`max ${attribute.max}`);
  if (attribute.min_length != null) parts.push(`length ≥ ${attribute.min_length}`);
  if (attribute.max_length != null) parts.push(`length ≤ ${attribute.max_length}`);
  if (attribute.pattern) parts.push(`pattern ${attribute.pattern}`);
  if (attribute.max_items != null) parts.push(`≤ ${attribute.max_items} items`);
  if (attribute.default !== undefined && attribute.default !== null) parts.push(`default ${JSON.stringify(attribute.default)}`);
  return parts.join('; ');
}

function addForm(onAdded) {
  const fields = {
    name: field('Name', h('input', { type: 'text', name: 'name', autocomplete: 'off', maxlength: 64 }),
      'A letter or _, then letters, digits, _, - or .'),
    type: field('Type', h('select', { name: 'type' }, TYPES.map((t) => h('option', { value: t }, t)))),
    description: field('Description', h('input', { type: 'text', name: 'description' })),
    values: field('Values', h('input', { type: 'text', name: 'values' }), 'Comma-separated, for enum attributes.'),
    min: field('Minimum', h('input', { type: 'text', name: 'min' })),
    max: field('Maximum', h('input', { type: 'text', name: 'max' })),
    min_length: field('Minimum length', h('input', { type: 'number', name: 'min_length', min: 0 })),
    max_length: field('Maximum length', h('input', { type: 'number', name: 'max_length', min: 0 })),
    pattern: field('Pattern', h('input', { type: 'text', name: 'pattern' }), 'A regular expression the whole value must match.'),
    max_items: field('Maximum items', h('input', { type: 'number', name: 'max_items', min: 1 })),
    default: field('Default', h('input', { type: 'text', name: 'default' }), 'Given to profiles that lack a value.'),
  };
  const required = checkbox('Required', false, { name: 'required' });
  const unique = checkbox('Unique (indexed, usable for lookups)', false, { name: 'unique' });
  const status = alertBox();

  function showConstraints() {
    const type = fields.type.input.value;
    for (const [name, types] of Object.entries(CONSTRAINTS)) fields[name].wrap.hidden = !types.includes(type);
  }
  fields.type.input.addEventListener('change', showConstraints);
  showConstraints();

  const form = h('form', { novalidate: true, 'data-testid': 'attribute-form', onsubmit: async (event) => {
    event.preventDefault();
    status.hide();
    for (const f of Object.values(fields)) setFieldError(f, '');
    const type = fields.type.input.value;
    const body = { name: fields.name.input.value.trim(), type, required: required.input.checked, unique: unique.input.checked };
    if (fields.description.input.value.trim()) body.description = fields.description.input.value.trim();
    for (const [name, types] of Object.entries(CONSTRAINTS)) {
      const raw = fields[name].input.value.trim();
      if (!types.includes(type) || raw === '') continue;
      if (name === 'values') body.values = raw.split(',').map((v) => v.trim()).filter(Boolean);
      else if (INTEGER_FIELDS.includes(name)) body[name] = Number(raw);
      else body[name] = raw;
    }
    if (fields.default.input.value !== '') body.default = fields.default.input.value;
    try {
      const created = await post('/v1/customer-attributes', body);
      form.reset();
      showConstraints();
      status.show('ok', `Added ${created.name} (${created.type}).`);
      onAdded(created);
    } catch (error) {
      if (!(error instanceof ApiError)) { status.show('error', error.message); return; }
      const loose = [];
      for (const e of error.fields) {
        const target = fields[e.field.replace(/^\./, '')];
        if (target && !target.wrap.hidden) setFieldError(target, e.message);
        else loose.push(`${e.field}: ${e.message}`);
      }
      if (error.fields.length === 0 || loose.length) status.show('error', loose.length ? loose.join('; ') : error.message);
      const first = Object.values(fields).find((f) => f.input.getAttribute('aria-invalid') === 'true');
      if (first) first.input.focus();
    }
  } },
  h('div', { class: 'form-grid' }, Object.values(fields).map((f) => f.wrap)),
  h('div', { class: 'row' }, required.wrap, unique.wrap),
  h('div', { class: 'row' }, h('button', { type: 'submit', 'data-action': 'add-attribute' }, 'Add attribute')),
  status);
  return form;
}

async function list(container) {
  const { attributes } = await get('/v1/customer-attributes');
  const status = alertBox();
  container.replaceChildren(status, attributes.length === 0
    ? h('p', { class: 'muted' }, 'No custom attributes yet: the schema is open (any well-named attribute is accepted as text).')
    : table(['Name', 'Type', 'Flags', 'Constraints', 'Description', ''], attributes.map((a) => h('tr', { 'data-attribute': a.name },
      h('th', { scope: 'row' }, h('code', {}, a.name), h('div', { class: 'muted' }, `id ${a.id}`)),
      h('td', {}, a.type),
      h('td', {},
        a.required ? h('span', { class: 'badge' }, 'required') : null,
        a.unique ? h('span', { class: 'badge' }, 'unique') : null,
        a.implicit ? h('span', { class: 'badge' }, 'implicit') : null,
        a.retired ? h('span', { class: 'badge off' }, 'retired') : h('span', { class: 'badge on' }, 'active')),
      h('td', {}, constraintsOf(a)),
      h('td', {}, a.description || ''),
      h('td', {}, a.retired ? null : h('button', { type: 'button', class: 'secondary', 'aria-label': `Retire ${a.name}`,
        onclick: async () => {
          if (!window.confirm(`Retire ${a.name}? Writes of it are refused from now on; stored values stay readable.`)) return;
          try {
            await del(`/v1/customer-attributes/${seg(a.name)}`);
            await list(container);
          } catch (error) {
            status.show('error', `Could not retire ${a.name}: ${error.message}`);
          }
        } }, 'Retire')))), 'Customer attributes'));
}

export async function render(main) {
  const listed = h('div');
  main.append(h('div', { class: 'page-head' }, h('h1', {}, 'Customer attributes')),
    h('section', { class: 'panel', 'aria-labelledby': 'schema-list' }, h('h2', { id: 'schema-list' }, 'Schema'), listed),
    h('section', { class: 'panel', 'aria-labelledby': 'schema-add' }, h('h2', { id: 'schema-add' }, 'Add an attribute'),
      addForm(() => list(listed))));
  await list(listed);
}
