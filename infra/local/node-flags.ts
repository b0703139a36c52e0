/**
 * Node flags of the one-machine runtime. `npm start` passes them (package.json's `start`), and
 * every test and benchmark that starts the runtime passes the same (test/unit/node-flags.test.ts
 * holds the two together). V8 reads them at start only (`v8.setFlagsFromString` is too late).
 *
 * `--max-semi-space-size=16`: under a steady load the young generation grew to 3 x 32 MB though
 * a scavenge keeps a few MB of it; 16 MB semi-spaces take about 70 MB off the peak RSS at the same
 * throughput (npm run bench; 2 and 8 MB cost throughput and latency in more scavenges).
 */
export const RUNTIME_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=16'];

/** The runtime's entry point, relative to the repository root. */
export const RUNTIME_ENTRY = 'infra/local/main.ts';
