/**
 * `node --import ./test/support/record-builtins.ts`: when the process exits, writes the Node
 * builtin modules its main thread loaded (`process.moduleLoadList`), one a line, to the file
 * named by RECORD_BUILTINS_TO. A worker thread's modules are its own and are not written.
 */
import { writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

const file = process.env['RECORD_BUILTINS_TO'];
if (file && isMainThread) {
  process.once('exit', () => {
    // Undocumented in @types/node, present in every Node since 0.x: what this realm loaded, as "NativeModule <id>" entries.
    const loaded = (process as unknown as { moduleLoadList: readonly string[] }).moduleLoadList;
    const builtins = loaded.filter((entry) => entry.startsWith('NativeModule ')).map((entry) => entry.slice('NativeModule '.length));
    writeFileSync(file, builtins.join('\n') + '\n');
  });
}
