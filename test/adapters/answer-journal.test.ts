import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeHttpSender } from '../../shared/adapters/http/node-http-sender.ts';
import { UndiciHttpSender } from '../../shared/adapters/http/undici-http-sender.ts';
import { ANSWER_REPLAY_MS, AnswerJournal } from '../../shared/adapters/local/answer-journal.ts';
import { JournaledHttpSender } from '../../shared/adapters/local/journaled-http-sender.ts';
import type { OutboundRequest } from '../../shared/usecases/ports.ts';
import { eventually } from '../support/runtime.ts';

let dir: string;
let server: Server;
let url: string;
/** Requests the receiver got, by path; it answers with the status the path names (`/200`, `/500`). */
let received: string[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hookline-journal-'));
  received = [];
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received.push(req.url!);
      res.writeHead(Number(req.url!.slice(1))).end('from the receiver');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

const POLICY = { allowPrivateTargets: true, allowedPorts: [] };
const http = () => new NodeHttpSender({ policy: POLICY });
const request = (path: string, attemptKey?: string): OutboundRequest => ({
  url: `${url}${path}`,
  headers: { 'content-type': 'application/json' },
  body: '{}',
  timeoutMs: 5_000,
  ...(attemptKey ? { attemptKey } : {}),
});

describe('JournaledHttpSender', () => {
  it("gives a later process the 2xx an attempt got, instead of POSTing that attempt again", async () => {
    const first = new JournaledHttpSender(http(), new AnswerJournal(dir));
    const answered = await first.post(request('/200', 'dlv_A#001'));
    expect(answered).toMatchObject({ kind: 'response', statusCode: 200, bodyPrefix: 'from the receiver' });

    // The process is killed before the outcome is recorded; the next one claims the attempt again.
    const next = new JournaledHttpSender(http(), new AnswerJournal(dir));
    const replayed = await next.post(request('/200', 'dlv_A#001'));
    expect(replayed).toEqual({ kind: 'response', statusCode: 200, headers: {}, bodyPrefix: '', durationMs: (answered as { durationMs: number }).durationMs });
    expect(received).toEqual(['/200']);
    // Once: a later claim of the same attempt (none should come) is sent.
    await next.post(request('/200', 'dlv_A#001'));
    expect(received).toEqual(['/200', '/200']);
  });

  it('keeps a 2xx as soon as its status comes, so a kill while the body is still coming does not send it again', async () => {
    // A receiver that answers 200 at once and ends its body only when told.
    let endBody: () => void = () => undefined;
    const slow = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        received.push(req.url!);
        res.writeHead(200, { 'content-type': 'text/plain' }).write('status first, ');
        endBody = () => res.end('body later');
      });
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    const slowUrl = `http://127.0.0.1:${(slow.address() as AddressInfo).port}/slow`;
    try {
      const first = new JournaledHttpSender(new UndiciHttpSender({ policy: POLICY }), new AnswerJournal(dir));
      let settled = false;
      const answer = first.post({ ...request('', 'dlv_S#001'), url: slowUrl }).finally(() => (settled = true));
      const journalText = async () => (await Promise.all((await readdir(dir)).map((file) => readFile(join(dir, file), 'utf8')))).join('');
      await eventually('the 2xx in the journal', async () => ((await journalText()).includes('dlv_S#001\t200\t') ? true : undefined), 5_000, 10);
      expect(settled).toBe(false);

      // Killed here: the next process claims the attempt again and gets the answer without a POST.
      const next = new JournaledHttpSender(http(), new AnswerJournal(dir));
      expect(await next.post({ ...request('', 'dlv_S#001'), url: slowUrl })).toMatchObject({ kind: 'response', statusCode: 200, bodyPrefix: '' });
      expect(received).toEqual(['/slow']);

      endBody();
      expect(await answer).toMatchObject({ kind: 'response', statusCode: 200, bodyPrefix: 'status first, body later' });
    } finally {
      slow.closeAllConnections();
      await new Promise((resolve) => slow.close(resolve));
    }
  });

  it('sends again what got no 2xx, and what names no attempt (a test event, a token request)', async () => {
    const first = new JournaledHttpSender(http(), new AnswerJournal(dir));
    await first.post(request('/500', 'dlv_B#001'));
    await first.post(request('/200'));
    const next = new JournaledHttpSender(http(), new AnswerJournal(dir));
    expect(await next.post(request('/500', 'dlv_B#001'))).toMatchObject({ statusCode: 500, bodyPrefix: 'from the receiver' });
    expect(await next.post(request('/200'))).toMatchObject({ statusCode: 200, bodyPrefix: 'from the receiver' });
    expect(received).toEqual(['/500', '/200', '/500', '/200']);
  });
});

describe('AnswerJournal', () => {
  it('keeps its files private, skips a line a kill cut short, and carries what it took over into one file of its own', async () => {
    const journal = new AnswerJournal(dir);
    journal.takeOver();
    journal.record('dlv_C#002', { statusCode: 204, durationMs: 7 });
    journal.close();
    const [file] = await readdir(dir);
    expect((await stat(join(dir, file!))).mode & 0o777).toBe(0o600);
    await writeFile(join(dir, file!), `dlv_C#002\t204\t7\t${Date.now()}\ndlv_D#001\t2`, { flag: 'w' });
    const next = new AnswerJournal(dir);
    expect([...next.takeOver()]).toEqual([['dlv_C#002', { statusCode: 204, durationMs: 7 }]]);
    const files = await readdir(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).not.toBe(file);
    expect((await stat(join(dir, files[0]!))).mode & 0o777).toBe(0o600);
  });

  it('still has an answer after a second kill, before the restart recorded the outcome it replayed', async () => {
    let now = 5_000_000;
    const first = new AnswerJournal(dir, () => now);
    first.takeOver();
    first.record('dlv_E#001', { statusCode: 200, durationMs: 3 });
    // Killed: no close. The next start takes it over, and is killed in its turn before it records anything.
    now += 1_000;
    expect([...new AnswerJournal(dir, () => now).takeOver().keys()]).toEqual(['dlv_E#001']);
    now += 1_000;
    expect([...new AnswerJournal(dir, () => now).takeOver()]).toEqual([['dlv_E#001', { statusCode: 200, durationMs: 3 }]]);
  });

  it('keeps what it carried over on disk while it may still be given, though its files rotate', async () => {
    let now = 9_000_000;
    const first = new AnswerJournal(dir, () => now);
    first.record('dlv_H#001', { statusCode: 200, durationMs: 4 });
    // Killed. The next start takes it over, then runs on, rotating its files each minute...
    now += 1_000;
    const second = new AnswerJournal(dir, () => now);
    expect([...second.takeOver().keys()]).toEqual(['dlv_H#001']);
    for (let minute = 0; minute < 3; minute++) {
      now += 60_000;
      second.record(`dlv_I#00${minute}`, { statusCode: 200, durationMs: 1 });
    }
    // ... and is killed too, three minutes on: the carried answer is still there for the next.
    now += 1_000;
    expect([...new AnswerJournal(dir, () => now).takeOver().keys()]).toContain('dlv_H#001');
  });

  it('carries an answer from start to start for ten minutes after it came, no longer', async () => {
    let now = 7_000_000;
    const first = new AnswerJournal(dir, () => now);
    first.record('dlv_F#001', { statusCode: 200, durationMs: 3 });
    now += ANSWER_REPLAY_MS - 1;
    expect([...new AnswerJournal(dir, () => now).takeOver().keys()]).toEqual(['dlv_F#001']);
    now += 1;
    expect(new AnswerJournal(dir, () => now).takeOver().size).toBe(0);
    expect(await readdir(dir)).toHaveLength(1);
  });

  it('reads lines of the first format (no time) as answered now', async () => {
    await writeFile(join(dir, 'answers.1000.log'), 'dlv_G#001\t202\t9\n', { mode: 0o600 });
    expect([...new AnswerJournal(dir).takeOver()]).toEqual([['dlv_G#001', { statusCode: 202, durationMs: 9 }]]);
  });

  it('starts a new file each minute and keeps only the one before it', async () => {
    let now = 1_000_000;
    const journal = new AnswerJournal(dir, () => now);
    for (const key of ['a', 'b', 'c']) {
      journal.record(key, { statusCode: 200, durationMs: 1 });
      now += 60_000;
    }
    journal.close();
    expect((await readdir(dir)).sort()).toEqual(['answers.1060000.log', 'answers.1120000.log']);
    expect([...new AnswerJournal(dir, () => now).takeOver().keys()].sort()).toEqual(['b', 'c']);
  });
});
