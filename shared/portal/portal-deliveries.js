// The portal's delivery log of one endpoint: a page of deliveries, and one delivery's attempts.
//
// The API pages attempts, a delivery's together (newest first), so a delivery may straddle two
// pages: it is shown on the page that holds its newest attempt, and opening it reads its whole
// history (`?delivery_id=`), whatever pages it spans.

import { WEBHOOKS, actionButton, actionsHeader, call, h, notify, outcomeBadge, readOnly, table, when } from './portal-session.js';

const PER_PAGE = 10;

const pageAt = (w, here) => call('GET', `${WEBHOOKS}/${w.id}/deliveries?per_page=${PER_PAGE}${here ? `&cursor=${encodeURIComponent(here.cursor)}` : ''}`);

/**
 * One page of the delivery log (newest first), one row per delivery. `trail`: how we got here,
 * one `{ cursor, carried }` a page after the first, `carried` the delivery the page before ended
 * with, whose older attempts open this page and which that page already shows. `reopen`: a
 * delivery to open again once the page is shown (after a resend).
 */
export async function showDeliveries(w, into, trail, reopen) {
  let here = trail.at(-1);
  let page = await pageAt(w, here);
  // A page holding nothing but the carried delivery's older attempts (one with many) is passed
  // over, so that every page shows deliveries.
  while (here && page.next_cursor && page.items.every((a) => a.delivery_id === here.carried)) {
    here = { cursor: page.next_cursor, carried: here.carried };
    trail = [...trail.slice(0, -1), here];
    page = await pageAt(w, here);
  }
  const newest = new Map();
  for (const a of page.items) if (a.delivery_id !== here?.carried && !newest.has(a.delivery_id)) newest.set(a.delivery_id, a);
  const detail = h('div', { id: 'delivery-detail' });
  const rows = [...newest.values()].map((latest) => {
    const row = h(
      'tr',
      { 'data-delivery': latest.delivery_id },
      h('td', {}, when(latest.attempted_at)),
      h('td', {}, latest.event),
      h('td', {}, outcomeBadge(latest)),
      h('td', {}, latest.status_code === null ? '—' : String(latest.status_code)),
      h('td', {}, String(latest.attempt)),
      h('td', {}, actionButton('Open', () => openDelivery(w, latest, detail, row, () => showDeliveries(w, into, trail, latest.delivery_id)), { 'aria-label': `Open the ${latest.event} delivery of ${when(latest.attempted_at)}` })),
    );
    return row;
  });
  const last = page.items.at(-1);
  const paging = h(
    'div',
    { class: 'toolbar' },
    actionButton('← Newer', () => showDeliveries(w, into, trail.slice(0, -1)), { disabled: trail.length === 0 }),
    h('span', { class: 'muted' }, `Page ${trail.length + 1}`),
    actionButton('Older →', () => showDeliveries(w, into, [...trail, { cursor: page.next_cursor, carried: last?.delivery_id }]), { disabled: !page.next_cursor }),
    actionButton('Refresh', () => showDeliveries(w, into, trail)),
  );
  into.replaceChildren(
    rows.length
      ? table(
          h('thead', {}, h('tr', {}, h('th', {}, 'Time'), h('th', {}, 'Event'), h('th', {}, 'Outcome'), h('th', {}, 'HTTP'), h('th', {}, 'Attempts'), actionsHeader())),
          h('tbody', {}, rows),
        )
      : h('p', { class: 'muted' }, page.items.length ? 'The older attempts of the delivery on the page before: open it there.' : 'No deliveries yet.'),
    paging,
    detail,
  );
  const again = reopen && rows.find((r) => r.dataset.delivery === reopen);
  if (again) await openDelivery(w, newest.get(reopen), detail, again, () => showDeliveries(w, into, trail, reopen));
}

/** Every attempt of one delivery, newest first, page after page. */
async function historyOf(w, deliveryId) {
  const attempts = [];
  for (let cursor = ''; ; ) {
    const page = await call('GET', `${WEBHOOKS}/${w.id}/deliveries?delivery_id=${encodeURIComponent(deliveryId)}&per_page=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    attempts.push(...page.items);
    if (!page.next_cursor) return attempts;
    cursor = page.next_cursor;
  }
}

/**
 * A delivery's attempts, oldest first: status, latency, what the receiver answered, the error.
 * `refresh` shows the log's page again (after a resend, whose attempt then shows).
 */
async function openDelivery(w, latest, into, row, refresh) {
  const attempts = (await historyOf(w, latest.delivery_id)).reverse();
  for (const r of row.parentElement.children) r.classList.toggle('selected', r === row);
  // A test event's attempt is no delivery: there is nothing to resend.
  const resend =
    readOnly || latest.trigger === 'test'
      ? undefined
      : actionButton('Resend', async () => {
          const r = await call('POST', `${WEBHOOKS}/${w.id}/deliveries/${encodeURIComponent(latest.delivery_id)}/retry`);
          await refresh();
          notify(`Attempt ${r.attempt} of the delivery is queued. Refresh shows it once it is made.`);
        });
  into.replaceChildren(
    h(
      'div',
      { class: 'card' },
      h('div', { class: 'toolbar' }, h('h3', {}, `Delivery ${latest.delivery_id}`), resend),
      h('p', { class: 'muted' }, `Event ${latest.event} (${latest.event_id})`),
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
