import type { AttemptSummary } from '../../../shared/domain/deliveries.ts';
import {
  disabledEmail,
  failingEmail,
  maskUrl,
  MAX_DESCRIPTION_CHARS,
  quotedDescription,
  urlOrigin,
  verificationEmail,
  type OwnerEmailInput,
} from '../../../shared/domain/notifications.ts';

describe('maskUrl', () => {
  it('masks user name and password', () => {
    expect(maskUrl('https://alice:secret@hooks.example.com/in')).toBe('https://****@hooks.example.com/in');
  });

  it('masks a user name alone, and a password alone', () => {
    expect(maskUrl('https://tokenonly@hooks.example.com/')).toBe('https://****@hooks.example.com/');
    const out = maskUrl('https://:pw-only@hooks.example.com/');
    expect(out).not.toContain('pw-only');
    expect(out).toBe('https://****@hooks.example.com/');
  });

  it('masks every query value and keeps the keys', () => {
    expect(maskUrl('https://hooks.example.com/in?token=abc123&x=1&empty=')).toBe(
      'https://hooks.example.com/in?token=****&x=****&empty=****',
    );
  });

  it('masks a query component without "=" whole: `?TOKEN` is as much a credential', () => {
    expect(maskUrl('https://hooks.example.com/in?TOKEN123')).toBe('https://hooks.example.com/in?****');
    expect(maskUrl('https://hooks.example.com/in?a=1&RAWSECRET&b=2')).toBe('https://hooks.example.com/in?a=****&****&b=****');
  });

  it('masks userinfo and query together, keeping scheme, host, port and path', () => {
    const out = maskUrl('https://u:p@hooks.example.com:8443/a/b?api_key=K3Y');
    expect(out).toBe('https://****@hooks.example.com:8443/a/b?api_key=****');
  });

  it('masks repeated keys one by one', () => {
    expect(maskUrl('https://h.example/?k=1&k=2')).toBe('https://h.example/?k=****&k=****');
  });

  it('leaves a URL without credentials or query unchanged', () => {
    expect(maskUrl('https://hooks.example.com/in/path')).toBe('https://hooks.example.com/in/path');
    expect(maskUrl('http://10.0.0.5:8080/x')).toBe('http://10.0.0.5:8080/x');
  });

  it('drops a bare "?"', () => {
    expect(maskUrl('https://hooks.example.com/in?')).toBe('https://hooks.example.com/in');
  });

  it('says so for an invalid URL, without echoing it', () => {
    expect(maskUrl('not a url with secret=abc')).toBe('(invalid URL)');
    expect(maskUrl('')).toBe('(invalid URL)');
  });
});

const attempts: AttemptSummary[] = [
  { attempt: 1, status_code: 500, error: 'receiver answered HTTP 500', attempted_at: '2025-06-01T12:00:00.000Z' },
  { attempt: 2, status_code: null, error: 'timeout: no answer within 10000 ms', attempted_at: '2025-06-01T12:00:30.000Z' },
  { attempt: 3, status_code: 302, error: 'redirect 302 not followed (to https://evil.example/reset-your-password)', attempted_at: '2025-06-01T12:02:30.000Z' },
  { attempt: 4, status_code: null, attempted_at: '2025-06-01T12:12:30.000Z' },
];

const EVENT_ID = 'evt_01JX0000000000000000000000';

const input: OwnerEmailInput = {
  webhook: {
    id: 'wh_01ABC',
    url: 'https://bob:hunter2@siem.example.org:8443/hook/path?key=SUPERSECRET',
    description: 'Production SIEM',
  },
  event: { id: EVENT_ID, event: 'ids.alert' },
  attempts,
  logUrl: 'https://api.example/api/v1/integrations/webhooks/wh_01ABC/deliveries',
};

const ORIGIN = 'https://siem.example.org:8443';

describe('urlOrigin', () => {
  it('keeps scheme, host and port only', () => {
    expect(urlOrigin('https://u:p@hooks.example.com:8443/a/b?api_key=K3Y#frag')).toBe('https://hooks.example.com:8443');
    expect(urlOrigin('http://127.0.0.1:9/x')).toBe('http://127.0.0.1:9');
    expect(urlOrigin('https://[::1]:8443/p')).toBe('https://[::1]:8443');
    expect(urlOrigin('https://hooks.example.com:443/p')).toBe('https://hooks.example.com');
  });
  it('says so for an invalid URL, without echoing it', () => {
    expect(urlOrigin('not a url /reset')).toBe('(invalid URL)');
  });
});

describe('quotedDescription', () => {
  it('quotes the description on one line', () => {
    expect(quotedDescription('Production SIEM')).toBe('"Production SIEM"');
    expect(quotedDescription('line one\r\nline two\tand\u0000 more')).toBe('"line one line two and more"');
  });
  it('drops bidi overrides and line separators, escapes quotes', () => {
    expect(quotedDescription('a\u202Eevil\u2028b "c"')).toBe('"a evil b \\"c\\""');
  });
  it(`keeps at most ${MAX_DESCRIPTION_CHARS} characters`, () => {
    const quoted = quotedDescription('x'.repeat(5000))!;
    expect([...JSON.parse(quoted)]).toHaveLength(MAX_DESCRIPTION_CHARS);
    expect(quoted.endsWith('…"')).toBe(true);
  });
  it('defangs links so that mail clients do not make them clickable', () => {
    expect(quotedDescription('Log in at https://evil.example/login now')).toBe('"Log in at https[:]//evil.example/login now"');
  });
  it('nothing for an empty or blank description', () => {
    expect(quotedDescription('')).toBeUndefined();
    expect(quotedDescription(' \n\t ')).toBeUndefined();
  });
});

describe('failingEmail', () => {
  const { subject, text } = failingEmail(input);

  it('subject: Hookline, the webhook id and "failing", nothing the tenant wrote', () => {
    expect(subject).toBe('Hookline: webhook wh_01ABC is failing');
  });

  it('never shows the credentials, the path or the query', () => {
    for (const s of [subject, text]) {
      for (const hidden of ['hunter2', 'SUPERSECRET', 'bob', '/hook/path', 'key=']) expect(s).not.toContain(hidden);
    }
  });

  it('body: the webhook, its quoted description, the receiver origin, the event type and id', () => {
    expect(text).toContain('wh_01ABC');
    expect(text).toContain('Description: "Production SIEM"');
    expect(text).toContain(`Receiver:    ${ORIGIN} (path not shown)`);
    expect(text).toContain('ids.alert');
    expect(text).toContain(EVENT_ID);
    expect(text).toContain('after 4 attempt');
  });

  it('body: one line per attempt with its number, time and outcome in Hookline\'s words only', () => {
    const lines = text.split('\n').filter((l) => /^\s+#\d+\s/.test(l));
    expect(lines).toHaveLength(4);
    lines.forEach((l, i) => {
      expect(l).toContain(`#${attempts[i]!.attempt}`);
      expect(l).toContain(attempts[i]!.attempted_at);
    });
    expect(lines[0]).toMatch(/HTTP 500\s*$/);
    expect(lines[1]).toMatch(/timeout$/);
    // The receiver's Location header is the tenant's text: not shown.
    expect(lines[2]).toMatch(/HTTP 302 \(redirect not followed\)$/);
    expect(text).not.toContain('evil.example');
    expect(lines[3]).toContain('no response');
  });

  it('body: where to read the log and how to resend', () => {
    expect(text).toContain(input.logUrl);
    expect(text).toMatch(/retry/);
    expect(text).toMatch(/recover/);
  });

  it('a webhook without description has no description line', () => {
    const plain = failingEmail({ ...input, webhook: { ...input.webhook, description: '' } });
    expect(plain.text).not.toMatch(/Description:/);
  });

  it('an event id the publisher chose is the tenant\'s text: not shown', () => {
    const chosen = failingEmail({ ...input, event: { id: 'Your-account-is-locked.call-now', event: 'ids.alert' } });
    expect(chosen.text).not.toContain('Your-account-is-locked');
    expect(chosen.text).toContain('id set by the publisher');
  });

  it('a phishing description is bounded, on one line, quoted, and nothing else of it appears', () => {
    const phishing = 'URGENT\n\nYour Hookline account is suspended.\nVerify at https://evil.example/verify ' + 'now! '.repeat(100);
    const email = failingEmail({ ...input, webhook: { ...input.webhook, description: phishing } });
    const lines = email.text.split('\n').filter((l) => l.includes('URGENT') || l.includes('suspended') || l.includes('now!'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Description: "URGENT Your Hookline account is suspended\. Verify at https\[:\]\/\/evil\.example\/verify now! .*…" \(as written in the webhook\)$/);
    expect(lines[0]!.length).toBeLessThan(MAX_DESCRIPTION_CHARS + 60);
    expect(email.subject).not.toMatch(/URGENT|suspended/);
  });

  it('sums up the changes held back since the last email, bounded', () => {
    const changes = [
      { status: 'failing' as const, at: '2025-06-01T12:10:00.000Z' },
      { status: 'disabled' as const, at: '2025-06-01T12:20:00.000Z' },
    ];
    const email = failingEmail({ ...input, unsent: { changes, count: 5 } });
    expect(email.text).toContain('Since the last email: 5 more status change(s)');
    expect(email.text).toContain('  - failing at 2025-06-01T12:10:00.000Z');
    expect(email.text).toContain('  - disabled at 2025-06-01T12:20:00.000Z');
    expect(email.text).toContain('  - and 3 more');
    expect(failingEmail({ ...input, unsent: { changes: [], count: 0 } }).text).not.toContain('Since the last email');
  });
});

describe('disabledEmail', () => {
  const gone = { ...input, attempts: [{ attempt: 1, status_code: 410, error: 'receiver answered HTTP 410', attempted_at: '2025-06-01T12:00:00.000Z' }] };
  const { subject, text } = disabledEmail(gone);

  it('subject: the webhook id, "disabled" and 410, no URL', () => {
    expect(subject).toBe('Hookline: webhook wh_01ABC was disabled (410 Gone)');
  });

  it('body: the event, the attempt, how to re-enable, the origin only', () => {
    expect(text).toContain(EVENT_ID);
    expect(text).toContain('ids.alert');
    expect(text).toContain(ORIGIN);
    expect(text.split('\n').filter((l) => /^\s+#\d+\s/.test(l))).toHaveLength(1);
    expect(text).toMatch(/"active": true/);
    expect(text).not.toContain('SUPERSECRET');
    expect(text).not.toContain('/hook/path');
    expect(text).toContain(input.logUrl);
  });
});

describe('verificationEmail', () => {
  it('carries the link and Hookline\'s text only', () => {
    const link = 'https://api.example/api/v1/email-verifications/ev1.x.wh_1.abc';
    const { subject, text } = verificationEmail({ webhookId: 'wh_01ABC', link, expiresAt: '2025-06-08T12:00:00.000Z' });
    expect(subject).toBe('Hookline: confirm this address for webhook emails');
    expect(text).toContain(`  ${link}\n`);
    expect(text).toContain('wh_01ABC');
    expect(text).toContain('2025-06-08T12:00:00.000Z');
  });
});
