/**
 * `npm start`: the entry point. It turns on Node's compile cache (V8 code for every module, in the
 * OS temp directory) before the runtime's modules load: a start after the first reads their
 * compiled code instead of parsing and type-stripping some thousand files again, which is most of
 * the time from start to healthy. Then it starts the runtime (runtime.ts).
 */
import { enableCompileCache } from 'node:module';

enableCompileCache();
await import('./runtime.ts');
