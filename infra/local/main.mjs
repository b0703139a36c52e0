// `npm start`: the entry point. It turns on Node's compile cache (shared/compile-cache.mjs) before
// the runtime's modules load, then starts the runtime (runtime.ts). Plain JavaScript, like that
// module: the entry point is compiled before it can turn the cache on.
import { enableHooklineCompileCache } from '../../shared/compile-cache.mjs';

enableHooklineCompileCache();
await import('./runtime.ts');
