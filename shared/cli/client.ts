/**
 * The API as the CLI speaks to it: `Authorization: Bearer <key>`, JSON both ways. Any answer
 * other than 2xx becomes an ApiError carrying the body's `error` and `details`; a `429` is
 * retried after its `Retry-After` (a big publish or a long --follow stays under the tenant's
 * request limit instead of failing).
 */
import { ApiError, ConnectionError } from './errors.ts';

const MAX_RATE_LIMIT_RETRIES = 5;
/**
 * How long a request may go unanswered: past the API's own limits (a test event waits for its
 * receiver, 10 s by default; API Gateway answers within 30 s), so a runtime that has stopped
 * answering is reported instead of waited on for undici's five minutes.
 */
export const REQUEST_TIMEOUT_MS = 60_000;
const MAX_RETRY_AFTER_SECONDS = 30;

export const WEBHOOKS_PATH = '/api/v1/integrations/webhooks';

export interface Page<T> {
  readonly items: T[];
  readonly has_more: boolean;
  readonly next_cursor: string | null;
}

export class ApiClient {
  readonly baseUrl: string;
  private readonly key: string;
  private readonly timeoutMs: number;
  constructor(baseUrl: string, key: string, timeoutMs = REQUEST_TIMEOUT_MS) {
    this.baseUrl = baseUrl;
    this.key = key;
    this.timeoutMs = timeoutMs;
  }

  /** The parsed JSON answer (undefined for an empty body, e.g. a 204). */
  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const what = `${method} ${path.split('?')[0]}`;
    for (let retry = 0; ; retry++) {
      let res: Response;
      try {
        res = await fetch(this.baseUrl + path, {
          method,
          headers: {
            authorization: `Bearer ${this.key}`,
            accept: 'application/json',
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (error) {
        if ((error as Error).name === 'TimeoutError') {
          throw new ConnectionError(`no answer from ${this.baseUrl} within ${this.timeoutMs / 1000} s (${what})`, { cause: error });
        }
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        throw new ConnectionError(`cannot reach ${this.baseUrl}: ${cause?.code ?? cause?.message ?? (error as Error).message}`, { cause: error });
      }
      const text = await res.text();
      if (res.status === 429 && retry < MAX_RATE_LIMIT_RETRIES) {
        const seconds = Math.min(Number(res.headers.get('retry-after')) || 1, MAX_RETRY_AFTER_SECONDS);
        await new Promise((r) => setTimeout(r, seconds * 1000));
        continue;
      }
      let json: unknown;
      try {
        json = text === '' ? undefined : JSON.parse(text);
      } catch {
        json = undefined;
      }
      if (!res.ok) {
        const { error, details } = (json ?? {}) as { error?: unknown; details?: unknown };
        throw new ApiError(
          res.status,
          what,
          typeof error === 'string' ? error : text.slice(0, 200) || res.statusText,
          Array.isArray(details) ? details : undefined,
        );
      }
      return json as T;
    }
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  /** Every item of a cursor-paged list, following `next_cursor` to the last page. */
  async all<T>(path: string, perPage = 100): Promise<T[]> {
    const items: T[] = [];
    const join = path.includes('?') ? '&' : '?';
    let cursor: string | null = null;
    do {
      const page: Page<T> = await this.get<Page<T>>(`${path}${join}per_page=${perPage}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      items.push(...page.items);
      cursor = page.has_more ? page.next_cursor : null;
    } while (cursor);
    return items;
  }
}

export const webhookPath = (id: string, sub = ''): string => `${WEBHOOKS_PATH}/${encodeURIComponent(id)}${sub}`;
