import {
  authHeaders,
  isReceiving,
  webhookView,
  type ReceiverAuth,
  type Webhook,
} from '../../shared/domain/webhooks.ts';

const lower = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));

describe('authHeaders', () => {
  it('none: no header', () => {
    expect(authHeaders({ type: 'none' })).toEqual({});
  });

  it('bearer: Authorization: Bearer <token>', () => {
    expect(lower(authHeaders({ type: 'bearer', token: 'tok-123' }))).toEqual({ authorization: 'Bearer tok-123' });
  });

  it('basic: Authorization: Basic base64(user:password) (RFC 7617 example)', () => {
    expect(lower(authHeaders({ type: 'basic', username: 'Aladdin', password: 'open sesame' }))).toEqual({
      authorization: 'Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==',
    });
  });

  it('basic: a password containing a colon and non-ASCII is encoded as UTF-8', () => {
    const h = lower(authHeaders({ type: 'basic', username: 'u', password: 'p:ä' }));
    expect(h.authorization).toBe('Basic ' + 'dTpwOsOk');
  });

  it('header: the named header with the value', () => {
    expect(lower(authHeaders({ type: 'header', name: 'X-Api-Key', value: 'k-9' }))).toEqual({ 'x-api-key': 'k-9' });
  });

  it('oauth2 is not a plain header: nothing here', () => {
    const auth: ReceiverAuth = { type: 'oauth2', token_url: 'https://idp/token', client_id: 'c', client_secret: 's' };
    expect(authHeaders(auth)).toEqual({});
  });
});

const WEBHOOK: Webhook = {
  tenant_id: 'ten_1',
  id: 'wh_1',
  url: 'https://receiver.example.com/hook',
  events: ['alert.*', 'scan.completed'],
  active: true,
  status: 'healthy',
  description: 'SOC feed',
  format: 'standard',
  auth_type: 'bearer',
  owner_email: 'owner@example.com',
  has_secret: true,
  credentials_version: 3,
  created_at: '2026-03-15T10:00:00.000Z',
  updated_at: '2026-03-15T10:05:00.000Z',
};

describe('webhookView', () => {
  it('has exactly the fields of the contract webhook object, with auth as {type} only', () => {
    const v = webhookView(WEBHOOK);
    expect(Object.keys(v).sort()).toEqual(
      ['active', 'auth', 'created_at', 'description', 'events', 'format', 'id', 'owner_email', 'owner_email_verified', 'status', 'updated_at', 'url'].sort(),
    );
    expect(v).toEqual({
      id: 'wh_1',
      url: 'https://receiver.example.com/hook',
      events: ['alert.*', 'scan.completed'],
      active: true,
      status: 'healthy',
      description: 'SOC feed',
      format: 'standard',
      auth: { type: 'bearer' },
      owner_email: 'owner@example.com',
      owner_email_verified: false,
      created_at: '2026-03-15T10:00:00.000Z',
      updated_at: '2026-03-15T10:05:00.000Z',
    });
  });

  it('never carries credentials, even when the record it is given has them mixed in', () => {
    const withSecrets = {
      ...WEBHOOK,
      auth_type: 'basic' as const,
      secret: 'whsec_TOPSECRETTOPSECRET',
      signing_secrets: ['whsec_TOPSECRETTOPSECRET'],
      auth: { type: 'basic', username: 'bob', password: 'PASSWORD-XYZ' },
      token: 'TOKEN-XYZ',
      client_secret: 'CLIENT-SECRET-XYZ',
      owner_email_token_hash: 'TOKEN-HASH-XYZ',
      owner_email_token_expires_at: '2026-03-22T10:00:00.000Z',
      last_email_at: '2026-03-15T10:00:00.000Z',
      unsent_changes: [{ status: 'failing', at: '2026-03-15T10:01:00.000Z' }],
    } as unknown as Webhook;
    const v = webhookView(withSecrets);
    expect(v.auth).toEqual({ type: 'basic' });
    const json = JSON.stringify(v);
    for (const s of ['TOPSECRET', 'PASSWORD-XYZ', 'TOKEN-XYZ', 'CLIENT-SECRET-XYZ', 'bob']) expect(json).not.toContain(s);
    for (const k of ['secret', 'signing_secrets', 'token', 'password', 'client_secret', 'tenant_id', 'credentials_version', 'owner_email_token_hash', 'last_email_at', 'unsent_changes'])
      expect(v).not.toHaveProperty(k);
  });
});

describe('isReceiving', () => {
  it.each([
    [true, 'healthy', true],
    [true, 'failing', true],
    [true, 'disabled', false],
    [false, 'healthy', false],
    [false, 'failing', false],
    [false, 'disabled', false],
  ] as const)('active=%s status=%s -> %s', (active, status, expected) => {
    expect(isReceiving({ active, status })).toBe(expected);
  });
});
