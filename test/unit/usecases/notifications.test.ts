import type { AttemptSummary } from '../../../shared/domain/deliveries.ts';
import { disabledEmail, failingEmail, maskUrl, type OwnerEmailInput } from '../../../shared/domain/notifications.ts';

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
  { attempt: 2, status_code: null, error: 'timeout after 10000 ms', attempted_at: '2025-06-01T12:00:30.000Z' },
  { attempt: 3, status_code: 502, error: 'bad gateway from LB', attempted_at: '2025-06-01T12:02:30.000Z' },
  { attempt: 4, status_code: null, attempted_at: '2025-06-01T12:12:30.000Z' },
];

const input: OwnerEmailInput = {
  webhook: {
    id: 'wh_01ABC',
    url: 'https://bob:hunter2@siem.example.org/hook?key=SUPERSECRET',
    description: 'Production SIEM',
    owner_email: 'sec@example.org',
  },
  event: { id: 'evt_XYZ', event: 'ids.alert' },
  attempts,
  logUrl: 'https://api.example/api/v1/integrations/webhooks/wh_01ABC/deliveries',
};

const MASKED = 'https://****@siem.example.org/hook?key=****';

describe('failingEmail', () => {
  const { subject, text } = failingEmail(input);

  it('subject: the webhook id, "failing" and the masked URL', () => {
    expect(subject).toContain('wh_01ABC');
    expect(subject).toMatch(/failing/);
    expect(subject).toContain(MASKED);
  });

  it('never shows the credentials', () => {
    for (const s of [subject, text]) {
      expect(s).not.toContain('hunter2');
      expect(s).not.toContain('SUPERSECRET');
      expect(s).not.toContain('bob');
    }
  });

  it('body: the webhook, its description, the masked URL, the event type and id', () => {
    expect(text).toContain('wh_01ABC');
    expect(text).toContain('Production SIEM');
    expect(text).toContain(MASKED);
    expect(text).toContain('ids.alert');
    expect(text).toContain('evt_XYZ');
    expect(text).toContain('after 4 attempt');
  });

  it('body: one line per attempt with its number, time and outcome', () => {
    const lines = text.split('\n').filter((l) => /^\s+#\d+\s/.test(l));
    expect(lines).toHaveLength(4);
    lines.forEach((l, i) => {
      expect(l).toContain(`#${attempts[i]!.attempt}`);
      expect(l).toContain(attempts[i]!.attempted_at);
    });
    expect(lines[0]).toMatch(/HTTP 500\s*$/); // the error only repeats the status: not shown twice
    expect(lines[1]).toContain('timeout after 10000 ms');
    expect(lines[2]).toContain('HTTP 502 (bad gateway from LB)');
    expect(lines[3]).toContain('no response');
  });

  it('body: where to read the log and how to resend', () => {
    expect(text).toContain(input.logUrl);
    expect(text).toMatch(/retry/);
    expect(text).toMatch(/recover/);
  });

  it('a webhook without description is named by id only', () => {
    const plain = failingEmail({ ...input, webhook: { ...input.webhook, description: '' } });
    expect(plain.text).toMatch(/Webhook: wh_01ABC\n/);
  });
});

describe('disabledEmail', () => {
  const gone = { ...input, attempts: [{ attempt: 1, status_code: 410, error: 'receiver answered HTTP 410', attempted_at: '2025-06-01T12:00:00.000Z' }] };
  const { subject, text } = disabledEmail(gone);

  it('subject: the webhook id, "disabled", 410 and the masked URL', () => {
    expect(subject).toContain('wh_01ABC');
    expect(subject).toMatch(/disabled/);
    expect(subject).toContain('410');
    expect(subject).toContain(MASKED);
    expect(subject).not.toContain('hunter2');
  });

  it('body: the event, the attempt, how to re-enable, no credentials', () => {
    expect(text).toContain('evt_XYZ');
    expect(text).toContain('ids.alert');
    expect(text).toContain(MASKED);
    expect(text.split('\n').filter((l) => /^\s+#\d+\s/.test(l))).toHaveLength(1);
    expect(text).toMatch(/"active": true/);
    expect(text).not.toContain('SUPERSECRET');
    expect(text).toContain(input.logUrl);
  });
});
