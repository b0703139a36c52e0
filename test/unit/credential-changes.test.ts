import { MAX_LIVE_SECRETS, rotatedCredentials } from '../../shared/domain/credential-changes.ts';
import type { WebhookCredentials } from '../../shared/domain/webhooks.ts';

describe('rotatedCredentials', () => {
  const now = new Date('2026-12-02T12:00:00Z');
  const later = '2026-12-03T12:00:00Z';
  const start: WebhookCredentials = { signing_secrets: ['secret-one-1111'], auth: { type: 'none' } };

  it('keeps the secrets before it in their grace, newest first, at most three signing in all', () => {
    let c = rotatedCredentials(start, 'secret-two-2222', later, now);
    c = rotatedCredentials(c, 'secret-three-3333', later, now);
    c = rotatedCredentials(c, 'secret-four-4444', later, now);
    expect(c.signing_secrets).toEqual(['secret-four-4444']);
    expect(c.previous_secrets!.map((p) => p.secret)).toEqual(['secret-three-3333', 'secret-two-2222']);
    expect(1 + c.previous_secrets!.length).toBe(MAX_LIVE_SECRETS);
  });

  it('rotating to the secret already current (a retried call) changes nothing that signs', () => {
    const once = rotatedCredentials(start, 'secret-two-2222', later, now);
    const again = rotatedCredentials(once, 'secret-two-2222', later, now);
    expect(again.signing_secrets).toEqual(['secret-two-2222']);
    expect(again.previous_secrets!.map((p) => p.secret)).toEqual(['secret-one-1111']);
    // So the next rotation still keeps secret-one in its grace.
    const third = rotatedCredentials(again, 'secret-three-3333', later, now);
    expect(third.previous_secrets!.map((p) => p.secret)).toEqual(['secret-two-2222', 'secret-one-1111']);
  });

  it('drops a previous secret whose grace has ended', () => {
    const c = rotatedCredentials({ ...start, previous_secrets: [{ secret: 'expired-0000', expires_at: '2026-12-02T11:59:59Z' }] }, 'secret-two-2222', later, now);
    expect(c.previous_secrets!.map((p) => p.secret)).toEqual(['secret-one-1111']);
  });
});
