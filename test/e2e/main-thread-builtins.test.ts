/**
 * The runtime's main thread runs the use cases and the database; every POST to a receiver is
 * the sender thread's, the test event included. So the main thread never loads Node's TLS or
 * HTTPS client, which were about 15 ms of each start when the webhook-test function made a
 * sender of its own (npm run bench, "healthy after start").
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTenant, createWebhook, WEBHOOKS } from '../support/hookline.ts';
import { startReceiver } from '../support/receiver.ts';
import { REPO_ROOT, startRuntime } from '../support/runtime.ts';

describe('the one-machine runtime', () => {
  it('sends a test event from the sender thread: its main thread loads no TLS or HTTPS client', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hookline-builtins-'));
    const file = join(dir, 'builtins.txt');
    const receiver = await startReceiver();
    const runtime = await startRuntime({
      nodeFlags: ['--import', join(REPO_ROOT, 'test/support/record-builtins.ts')],
      env: { RECORD_BUILTINS_TO: file },
    });
    try {
      const { api } = await createTenant(runtime);
      const hook = await createWebhook(api, { url: `${receiver.url}/hook`, events: ['*'] });
      const res = await api.post(`${WEBHOOKS}/${hook.id}/test`);
      expect(res.json).toMatchObject({ delivered: true, status_code: 200 });
      expect(receiver.requests.map((r) => r.json?.['type'] ?? r.json?.['event'])).toEqual(['webhook.test']);
    } finally {
      await runtime.cleanup();
      await receiver.close();
    }
    const builtins = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
    await rm(dir, { recursive: true, force: true });
    // The recorder saw the modules the main thread does load.
    expect(builtins).toEqual(expect.arrayContaining(['http', 'worker_threads', 'sqlite']));
    expect(builtins.filter((name) => name === 'tls' || name === 'https' || name.startsWith('internal/tls/'))).toEqual([]);
  });
});
