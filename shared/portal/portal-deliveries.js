// The portal's delivery log of one endpoint: a page of deliveries, and one delivery's attempts.

import { WEBHOOKS, attempt, call, h, notify, outcomeBadge, readOnly, when } from './portal-session.js';

/** Attempts seen so far, by delivery: a delivery's attempts may span pages. */
const attemptsByDelivery = new Map();

/** One page of the delivery log (newest first), one row per delivery; `cursors`: how we got here. */
export async function showDeliveries(w, into, cursors) {
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
