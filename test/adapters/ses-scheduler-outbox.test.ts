import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { ConflictException, CreateScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { MailerError, SesMailer } from '../../shared/adapters/aws/ses-mailer.ts';
import { atExpression, ScheduleError, SchedulerRetryTimer } from '../../shared/adapters/aws/scheduler-retry-timer.ts';
import { openHooklineDatabase, type HooklineDatabase } from '../../shared/adapters/sqlite/database.ts';
import { GroupCommit } from '../../shared/adapters/sqlite/group-commit.ts';
import { SqliteOutbox } from '../../shared/adapters/sqlite/sqlite-outbox.ts';

const email = { to: 'owner@example.com', subject: 'Webhook wh_1 is failing', text: 'Line one\nLine two: ünïcode' };

describe('SesMailer', () => {
  const ses = mockClient(SESv2Client);
  beforeEach(() => ses.reset());

  it('sends exactly one SendEmail from the sender identity with the subject and text', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'm-1' });
    await new SesMailer(new SESv2Client({ region: 'us-east-1' }), 'alerts@hookline.example').send(email);
    const calls = ses.commandCalls(SendEmailCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({
      FromEmailAddress: 'alerts@hookline.example',
      Destination: { ToAddresses: ['owner@example.com'] },
      Content: {
        Simple: {
          Subject: { Data: 'Webhook wh_1 is failing', Charset: 'UTF-8' },
          Body: { Text: { Data: 'Line one\nLine two: ünïcode', Charset: 'UTF-8' } },
        },
      },
    });
  });

  it('translates an SES failure into MailerError and keeps the cause', async () => {
    const cause = new Error('MessageRejected');
    ses.on(SendEmailCommand).rejects(cause);
    const error = await new SesMailer(new SESv2Client({ region: 'us-east-1' }), 'a@b.c').send(email).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MailerError);
    expect((error as MailerError).cause).toBe(cause);
  });
});

describe('SchedulerRetryTimer', () => {
  const scheduler = mockClient(SchedulerClient);
  beforeEach(() => scheduler.reset());
  const target = {
    groupName: 'hookline-retries',
    queueArn: 'arn:aws:sqs:eu-west-1:123456789012:deliveries',
    roleArn: 'arn:aws:iam::123456789012:role/scheduler-send',
    deadLetterQueueArn: 'arn:aws:sqs:eu-west-1:123456789012:scheduler-dlq',
  };
  const message = { delivery_id: 'dlv_ABC', tenant_id: 't', webhook_id: 'wh_1', event_id: 'e1', attempt: 5, trigger: 'scheduled' as const, not_before: '2026-01-01T00:00:00Z' };

  it('creates a one-time at() schedule in the group, no flexible window, deleted after completion', async () => {
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:x' });
    await new SchedulerRetryTimer(new SchedulerClient({ region: 'eu-west-1' }), target).schedule(message, new Date('2026-11-23T14:05:09.750Z'));
    const calls = scheduler.commandCalls(CreateScheduleCommand);
    expect(calls).toHaveLength(1);
    // The exact time travels in the message: Scheduler may fire up to a minute early.
    const body = { ...message, not_before: '2026-11-23T14:05:09.750Z' };
    expect(calls[0]!.args[0].input).toEqual({
      Name: 'dlv_ABC-5',
      GroupName: 'hookline-retries',
      ScheduleExpression: 'at(2026-11-23T14:06:00)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      Target: {
        Arn: target.queueArn,
        RoleArn: target.roleArn,
        Input: JSON.stringify(body),
        RetryPolicy: { MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 },
        DeadLetterConfig: { Arn: target.deadLetterQueueArn },
      },
    });
  });

  it('treats an existing schedule for the same attempt as done (idempotent)', async () => {
    scheduler.on(CreateScheduleCommand).rejects(new ConflictException({ message: 'exists', Message: 'exists', $metadata: {} }));
    await expect(new SchedulerRetryTimer(new SchedulerClient({ region: 'eu-west-1' }), target).schedule(message, new Date())).resolves.toBeUndefined();
  });

  it('translates other failures into ScheduleError', async () => {
    scheduler.on(CreateScheduleCommand).rejects(new Error('AccessDenied'));
    await expect(new SchedulerRetryTimer(new SchedulerClient({ region: 'eu-west-1' }), target).schedule(message, new Date())).rejects.toBeInstanceOf(ScheduleError);
  });

  it('formats at() in UTC, rounded up to the whole minute Scheduler fires at', () => {
    expect(atExpression(new Date('2030-02-03T04:05:06.999Z'))).toBe('at(2030-02-03T04:06:00)');
    expect(atExpression(new Date('2030-02-03T04:05:00.000Z'))).toBe('at(2030-02-03T04:05:00)');
  });
});

describe('SqliteOutbox', () => {
  let dir: string;
  let db: HooklineDatabase;
  let commits: GroupCommit;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hookline-outbox-'));
    db = openHooklineDatabase(join(dir, 'hookline.db'));
    commits = new GroupCommit(db, 60_000);
  });
  afterEach(async () => {
    commits.stop();
    db.close();
    await rm(dir, { recursive: true, force: true });
  });
  const outboxOf = (d: HooklineDatabase) => new SqliteOutbox(d, join(dir, 'outbox'));
  const files = async () => (await readdir(join(dir, 'outbox')).catch(() => [] as string[])).filter((f) => f.endsWith('.eml'));

  it('writes one RFC 5322 message per email once it is committed, CRLF line endings, mode 0600', async () => {
    const outbox = outboxOf(db);
    commits.afterEachCommit(() => outbox.deliverCommitted());
    commits.start();
    await outbox.send(email);
    expect(await files()).toEqual([]);
    commits.commitNow();
    const written = await files();
    expect(written).toHaveLength(1);
    const path = join(dir, 'outbox', written[0]!);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const raw = await readFile(path, 'utf8');
    const [head, body] = raw.split('\r\n\r\n');
    expect(head).toMatch(/^From: .+\r\nTo: owner@example\.com\r\nSubject: Webhook wh_1 is failing\r\nDate: .+\+0000\r\nMessage-ID: <.+>\r\n/);
    expect(head).toContain('Content-Type: text/plain; charset=utf-8');
    expect(body).toBe('Line one\r\nLine two: ünïcode\r\n');
    expect(raw.replace(/\r\n/g, '')).not.toMatch(/\n/);
    // Forgotten once written: later commits write nothing more.
    commits.commitNow();
    await outbox.send({ ...email, to: 'second@example.com' });
    commits.commitNow();
    expect(await files()).toHaveLength(2);
    expect(db.prepare('SELECT COUNT(*) AS n FROM outbox_emails').get()).toEqual({ n: 0 });
  });

  it('encodes a non-ASCII subject as an RFC 2047 encoded word and never lets it break the header', async () => {
    const outbox = outboxOf(db);
    await outbox.send({ ...email, subject: 'Échec\r\nBcc: evil@example.com' });
    outbox.deliverCommitted();
    const [file] = await files();
    const raw = await readFile(join(dir, 'outbox', file!), 'utf8');
    const subject = raw.split('\r\n').find((l) => l.startsWith('Subject: '))!;
    expect(subject).toMatch(/^Subject: =\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=$/);
    expect(Buffer.from(subject.split('?')[3]!, 'base64').toString('utf8')).toBe('Échec Bcc: evil@example.com');
    expect(raw).not.toMatch(/^Bcc:/m);
  });

  it('a kill before the commit sends nothing; one after it, before the file, has it written once at the next start', async () => {
    // Killed before its commit: the email goes with the writes it came with.
    commits.start();
    await outboxOf(db).send({ ...email, to: 'rolled-back@example.com' });
    db.connection.close();
    db = openHooklineDatabase(join(dir, 'hookline.db'));
    commits = new GroupCommit(db, 60_000);
    outboxOf(db).deliverCommitted();
    expect(await files()).toEqual([]);

    // Committed, and killed before its file was written (no delivery after the commit).
    commits.start();
    await outboxOf(db).send({ ...email, to: 'committed@example.com' });
    commits.commitNow();
    expect(await files()).toEqual([]);
    db.connection.close();
    db = openHooklineDatabase(join(dir, 'hookline.db'));
    commits = new GroupCommit(db, 60_000);
    // The next start writes it; a second start (its row's delete lost too) writes nothing more.
    outboxOf(db).deliverCommitted();
    expect(await files()).toHaveLength(1);
    const [first] = await files();
    db.prepare('INSERT INTO outbox_emails (file, message) VALUES (?, ?)').run(first!, 'the same email again');
    outboxOf(db).deliverCommitted();
    expect(await files()).toEqual([first]);
    expect(await readFile(join(dir, 'outbox', first!), 'utf8')).toContain('To: committed@example.com');
  });
});
