// The portal page: a tenant's customer manages its webhooks with a portal session token (from
// POST /api/v1/portal-sessions). It calls the same API as the tenant, with the token as its
// bearer credential (portal-session.js). This module is the page's entry: its endpoints and
// event types, and the navigation; portal-deliveries.js shows an endpoint's delivery log.
//
// Each view has an address of its own in the fragment (#/endpoints/<id>, #/event-types; the list
// is the bare page), so Back, Forward and a reload stay in the portal and on the same view.

import { showDeliveries } from './portal-deliveries.js';
import { authLabel, endpointForm } from './portal-form.js';
import { API, WEBHOOKS, actionButton, actionsHeader, attempt, beginView, call, claims, endSession, h, isNotFound, notify, readOnly, scoped, show, statusBadge, table, token, when } from './portal-session.js';

let catalogue;

async function eventTypes() {
  catalogue ??= (await call('GET', `${API}/event-types`)).items;
  return catalogue;
}

// Endpoints -------------------------------------------------------------------------------------

async function showWebhooks() {
  const current = beginView();
  // Every endpoint, page after page: a tenant may have more than a page holds.
  const items = [];
  for (let cursor = ''; ; ) {
    const page = await call('GET', `${WEBHOOKS}?per_page=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    items.push(...page.items);
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  if (!current()) return;
  const rows = items.map((w) =>
    h(
      'tr',
      {},
      h('td', {}, h('div', { class: 'url' }, w.url), h('div', { class: 'muted' }, w.description)),
      h('td', {}, w.events.join(', ')),
      h('td', {}, statusBadge(w)),
      h('td', {}, actionButton('Open', () => go(endpointAddress(w.id)), { 'aria-label': `Open ${w.url}` })),
    ),
  );
  selectNav('webhooks');
  show(
    h('div', { class: 'toolbar' }, h('h2', {}, 'Endpoints'), !readOnly && !scoped && actionButton('Add endpoint', () => go(NEW_ADDRESS), { class: 'primary' })),
    rows.length
      ? table(h('thead', {}, h('tr', {}, h('th', {}, 'Endpoint'), h('th', {}, 'Events'), h('th', {}, 'Status'), actionsHeader())), h('tbody', {}, rows))
      : h('p', { class: 'muted' }, 'No endpoints yet.'),
  );
}

async function showCreate() {
  const current = beginView();
  const types = await eventTypes();
  if (!current()) return;
  selectNav('webhooks');
  endpointForm({
    title: 'Add endpoint',
    submitLabel: 'Create',
    types,
    onSubmit: async (fields) => {
      const created = await call('POST', WEBHOOKS, fields);
      // The form's address becomes the endpoint's: Back goes to the list, not to an empty form.
      history.replaceState(null, '', endpointAddress(created.id));
      await showWebhook(created.id, created.secret);
    },
    onCancel: () => go(''),
  });
}

async function showEdit(id) {
  const current = beginView();
  const [w, types] = await Promise.all([call('GET', `${WEBHOOKS}/${encodeURIComponent(id)}`), eventTypes()]);
  if (!current()) return;
  selectNav('webhooks');
  endpointForm({
    title: 'Edit endpoint',
    current: w,
    submitLabel: 'Save',
    types,
    onSubmit: async (fields) => {
      await call('PATCH', `${WEBHOOKS}/${w.id}`, fields);
      history.replaceState(null, '', endpointAddress(w.id));
      await showWebhook(w.id);
    },
    onCancel: () => go(endpointAddress(w.id)),
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
  const current = beginView();
  const w = await call('GET', `${WEBHOOKS}/${encodeURIComponent(id)}`);
  if (!current()) return;
  selectNav('webhooks');
  const result = h('div', { id: 'action-result' });
  const act = (label, handler, cls) => actionButton(label, handler, { class: cls });
  const deliveries = h('div', { id: 'deliveries' });
  const writes = readOnly
    ? []
    : [
        act('Edit', () => go(`${endpointAddress(w.id)}/edit`)),
        // A 410 disabled it while active: setting it active again is how it comes back.
        w.active && w.status === 'disabled'
          ? act('Enable', async () => {
              await call('PATCH', `${WEBHOOKS}/${w.id}`, { active: true });
              await showWebhook(w.id);
              notify('Enabled: events are sent to this endpoint again.');
            })
          : act(w.active ? 'Pause' : 'Resume', async () => {
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
          // The test's attempt is in the log now: show it.
          await showDeliveries(w, deliveries, []);
        }),
        act('Rotate secret', async () => {
          if (!confirm('Rotate the signing secret? The old one keeps signing for 24 hours.')) return;
          const r = await call('POST', `${WEBHOOKS}/${w.id}/rotate-secret`, {});
          result.replaceChildren(secretCard(r.secret, 'New signing secret'), h('p', { class: 'muted' }, `The previous secret also signs until ${when(r.previous_secret_expires_at)}.`));
        }),
        act('Delete', async () => {
          if (!confirm(`Delete the endpoint ${w.url}?`)) return;
          await call('DELETE', `${WEBHOOKS}/${w.id}`);
          // Its address names nothing now: replaced, so that Back does not lead to it.
          history.replaceState(null, '', location.pathname);
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
            }, e.submitter);
          },
        },
        h('label', {}, 'Resend failed deliveries since', since),
        h('button', { type: 'submit' }, 'Recover'),
      );
  show(
    h('div', { class: 'toolbar' }, actionButton('← Endpoints', () => go(''))),
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
        h('dt', {}, 'Authentication'), h('dd', {}, authLabel(w.auth.type)),
        w.filter && [h('dt', {}, 'Filter'), h('dd', {}, h('code', {}, JSON.stringify(w.filter)))],
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

// Event types -----------------------------------------------------------------------------------

async function showCatalogue() {
  const current = beginView();
  const types = await eventTypes();
  if (!current()) return;
  selectNav('catalogue');
  show(
    h('h2', {}, 'Event types'),
    types.length
      ? table(
          h('thead', {}, h('tr', {}, h('th', {}, 'Type'), h('th', {}, 'Title'), h('th', {}, 'Description'))),
          h('tbody', {}, types.map((t) => h('tr', {}, h('td', { class: 'url' }, t.type), h('td', {}, t.title), h('td', {}, t.description)))),
        )
      : h('p', { class: 'muted' }, 'No event types are listed.'),
  );
}

function selectNav(name) {
  for (const b of document.querySelectorAll('header nav button')) b.setAttribute('aria-pressed', String(b.dataset.view === name));
}

// Addresses ---------------------------------------------------------------------------------------

const CATALOGUE_ADDRESS = '#/event-types';
const NEW_ADDRESS = '#/endpoints/new';
const endpointAddress = (id) => `#/endpoints/${encodeURIComponent(id)}`;

/**
 * Shows the view the address names: the list for a fragment the page did not make, a "no such
 * endpoint" view for one naming none this session can see (deleted, mistyped, out of scope),
 * and no form a read-only (or, for a new one, a scoped) session could not submit.
 */
async function route() {
  const hash = location.hash;
  try {
    if (hash === NEW_ADDRESS) return await (readOnly || scoped ? showWebhooks() : showCreate());
    const endpoint = /^#\/endpoints\/([^/]+)(\/edit)?$/.exec(hash);
    if (endpoint) {
      const id = decodeURIComponent(endpoint[1]);
      return await (endpoint[2] && !readOnly ? showEdit(id) : showWebhook(id));
    }
    return await (hash === CATALOGUE_ADDRESS ? showCatalogue() : showWebhooks());
  } catch (err) {
    // An answer for an address the user has left is no news to them.
    if (hash !== location.hash) return;
    if (!isNotFound(err)) throw err;
    beginView();
    selectNav('webhooks');
    show(
      h('h2', {}, 'No such endpoint'),
      h('p', { class: 'muted' }, 'It was deleted, or this address names none this link can see.'),
      actionButton('All endpoints', () => go('')),
    );
  }
}

/** Goes to a view's address ('' for the list) as a new history entry, and shows it. */
function go(address) {
  if (address !== location.hash) history.pushState(null, '', address || location.pathname);
  return route();
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
    b.addEventListener('click', (e) => attempt(() => go(b.dataset.view === 'catalogue' ? CATALOGUE_ADDRESS : ''), e.currentTarget));
  }
  window.addEventListener('popstate', () => attempt(route));
  attempt(route);
}

start();
