/**
 * The ceiling: a plain undici `request` POST loop, run in its own process as the dispatcher runs
 * in the runtime's. argv[2]: JSON {urls, requests, inFlight, bodyBytes}. Prints JSON {ms, cpuMs, ok, failed}
 * (cpuMs: this process's CPU time over the loop).
 */
import { Agent, request } from 'undici';
import { ownCpuMs } from './stats.ts';

const { urls, requests, inFlight, bodyBytes } = JSON.parse(process.argv[2]!) as {
  urls: string[];
  requests: number;
  inFlight: number;
  bodyBytes: number;
};
// Pool settings like the sender's (shared/adapters/http/node-http-sender.ts): 64 connections per origin, keep-alive.
const agent = new Agent({ connections: 64, keepAliveTimeout: 10_000, connect: { timeout: 10_000 } });
const body = JSON.stringify({ pad: 'x'.repeat(Math.max(0, bodyBytes - 10)) });
let next = 0;
let ok = 0;
let failed = 0;
const cpuBefore = ownCpuMs();
const t0 = performance.now();
await Promise.all(
  Array.from({ length: inFlight }, async () => {
    while (next < requests) {
      const i = next++;
      try {
        const res = await request(urls[i % urls.length]!, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'Hookline/bench' },
          body,
          dispatcher: agent,
        });
        await res.body.dump();
        if (res.statusCode >= 200 && res.statusCode < 300) ok++;
        else failed++;
      } catch {
        failed++;
      }
    }
  }),
);
const ms = performance.now() - t0;
const cpuMs = ownCpuMs() - cpuBefore;
await agent.close();
process.stdout.write(JSON.stringify({ ms, cpuMs, ok, failed }) + '\n');
