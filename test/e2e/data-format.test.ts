/**
 * The one-machine runtime keeps its data in `<data dir>/hookline.db`. A data directory written by
 * the earlier versions (dynalite's files in `dynamodb/`) is refused at start, with a message that
 * says what to do: starting afresh beside it would look as if every tenant and webhook was lost.
 * A data directory another runtime runs on is refused too; what a start cannot use is said in
 * one line; an IPv6 address to listen on makes a URL that works.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { REPO_ROOT, startRuntime } from '../support/runtime.ts';
import { RUNTIME_ENTRY, RUNTIME_NODE_FLAGS } from '../../infra/local/node-flags.ts';

function start(dataDir: string, port = '0', env: Readonly<Record<string, string>> = {}): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...RUNTIME_NODE_FLAGS, RUNTIME_ENTRY], {
      cwd: REPO_ROOT,
      env: { ...process.env, PORT: port, HOST: '127.0.0.1', HOOKLINE_DATA_DIR: dataDir, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // A runtime that starts instead of refusing is stopped: the test then fails on its exit code.
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('a data directory of the earlier stand-in format', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'hookline-old-format-'));
  });
  afterEach(() => rm(dataDir, { recursive: true, force: true }));

  it('is refused at start with what to do, and nothing is written beside it', async () => {
    await mkdir(join(dataDir, 'dynamodb'));
    await writeFile(join(dataDir, 'dynamodb', 'CURRENT'), 'MANIFEST-000001\n');
    const { code, stderr } = await start(dataDir);
    expect(code).toBe(1);
    expect(stderr).toContain('earlier format');
    expect(stderr).toContain(join(dataDir, 'dynamodb'));
    expect(stderr).toMatch(/empty HOOKLINE_DATA_DIR|move .* away/);
    // A message, not a stack trace.
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(await readdir(dataDir)).not.toContain('hookline.db');
  });
});

describe('what a start cannot use: one line that says what to do, not a stack trace', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'hookline-unusable-'));
  });
  afterEach(() => rm(dataDir, { recursive: true, force: true }));

  const refused = async (expected: string, env: Readonly<Record<string, string>> = {}) => {
    const { code, stderr } = await start(dataDir, '0', env);
    expect({ code, stderr }).toEqual({ code: 1, stderr: expect.stringContaining(expected) });
    expect(stderr).not.toMatch(/\n\s+at /);
  };

  it('a credentials.json that is not the keys file Hookline writes', async () => {
    for (const content of ['{"api_key": "hk_', 'null', '{"api_key": 42}']) {
      await writeFile(join(dataDir, 'credentials.json'), content);
      await refused(`${join(dataDir, 'credentials.json')} is not the keys file Hookline writes`);
    }
  });

  it('a runtime.pid that is not a file', async () => {
    await mkdir(join(dataDir, 'runtime.pid'));
    await refused(`${dataDir} cannot be used as the data directory (EISDIR`);
  });

  it('an event catalogue that is not there', async () => {
    await refused(`cannot read the catalogue ${join(dataDir, 'no-such-catalogue.json')}`, { HOOKLINE_CATALOGUE_FILE: join(dataDir, 'no-such-catalogue.json') });
  });
});

describe('an IPv6 address to listen on (HOST=::1)', () => {
  it('prints a base URL with the address in brackets, which answers', async () => {
    const rt = await startRuntime({ env: { HOST: '::1' } });
    try {
      expect(rt.baseUrl).toMatch(/^http:\/\/\[::1\]:\d+$/);
      expect(rt.stdout()).toContain(`OpenAPI: ${rt.baseUrl}/openapi.json`);
      const res = await fetch(`${rt.baseUrl}/api/v1/event-types`, { headers: { authorization: `Bearer ${rt.apiKey}` } });
      expect(res.status).toBe(200);
    } finally {
      await rt.cleanup();
    }
  });
});

describe('a data directory another runtime runs on', () => {
  it('is refused at start, and taken over once that runtime was killed; a stop gives it up', async () => {
    const first = await startRuntime();
    try {
      const { code, stderr } = await start(first.dataDir);
      expect(code).toBe(1);
      expect(stderr).toContain(`${first.dataDir} is in use by another Hookline runtime (process ${first.pid})`);
      expect(stderr).not.toMatch(/\n\s+at /);
      expect((await fetch(`${first.baseUrl}/healthz`)).status).toBe(200);

      await first.kill();
      const second = await first.restart();
      expect(await readdir(first.dataDir)).toContain('runtime.pid');
      expect(await second.stop()).toBe(0);
      expect(await readdir(first.dataDir)).not.toContain('runtime.pid');
    } finally {
      await first.cleanup();
    }
  });
});

describe('a start that cannot use its settings', () => {
  it('says which, without a stack: a data directory that is a file, a port in use', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hookline-settings-'));
    const busy = createServer();
    try {
      await writeFile(join(dir, 'a-file'), '');
      const asFile = await start(join(dir, 'a-file'));
      expect(asFile.code).toBe(1);
      expect(asFile.stderr).toContain(`HOOKLINE_DATA_DIR ${join(dir, 'a-file')} cannot be used as the data directory`);
      expect(asFile.stderr).not.toMatch(/\n\s+at /);

      await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
      const port = String((busy.address() as { port: number }).port);
      const inUse = await start(join(dir, 'data'), port);
      expect(inUse.code).toBe(1);
      expect(inUse.stderr).toContain(`cannot listen on 127.0.0.1:${port} (HOST, PORT)`);
      expect(inUse.stderr).toContain('EADDRINUSE');
      expect(inUse.stderr).not.toMatch(/\n\s+at /);
    } finally {
      busy.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
