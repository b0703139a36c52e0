/**
 * Node flags of the one-machine runtime. `npm start` passes them (package.json's `start`), and
 * every test and benchmark that starts the runtime passes the same (test/unit/node-flags.test.ts
 * holds the two together). V8 reads them at start only (`v8.setFlagsFromString` is too late).
 *
 * The flags size the V8 heaps of every isolate of the process, the main thread's and the sender
 * thread's (V8 lets them win over a Worker's resourceLimits). Measured with `npm run bench`
 * (10 s steady run) since the POSTs run on their own thread:
 * - `--max-semi-space-size=8`: a young generation grows to 3 x 32 MB under load though a scavenge
 *   keeps a few MB of it. At 16 MB the sender thread's young generation alone took 48 MB; at 4 MB
 *   short-lived objects (a delivery waits a few ms for its answer) were promoted and the main
 *   thread's old generation filled with garbage.
 * - `--heap-growing-percent=20`: the old generation's next limit is 1.2 times what a full GC
 *   left instead of up to 4 times, so garbage promoted under load is collected at 50 to 100 MB,
 *   not 200.
 * Peak RSS 177 to 194 MB (228 to 238 MB with 4 MB semi-spaces alone, 205 with 16 MB and the
 * growing factor), healthy in a median 243 ms (218 ms without the flags: the start's modules
 * meet more full GCs), and the CPU per delivery unchanged within the machine's noise.
 * - `--concurrent-maglev-max-threads=1 --concurrent-turbofan-max-threads=1` (2026-12-01): one
 *   background thread for each of V8's optimizing compilers instead of two. When the traffic
 *   changes shape (the bench's one-event-a-request run after its batches), V8 compiles some 500
 *   functions within a second, and on two CPUs up to four compiler threads took them from the
 *   main thread and the sender thread: deliveries 0.4 to 0.9 s into the run took up to 240 ms,
 *   which was the run's p99. Steady runs after a pipeline, three alternating pairs: p99 25, 50
 *   and 19 ms (max 43 to 71) against 127, 72 and 86 (max 119 to 204). The pipeline itself was
 *   no slower: 0.473 of the ceiling against 0.443 over 7 pairs, with less CPU a delivery.
 */
export const RUNTIME_NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=8',
  '--heap-growing-percent=20',
  '--concurrent-maglev-max-threads=1',
  '--concurrent-turbofan-max-threads=1',
];

/** The runtime's entry point, relative to the repository root. */
export const RUNTIME_ENTRY = 'infra/local/main.mjs';
