// `npm start`: the entry point. It turns on Node's compile cache (V8 code for every module)
// before the runtime's modules load: a start after the first reads their compiled code instead
// of parsing and type-stripping some thousand files again, which is most of the time from start
// to healthy. Then it starts the runtime (runtime.ts).
//
// The cache is kept in the checkout, beside other tools' caches (node_modules/.cache), not in
// Node's default, the OS temp directory: there another local user could make the directory first
// and leave compiled code in it for this process to run. NODE_COMPILE_CACHE, when set, decides.
//
// Plain JavaScript, not TypeScript: the entry point is compiled before it can turn the cache on,
// and a .ts entry would load Node's type stripper (a WebAssembly module, about 25 ms of every
// start) for this one file.
import { enableCompileCache } from 'node:module';
import { fileURLToPath } from 'node:url';

enableCompileCache(process.env.NODE_COMPILE_CACHE || fileURLToPath(new URL('../../node_modules/.cache/hookline/compile', import.meta.url)));
await import('./runtime.ts');
