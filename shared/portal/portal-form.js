// The form of a new or changed endpoint: its URL and description, the events it takes, the body
// format, how the receiver authenticates Hookline besides the signature, and (new ones only) a
// signing secret of the customer's choosing. The API checks every field; its 400 becomes the
// notice.

import { actionButton, attempt, h, show } from './portal-session.js';

const FORMATS = [
  ['standard', 'Standard: {id, event, timestamp, tenant_id, data}'],
  ['wrapped', 'Wrapped: {event: {type, data, version}, time, host}'],
  ['subject_body', 'Subject and body: {subject, body}'],
  ['data', "Data: the event's data alone"],
  ['cloudevents', 'CloudEvents 1.0'],
];

const AUTH_TYPES = [
  ['none', 'None: the signature alone'],
  ['bearer', 'Bearer token'],
  ['basic', 'Basic: user name and password'],
  ['header', 'A header of your own'],
  ['oauth2', 'OAuth 2.0 client credentials'],
];

/** Each authentication type's fields: name, label, input type, whether it may be left out. */
const AUTH_FIELDS = {
  none: [],
  bearer: [['token', 'Token', 'password']],
  basic: [['username', 'User name', 'text'], ['password', 'Password', 'password']],
  header: [['name', 'Header name', 'text'], ['value', 'Header value', 'password']],
  oauth2: [['token_url', 'Token URL', 'url'], ['client_id', 'Client id', 'text'], ['client_secret', 'Client secret', 'password'], ['scope', 'Scope', 'text', true]],
};

export const authLabel = (type) => (AUTH_TYPES.find(([t]) => t === type) ?? [type, type])[1];

const select = (name, options, value) =>
  h('select', { name }, options.map(([v, label]) => h('option', { value: v, selected: v === value }, label)));

/**
 * The authentication part: a type, and that type's fields. Credentials are never shown again,
 * so an endpoint's form starts with its type and empty fields: left empty, they stay as they are.
 */
function authPart(current) {
  const currentType = current ? current.auth.type : 'none';
  const type = select('auth_type', AUTH_TYPES, currentType);
  const fields = h('div', { class: 'auth-fields' });
  const inputs = new Map();
  const draw = () => {
    inputs.clear();
    const chosen = AUTH_FIELDS[type.value];
    const keeping = current && type.value === currentType && chosen.length > 0;
    // Kept, the credentials are kept whole: once one field is filled, the API takes the type's
    // credentials anew, so every field it needs is required (the others are not shown back).
    const requireAll = () => {
      const any = [...inputs.values()].some((i) => i.value !== '');
      for (const [name, , , optional] of chosen) inputs.get(name).required = !optional && (!keeping || any);
    };
    const labels = chosen.map(([name, label, kind, optional]) => {
      const input = h('input', { type: kind, name: `auth_${name}`, autocomplete: 'off', oninput: requireAll });
      inputs.set(name, input);
      return h('label', {}, optional ? `${label} (optional)` : label, input);
    });
    requireAll();
    const hint = 'Left empty, the credentials set before are kept; to change them, fill in every field.';
    fields.replaceChildren(...(keeping ? [h('p', { class: 'muted' }, hint)] : []), ...labels);
  };
  type.addEventListener('change', draw);
  draw();
  /** The `auth` to send: undefined when nothing about it changed. */
  const value = () => {
    // As typed: a space in a password or a token is part of it.
    const given = Object.fromEntries([...inputs].map(([name, input]) => [name, input.value]).filter(([, v]) => v !== ''));
    if (current && type.value === currentType && Object.keys(given).length === 0) return undefined;
    return { type: type.value, ...given };
  };
  return { nodes: [h('label', {}, 'Receiver authentication', type), fields], value };
}

/**
 * Shows the form; `onSubmit(fields)` gets what to send. `types`: the catalogue's event types.
 * A pattern the endpoint has that is no single type (`alert.*`, set through the API) gets a box
 * of its own, ticked: saving the form keeps it unless it is unticked.
 */
export function endpointForm({ title, current, submitLabel, types, onSubmit, onCancel }) {
  const chosen = new Set(current ? current.events : []);
  const url = h('input', { type: 'url', name: 'url', required: true, value: current ? current.url : '', placeholder: 'https://example.com/webhooks' });
  const description = h('input', { type: 'text', name: 'description', value: current ? current.description : '', maxlength: 1000 });
  const format = select('format', FORMATS, current ? current.format : 'standard');
  const auth = authPart(current);
  const secret = current ? undefined : h('input', { type: 'text', name: 'secret', autocomplete: 'off', placeholder: 'generated and shown once when left empty' });
  const patterns = (current ? current.events : []).filter((e) => e !== '*' && !types.some((t) => t.type === e)).map((e) => ({ type: e, title: 'Pattern' }));
  const boxes = [{ type: '*', title: 'All events' }, ...patterns, ...types].map((t) => {
    const box = h('input', { type: 'checkbox', name: 'events', value: t.type, checked: chosen.has(t.type) });
    return h('label', {}, box, `${t.title} (${t.type})`);
  });
  const submit = h('button', { type: 'submit', class: 'primary' }, submitLabel);
  const form = h(
    'form',
    {
      onsubmit: (e) => {
        e.preventDefault();
        const events = [...form.querySelectorAll('input[name=events]:checked')].map((b) => b.value);
        const authValue = auth.value();
        const fields = {
          url: url.value.trim(),
          description: description.value,
          events,
          format: format.value,
          ...(authValue ? { auth: authValue } : {}),
          ...(secret && secret.value !== '' ? { secret: secret.value } : {}),
        };
        attempt(() => onSubmit(fields), submit);
      },
    },
    h('label', {}, 'URL', url),
    h('label', {}, 'Description', description),
    h('fieldset', {}, h('legend', {}, 'Events'), boxes),
    h('label', {}, 'Body format', format),
    auth.nodes,
    secret && h('label', {}, 'Signing secret (optional)', secret),
    h('div', { class: 'toolbar' }, submit, actionButton('Cancel', onCancel)),
  );
  show(h('h2', {}, title), form);
}
