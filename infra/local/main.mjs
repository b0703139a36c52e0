// `npm start`: the entry point. It turns on Node's compile cache (V8 code for every module, in the
// OS temp directory) before the runtime's modules load: a start after the first reads their
// compiled code instead of parsing and type-stripping some thousand files again, which is most of
// the time from start to healthy. Then it starts the runtime (runtime.ts).
//
// Plain JavaScript, not TypeScript: the entry point is compiled before it can turn the cache on,
// and a .ts entry would load Node's type stripper (a WebAssembly module, about 25 ms of every
// start) for this one file.
import { enableCompileCache } from 'node:module';

enableCompileCache();
await import('./runtime.ts');
