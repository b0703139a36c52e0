/**
 * How every function is bundled, in one place and free of CDK imports: esbuild's build options,
 * which the stack builds its functions with (function-code.ts), the bench its bundles and SDK
 * floors (test/bench/bundles.ts), and the stack the catalogue's compiled schemas.
 */

/**
 * ESM bundles may still contain CommonJS dependencies that call `require` (parts of the AWS SDK);
 * ESM has no `require`, so the bundle defines one. The alias avoids clashing with a
 * `createRequire` the bundled code may import itself.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __hooklineCreateRequire } from 'node:module'; const require = __hooklineCreateRequire(import.meta.url);";

/** esbuild's build options for a function bundle (entry and output are the caller's). */
export const esbuildOptions = () => ({
  bundle: true,
  platform: 'node' as const,
  format: 'esm' as const,
  target: 'node24',
  minify: true,
  // No source maps: with --enable-source-maps the first stack trace parses a 2 MB map
  // (about 230 ms, on the error path of a busy function); minified names still say where.
  sourcemap: false,
  mainFields: ['module', 'main'],
  banner: { js: ESM_REQUIRE_BANNER },
  logLevel: 'warning' as const,
});
