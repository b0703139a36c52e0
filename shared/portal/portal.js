// The portal page: a tenant's customer manages its webhooks with a portal session token (from
// POST /api/v1/portal-sessions). It calls the same API as the tenant, with the token as its
// bearer credential. Text that a server or a receiver supplied (URLs, descriptions, response
// excerpts, errors) only ever reaches the page through textContent (h() below): never as HTML.

const TOKEN_KEY = 'hookline-portal-token';
const API = 'api/v1';
const WEBHOOKS = `${API}/integrations/webhooks`;

class SessionEnded extends Error {}
class ApiError extends Error {
  constructor(status, message, details) {
    super(message);
    this.status = status;
    this.details = details;
  }
}

/**
 * The token is in the fragment (never sent to a server, nor in a Referer) or, from an older
 * link, in the query: it is taken out of the address at once, and kept for this tab only.
 */
function takeToken() {
  const given = new URLSearchParams(location.hash.slice(1)).get('token') || new URLSearchParams(location.search).get('token');
  if (given) {
    sessionStorage.setItem(TOKEN_KEY, given);
    history.replaceState(null, '', location.pathname);
  }
  return given || sessionStorage.getItem(TOKEN_KEY);
}

/** What the token's signed part says (for display only: the server checks it). */
function tokenClaims(token) {
  try {
    const part = token.slice(4, token.lastIndexOf('.')).replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(part));
  } catch {
    return {};
  }
}

const token = takeToken();
const claims = token ? tokenClaims(token) : {};
const readOnly = claims.r === 1;
const scoped = Array.isArray(claims.w);
let catalogue;

/** An element: attributes (on* are listeners), and children as nodes or text (set as text). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else if (name === 'class') el.className = value;
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const view = () => document.getElementById('view');
const show = (...nodes) => view().replaceChildren(...nodes.flat().filter((n) => n !== undefined && n !== null && n !== false));

function notify(message, isError = false) {
  const notice = document.getElementById('notice');
  notice.textContent = message;
  notice.className = isError ? 'error' : '';
  notice.hidden = !message;
}

/** Ends the page's session: a clear message, and nothing of what was shown stays. */
function endSession(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  notify('');
  document.querySelector('header nav').hidden = true;
  document.getElementById('session').textContent = '';
  show(
    h(
      'div',
      { class: 'card ended', role: 'alert' },
      h('h2', {}, 'This portal link no longer works'),
      h('p', {}, message || 'The link has expired or was revoked.'),
      h('p', { class: 'muted' }, 'Ask for a new link to manage your webhooks.'),
    ),
  );
}

async function call(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
    credentials: 'omit',
    referrerPolicy: 'no-referrer',
  });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (res.status === 401) {
    endSession(json && json.error);
    throw new SessionEnded();
  }
  if (!res.ok) throw new ApiError(res.status, (json && json.error) || `The server answered ${res.status}`, json && json.details);
  return json;
}

/** Runs an action; its failure becomes the notice (a failed session has its own message). */
async function attempt(action) {
  try {
    notify('');
    await action();
  } catch (err) {
    if (err instanceof SessionEnded) return;
    const details = err instanceof ApiError && Array.isArray(err.details) ? err.details.map((d) => `${d.path}: ${d.message}`).join('; ') : '';
    notify(details ? `${err.message} (${details})` : err.message, true);
  }
}

const when = (iso) => (iso ? new Date(iso).toLocaleString() : '');
const statusBadge = (w) => (w.active ? h('span', { class: `badge ${w.status}` }, w.status) : h('span', { class: 'badge paused' }, 'paused'));
const outcomeBadge = (a) => h('span', { class: `badge ${a.success ? 'success' : 'failed'}` }, a.success ? 'delivered' : 'failed');

async function eventTypes() {
  catalogue ??= (await call('GET', `${API}/event-types`)).items;
  return catalogue;
}

// Endpoints -------------------------------------------------------------------------------------

async function showWebhooks() {
  selectNav('webhooks');
  const list = await call('GET', `${WEBHOOKS}?per_page=100`);
  const rows = list.items.map((w) =>
    h(
      'tr',
      {},
      h('td', {}, h('div', { class: 'url' }, w.url), h('div', { class: 'muted' }, w.description)),
      h('td', {}, w.events.join(', ')),
      h('td', {}, statusBadge(w)),
      h('td', {}, h('button', { type: 'button', onclick: () => attempt(() => showWebhook(w.id)), 'aria-label': `Open ${w.url}` }, 'Open')),
    ),
  );
  show(
    h('div', { class: 'toolbar' }, h('h2', {}, 'Endpoints'), !readOnly && !scoped && h('button', { type: 'button', class: 'primary', onclick: () => attempt(showCreate) }, 'Add endpoint')),
    rows.length
      ? h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Endpoint'), h('th', {}, 'Events'), h('th', {}, 'Status'), h('th', {}))), h('tbody', {}, rows))
      : h('p', { class: 'muted' }, 'No endpoints yet.'),
  );
}

/** The form of a new or changed endpoint; resolves the fields the user set. */
async function endpointForm(title, current, submitLabel, onSubmit) {
  const types = await eventTypes();
  const chosen = new Set(current ? current.events : []);
  const url = h('input', { type: 'url', name: 'url', required: true, value: current ? current.url : '', placeholder: 'https://example.com/webhooks' });
  const description = h('input', { type: 'text', name: 'description', value: current ? current.description : '', maxlength: 1000 });
  const boxes = [{ type: '*', title: 'All events' }, ...types].map((t) => {
    const box = h('input', { type: 'checkbox', name: 'events', value: t.type, checked: chosen.has(t.type) });
    return h('label', {}, box, `${t.title} (${t.type})`);
  });
  const form = h(
    'form',
    {
      onsubmit: (e) => {
        e.preventDefault();
        const events = [...form.querySelectorAll('input[name=events]:checked')].map((b) => b.value);
        attempt(() => onSubmit({ url: url.value.trim(), description: description.value, events }));
      },
    },
    h('label', {}, 'URL', url),
    h('label', {}, 'Description', description),
    h('fieldset', {}, h('legend', {}, 'Events'), boxes),
    h('div', { class: 'toolbar' }, h('button', { type: 'submit', class: 'primary' }, submitLabel), h('button', { type: 'button', onclick: () => attempt(back) }, 'Cancel')),
  );
  const back = () => (current ? showWebhook(current.id) : showWebhooks());
  show(h('h2', {}, title), form);
}

function showCreate() {
  return endpointForm('Add endpoint', undefined, 'Create', async (fields) => {
    const created = await call('POST', WEBHOOKS, fields);
    await showWebhook(created.id, created.secret);
  });
}

/** A secret the server made, shown this once. */
const secretCard = (secret, what) =>
  h(
    'div',
    { class: 'card secret', role: 'alert' },
    h('strong', {}, `${what}: copy it now, it is not shown again.`),
    h('code', { 'data-secret': '' }, secret),
  );

async function showWebhook(id, newSecret) {
  selectNav('webhooks');
  const w = await call('GET', `${WEBHOOKS}/${encodeURIComponent(id)}`);
  const result = h('div', { id: 'action-result' });
  const act = (label, handler, cls) => h('button', { type: 'button', class: cls, onclick: () => attempt(handler) }, label);
  const writes = readOnly
    ? []
    : [
        act('Edit', () => endpointForm('Edit endpoint', w, 'Save', async (fields) => {
          await call('PATCH', `${WEBHOOKS}/${w.id}`, fields);
          await showWebhook(w.id);
        })),
        act(w.active ? 'Pause' : 'Resume', async () => {
          await call('PATCH', `${WEBHOOKS}/${w.id}`, { active: !w.active });
          await showWebhook(w.id);
          notify(w.active ? 'Paused: no events are sent to this endpoint.' : 'Resumed.');
        }),
        act('Send test event', async () => {
          const r = await call('POST', `${WEBHOOKS}/${w.id}/test`);
          result.replaceChildren(
            h(
              'div',
              { class: 'card' },
              h('strong', {}, r.delivered ? 'Test event delivered' : 'Test event failed'),
              h('p', {}, r.status_code === null ? 'No HTTP answer' : `HTTP ${r.status_code}`, ` in ${r.response_time_ms} ms`),
              r.error && h('pre', {}, r.error),
            ),
          );
        }),
        act('Rotate secret', async () => {
          if (!confirm('Rotate the signing secret? The old one keeps signing for 24 hours.')) return;
          const r = await call('POST', `${WEBHOOKS}/${w.id}/rotate-secret`, {});
          result.replaceChildren(secretCard(r.secret, 'New signing secret'), h('p', { class: 'muted' }, `The previous secret also signs until ${when(r.previous_secret_expires_at)}.`));
        }),
        act('Delete', async () => {
          if (!confirm(`Delete the endpoint ${w.url}?`)) return;
          await call('DELETE', `${WEBHOOKS}/${w.id}`);
          await showWebhooks();
          notify('Endpoint deleted.');
        }, 'danger'),
      ];
  const since = h('input', { type: 'datetime-local', name: 'since', required: true });
  const recover = readOnly
    ? undefined
    : h(
        'form',
        {
          class: 'toolbar',
          onsubmit: (e) => {
            e.preventDefault();
            attempt(async () => {
              const r = await call('POST', `${WEBHOOKS}/${w.id}/recover`, { since: new Date(since.value).toISOString() });
              notify(`${r.queued} failed deliveries queued again.`);
            });
          },
        },
        h('label', {}, 'Resend failed deliveries since', since),
        h('button', { type: 'submit' }, 'Recover'),
      );
  const deliveries = h('div', { id: 'deliveries' });
  show(
    h('div', { class: 'toolbar' }, h('button', { type: 'button', onclick: () => attempt(showWebhooks) }, '← Endpoints')),
    h('h2', { class: 'url' }, w.url),
    newSecret && secretCard(newSecret, 'Signing secret'),
    h(
      'div',
      { class: 'card' },
      h(
        'dl',
        {},
        h('dt', {}, 'Status'), h('dd', {}, statusBadge(w)),
        h('dt', {}, 'Description'), h('dd', {}, w.description || '—'),
        h('dt', {}, 'Events'), h('dd', {}, w.events.join(', ')),
        h('dt', {}, 'Format'), h('dd', {}, w.format),
        h('dt', {}, 'Created'), h('dd', {}, when(w.created_at)),
        h('dt', {}, 'Id'), h('dd', { class: 'url' }, w.id),
      ),
    ),
    h('div', { class: 'toolbar' }, writes),
    result,
    h('h3', {}, 'Deliveries'),
    recover,
    deliveries,
  );
  await showDeliveries(w, deliveries, []);
}

// Deliveries ------------------------------------------------------------------------------------

/** Attempts seen so far, by delivery: a delivery's attempts may span pages. */
const attemptsByDelivery = new Map();

/** One page of the delivery log (newest first), one row per delivery; `cursors`: how we got here. */
async function showDeliveries(w, into, cursors) {
  const cursor = cursors.at(-1);
  const page = await call('GET', `${WEBHOOKS}/${w.id}/deliveries?per_page=10${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
  const order = [];
  for (const a of page.items) {
    const seen = attemptsByDelivery.get(a.delivery_id) ?? new Map();
    seen.set(a.id, a);
    attemptsByDelivery.set(a.delivery_id, seen);
    if (!order.includes(a.delivery_id)) order.push(a.delivery_id);
  }
  const detail = h('div', { id: 'delivery-detail' });
  const rows = order.map((deliveryId) => {
    const latest = [...attemptsByDelivery.get(deliveryId).values()].sort((x, y) => y.attempt - x.attempt)[0];
    const row = h(
      'tr',
      { 'data-delivery': deliveryId },
      h('td', {}, when(latest.attempted_at)),
      h('td', {}, latest.event),
      h('td', {}, outcomeBadge(latest)),
      h('td', {}, latest.status_code === null ? '—' : String(latest.status_code)),
      h('td', {}, String(latest.attempt)),
      h('td', {}, h('button', { type: 'button', onclick: () => attempt(() => openDelivery(w, deliveryId, detail, row)) }, 'Open')),
    );
    return row;
  });
  const paging = h(
    'div',
    { class: 'toolbar' },
    h('button', { type: 'button', disabled: cursors.length === 0, onclick: () => attempt(() => showDeliveries(w, into, cursors.slice(0, -1))) }, '← Newer'),
    h('span', { class: 'muted' }, `Page ${cursors.length + 1}`),
    h('button', { type: 'button', disabled: !page.next_cursor, onclick: () => attempt(() => showDeliveries(w, into, [...cursors, page.next_cursor])) }, 'Older →'),
  );
  into.replaceChildren(
    rows.length
      ? h(
          'table',
          {},
          h('thead', {}, h('tr', {}, h('th', {}, 'Time'), h('th', {}, 'Event'), h('th', {}, 'Outcome'), h('th', {}, 'HTTP'), h('th', {}, 'Attempts'), h('th', {}))),
          h('tbody', {}, rows),
        )
      : h('p', { class: 'muted' }, 'No deliveries yet.'),
    paging,
    detail,
  );
}

/** A delivery's attempts, oldest first: status, latency, what the receiver answered, the error. */
function openDelivery(w, deliveryId, into, row) {
  for (const r of row.parentElement.children) r.classList.toggle('selected', r === row);
  const attempts = [...attemptsByDelivery.get(deliveryId).values()].sort((x, y) => x.attempt - y.attempt);
  const resend = readOnly
    ? undefined
    : h(
        'button',
        {
          type: 'button',
          onclick: () =>
            attempt(async () => {
              const r = await call('POST', `${WEBHOOKS}/${w.id}/deliveries/${encodeURIComponent(deliveryId)}/retry`);
              notify(`Attempt ${r.attempt} of the delivery is queued.`);
            }),
        },
        'Resend',
      );
  into.replaceChildren(
    h(
      'div',
      { class: 'card' },
      h('div', { class: 'toolbar' }, h('h3', {}, `Delivery ${deliveryId}`), resend),
      h('p', { class: 'muted' }, `Event ${attempts[0].event} (${attempts[0].event_id})`),
      attempts.map((a) =>
        h(
          'section',
          { class: 'card', 'data-attempt': a.id },
          h('h4', {}, `Attempt ${a.attempt} (${a.trigger})`, ' ', outcomeBadge(a)),
          h(
            'dl',
            {},
            h('dt', {}, 'Time'), h('dd', {}, when(a.attempted_at)),
            h('dt', {}, 'HTTP status'), h('dd', {}, a.status_code === null ? 'no answer' : String(a.status_code)),
            h('dt', {}, 'Latency'), h('dd', {}, `${a.response_time_ms} ms`),
            a.error !== undefined && [h('dt', {}, 'Error'), h('dd', {}, h('pre', { class: 'error-text' }, a.error))],
            a.response_body !== undefined && [h('dt', {}, 'Response'), h('dd', {}, h('pre', { class: 'response-body' }, a.response_body))],
            a.next_attempt_at !== undefined && [h('dt', {}, 'Next attempt'), h('dd', {}, when(a.next_attempt_at))],
          ),
        ),
      ),
    ),
  );
}

// Event types -----------------------------------------------------------------------------------

async function showCatalogue() {
  selectNav('catalogue');
  const types = await eventTypes();
  show(
    h('h2', {}, 'Event types'),
    types.length
      ? h(
          'table',
          {},
          h('thead', {}, h('tr', {}, h('th', {}, 'Type'), h('th', {}, 'Title'), h('th', {}, 'Description'))),
          h('tbody', {}, types.map((t) => h('tr', {}, h('td', { class: 'url' }, t.type), h('td', {}, t.title), h('td', {}, t.description)))),
        )
      : h('p', { class: 'muted' }, 'No event types are listed.'),
  );
}

function selectNav(name) {
  for (const b of document.querySelectorAll('header nav button')) b.setAttribute('aria-pressed', String(b.dataset.view === name));
}

function start() {
  if (!token) {
    endSession('This page needs a portal link: open the link you were given.');
    return;
  }
  const limits = [readOnly && 'read-only', scoped && `${claims.w.length} endpoint(s)`].filter(Boolean).join(', ');
  document.getElementById('session').textContent =
    (typeof claims.e === 'number' ? `Link valid until ${new Date(claims.e * 1000).toLocaleString()}` : '') + (limits ? ` · ${limits}` : '');
  for (const b of document.querySelectorAll('header nav button')) {
    b.addEventListener('click', () => attempt(b.dataset.view === 'catalogue' ? showCatalogue : showWebhooks));
  }
  attempt(showWebhooks);
}

start();
