import { setFlagsFromString } from 'node:v8';

/**
 * Node flags of the one-machine runtime. `npm start` passes them (package.json's `start`), and
 * every test and benchmark that starts the runtime passes the same (test/unit/node-flags.test.ts
 * holds the two together).
 *
 * Only flags that leave V8's code cache usable are passed at start. Node loads its own modules
 * (node:crypto, node:http, node:sqlite...) with compiled code it ships, which V8 refuses when the
 * process runs with flags that change its cache tag (`v8.cachedDataVersionTag()`): the heap's
 * growing factor and the compilers' thread counts below did, and each start then compiled
 * Node's modules from their source, about twice the time (11 of them: 45 to 64 ms against 87 to
 * 136). Heap sizes and Node's own options leave the tag alone (the unit test holds the list to
 * that). Three alternating pairs of `npm run bench` (2026-12-02): healthy in 146, 152 and 150 ms
 * against 179, 196 and 163; the steady run's p99 15, 9 and 14 ms against 13, 11 and 14, its
 * warm-up's 16, 16 and 22 against 22, 10 and 8; RSS 163 to 176 MB against 173 to 177.
 *
 * - `--max-semi-space-size=8` (sizes every isolate's young generation, the main thread's and the
 *   sender thread's; V8 lets it win over a Worker's resourceLimits, and reads it at start only):
 *   a young generation grows to 3 x 32 MB under load though a scavenge keeps a few MB of it. At
 *   16 MB the sender thread's young generation alone took 48 MB; at 4 MB short-lived objects (a
 *   delivery waits a few ms for its answer) were promoted and the main thread's old generation
 *   filled with garbage.
 * - `--v8-pool-size=2` (Node's, not V8's: the threads V8 runs its background work on, 4 by
 *   default): at most two threads compiling and collecting garbage beside the main thread and the
 *   sender thread. When the traffic changes shape (the bench's one-event-a-request run after its
 *   batches), V8 compiles some 500 functions within a second, and on two CPUs up to four compiler
 *   threads took them from the main thread and the sender thread: deliveries 0.4 to 0.9 s into
 *   the run took up to 240 ms, which was the run's p99. One thread per compiler
 *   (`--concurrent-maglev-max-threads=1 --concurrent-turbofan-max-threads=1`, 2026-12-01) gave
 *   p99 25, 50 and 19 ms against 127, 72 and 86 without, in three alternating pairs; those
 *   flags change the cache tag (and the TurboFan one is read once, when the first isolate
 *   starts), and two pool threads keep the p99 where they had it (the pairs above).
 */
export const RUNTIME_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8', '--v8-pool-size=2'];

/**
 * V8 flags set once the runtime is running and its sender thread has warmed up, when both threads
 * have loaded the Node modules they need (each of these changes the cache tag: see above), by
 * applyV8FlagsAfterStart.
 *
 * - `--heap-growing-percent=20`: after a full GC the old generation's next limit is 1.2 times
 *   what it left instead of up to 4 times, so garbage promoted under load is collected at 50 to
 *   100 MB, not 200 (V8 reads it at every GC). Peak RSS 177 to 194 MB with it and 8 MB
 *   semi-spaces, 228 to 238 MB with 4 MB semi-spaces alone, 205 with 16 MB and this.
 */
export const RUNTIME_V8_FLAGS_AFTER_START: readonly string[] = ['--heap-growing-percent=20'];

/** Sets RUNTIME_V8_FLAGS_AFTER_START (for the whole process: V8's flags are not per thread). */
export function applyV8FlagsAfterStart(): void {
  for (const flag of RUNTIME_V8_FLAGS_AFTER_START) setFlagsFromString(flag);
}

/** The runtime's entry point, relative to the repository root. */
export const RUNTIME_ENTRY = 'infra/local/main.mjs';
