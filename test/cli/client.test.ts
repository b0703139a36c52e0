/**
 * The CLI's API client against a server that accepts the connection and never answers (a
 * runtime whose event loop is stuck): the request ends with a clear error instead of waiting
 * for undici's five-minute headers timeout.
 */
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { ApiClient } from '../../shared/cli/client.ts';
import { ConnectionError } from '../../shared/cli/errors.ts';

it('gives up on a request nothing answers, with a ConnectionError that says so', async () => {
  const sockets: Socket[] = [];
  const silent = createServer((socket) => void sockets.push(socket));
  await new Promise<void>((listening) => silent.listen(0, '127.0.0.1', listening));
  try {
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const request = new ApiClient(url, 'hk_key', 300).get('/api/v1/integrations/webhooks');
    await expect(request).rejects.toThrow(ConnectionError);
    await expect(request).rejects.toThrow(`no answer from ${url} within 0.3 s (GET /api/v1/integrations/webhooks)`);
    expect(sockets.length).toBe(1);
  } finally {
    for (const socket of sockets) socket.destroy();
    silent.close();
  }
});
