/**
 * AttemptSender's total time (SendOptions.totalTimeoutMs): an OAuth2 attempt may make four
 * requests in a row, and a test event must be answered within API Gateway's 30 s.
 */
import type { WebhookCredentials } from '../../../shared/domain/webhooks.ts';
import { AttemptSender } from '../../../shared/usecases/attempt-sender.ts';
import type { HttpSender, OutboundRequest, SendResult } from '../../../shared/usecases/ports.ts';
import { settings } from './dispatch-harness.ts';
import { event, webhook } from './fakes.ts';

const oauth: WebhookCredentials = {
  signing_secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
  auth: { type: 'oauth2', token_url: 'https://idp.example/token', client_id: 'c', client_secret: 's' },
};

/** A receiver that answers 401 after `delayMs`, recording each request's own timeout. */
function slowReceiver(delayMs: number) {
  const timeouts: number[] = [];
  const http: HttpSender = {
    post: async (req: OutboundRequest): Promise<SendResult> => {
      timeouts.push(req.timeoutMs);
      await new Promise((r) => setTimeout(r, Math.min(delayMs, req.timeoutMs)));
      return { kind: 'response', statusCode: 401, headers: {}, bodyPrefix: '', durationMs: delayMs };
    },
  };
  return { http, timeouts };
}

describe('AttemptSender with a total time', () => {
  it('ends an OAuth2 attempt whose token never comes within the total, with a timeout', async () => {
    const { http, timeouts } = slowReceiver(0);
    const tokens = { get: () => new Promise<string>(() => undefined), invalidate: () => undefined };
    const result = await new AttemptSender(http, tokens, settings).send(webhook(), oauth, event(), new Date(), { totalTimeoutMs: 60 });
    expect(result).toMatchObject({ kind: 'error', error: 'timeout: no answer within 60 ms' });
    expect(timeouts).toEqual([]);
  });

  it('gives each request what is left of the total (401, a new token, the POST again)', async () => {
    const { http, timeouts } = slowReceiver(40);
    const tokens = { get: async () => 'token', invalidate: () => undefined };
    const result = await new AttemptSender(http, tokens, settings).send(webhook(), oauth, event(), new Date(), { totalTimeoutMs: 5_000 });
    // The first POST had what the total left (under the request timeout), the second 40 ms less at least.
    expect(timeouts).toHaveLength(2);
    expect(timeouts[0]).toBeLessThanOrEqual(5_000);
    expect(timeouts[1]).toBeLessThanOrEqual(timeouts[0]! - 40);
    expect(result).toMatchObject({ kind: 'response', statusCode: 401 });
  });

  it('without a total, each request has the request timeout', async () => {
    const { http, timeouts } = slowReceiver(0);
    const tokens = { get: async () => 'token', invalidate: () => undefined };
    await new AttemptSender(http, tokens, settings).send(webhook(), oauth, event(), new Date());
    expect(timeouts).toEqual([settings.requestTimeoutMs, settings.requestTimeoutMs]);
  });
});
