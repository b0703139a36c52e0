/**
 * How every function is bundled, in one place and free of CDK imports: the stack maps it to
 * NodejsFunction's bundling options (functions.ts) and the bench builds with the same settings
 * (test/bench/bundles.ts), bundles and SDK floors alike.
 */

/**
 * ESM bundles may still contain CommonJS dependencies that call `require` (parts of the AWS SDK);
 * ESM has no `require`, so the bundle defines one. The alias avoids clashing with a
 * `createRequire` the bundled code may import itself.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __hooklineCreateRequire } from 'node:module'; const require = __hooklineCreateRequire(import.meta.url);";

export const BUNDLE_SETTINGS = {
  format: 'esm',
  target: 'node24',
  minify: true,
  // No source maps: with --enable-source-maps the first stack trace parses a 2 MB map
  // (about 230 ms, on the error path of a busy function); minified names still say where.
  sourcemap: false,
  mainFields: ['module', 'main'],
  banner: ESM_REQUIRE_BANNER,
} as const;

/** The same settings as esbuild's own build options (the bench, the catalogue's compiled schemas). */
export const esbuildOptions = () => ({
  bundle: true,
  platform: 'node' as const,
  format: BUNDLE_SETTINGS.format,
  target: BUNDLE_SETTINGS.target,
  minify: BUNDLE_SETTINGS.minify,
  sourcemap: BUNDLE_SETTINGS.sourcemap,
  mainFields: [...BUNDLE_SETTINGS.mainFields],
  banner: { js: BUNDLE_SETTINGS.banner },
  logLevel: 'warning' as const,
});
