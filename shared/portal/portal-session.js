// The portal's session and what every view of it uses: the token (taken from the page's
// address), the API calls made with it, and the one way text reaches the page (h(), which sets
// text as text). Text that a server or a receiver supplied (URLs, descriptions, response
// excerpts, errors) only ever reaches the page through textContent: never as HTML.

const TOKEN_KEY = 'hookline-portal-token';
export const API = 'api/v1';
export const WEBHOOKS = `${API}/integrations/webhooks`;

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

export const token = takeToken();
export const claims = token ? tokenClaims(token) : {};
export const readOnly = claims.r === 1;
export const scoped = Array.isArray(claims.w);

/** An element: attributes (on* are listeners), and children as nodes or text (set as text). */
export function h(tag, attrs = {}, ...children) {
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

let views = 0;
/**
 * Starts a view that loads before it shows: the function it returns says whether it is still
 * the latest view started, so that a slow answer for a view the user has left does not replace
 * the one they went to.
 */
export function beginView() {
  const mine = ++views;
  return () => mine === views;
}

/** An address or answer naming nothing this session can see: a 404, or a malformed address. */
export const isNotFound = (err) => (err instanceof ApiError && err.status === 404) || err instanceof URIError;

/**
 * Shows a view in place of the last one and moves the focus to its heading, so that keyboard
 * and screen reader users land on what changed instead of the page's top.
 */
export function show(...nodes) {
  view().replaceChildren(...nodes.flat().filter((n) => n !== undefined && n !== null && n !== false));
  const heading = view().querySelector('h2');
  if (heading) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }
}

/** A table that scrolls sideways inside the page on a narrow screen instead of widening it. */
export const table = (...children) => h('div', { class: 'table-wrap' }, h('table', {}, ...children));

/** The header of a column of buttons: named for screen readers, blank on screen. */
export const actionsHeader = () => h('th', {}, h('span', { class: 'visually-hidden' }, 'Actions'));

export function notify(message, isError = false) {
  const notice = document.getElementById('notice');
  notice.textContent = message;
  notice.className = isError ? 'error' : '';
  notice.hidden = !message;
}

/** Ends the page's session: a clear message, and nothing of what was shown stays. */
export function endSession(message) {
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

/** Why the server refused the token, in the customer's words (its own are an API client's). */
function refusedBecause(error) {
  if (/expired/i.test(error || '')) return 'The link has expired.';
  if (/revoked/i.test(error || '')) return 'The link was revoked.';
  return 'The link is not valid.';
}

export async function call(method, path, body) {
  let res;
  try {
    res = await fetch(path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
    });
  } catch {
    // fetch's own words ("Failed to fetch") say nothing a customer can act on.
    throw new Error('The webhooks service could not be reached. Check your connection and try again.');
  }
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (res.status === 401) {
    endSession(refusedBecause(json && json.error));
    throw new SessionEnded();
  }
  if (!res.ok) throw new ApiError(res.status, (json && json.error) || `The server answered ${res.status}`, json && json.details);
  return json;
}

/**
 * Runs an action; its failure becomes the notice (a failed session has its own message).
 * `control`, the button that started it, is disabled until it ends: a double click does not
 * create two endpoints or send two test events.
 */
export async function attempt(action, control) {
  if (control) {
    if (control.disabled) return;
    control.disabled = true;
  }
  // Disabled, the button lost the focus, and the view may have drawn it anew: the focus goes
  // back to it (or to its new self: the same label in the same container) unless the action
  // put it elsewhere, so that a keyboard user stays where they were.
  const container = control && control.closest('[id]');
  const label = control && (control.getAttribute('aria-label') ?? control.textContent);
  try {
    notify('');
    await action();
  } catch (err) {
    if (err instanceof SessionEnded) return;
    // A detail that only repeats the message (the server's sentence for one field) is left out.
    const details = err instanceof ApiError && Array.isArray(err.details) ? err.details.filter((d) => !err.message.includes(d.message)).map((d) => `${d.path}: ${d.message}`).join('; ') : '';
    notify(details ? `${err.message} (${details})` : err.message, true);
  } finally {
    if (control) {
      control.disabled = false;
      if (document.activeElement === document.body || document.activeElement === null) {
        const same = (b) => (b.getAttribute('aria-label') ?? b.textContent) === label;
        const again = control.isConnected ? control : container && [...document.querySelectorAll(`#${container.id} button`)].find(same);
        // Disabled now (Older on the last page): the nearest button beside it that is not.
        const target = again && again.disabled ? again.parentElement.querySelector('button:not(:disabled)') : again;
        if (target) target.focus();
      }
    }
  }
}

/** A button whose action runs through attempt(), disabled while it runs. */
export const actionButton = (label, action, attrs = {}) => h('button', { type: 'button', ...attrs, onclick: (e) => attempt(action, e.currentTarget) }, label);

export const when = (iso) => (iso ? new Date(iso).toLocaleString() : '');
export const statusBadge = (w) => (w.active ? h('span', { class: `badge ${w.status}` }, w.status) : h('span', { class: 'badge paused' }, 'paused'));
export const outcomeBadge = (a) => h('span', { class: `badge ${a.success ? 'success' : 'failed'}` }, a.success ? 'delivered' : 'failed');
