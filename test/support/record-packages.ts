/**
 * `node --import ./test/support/record-packages.ts`: appends the name of every npm package the
 * process resolves a module of, once each, to the file named by RECORD_PACKAGES_TO.
 */
import { appendFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const file = process.env['RECORD_PACKAGES_TO'];
const seen = new Set<string>();
if (file) {
  registerHooks({
    resolve(specifier, context, next) {
      const resolved = next(specifier, context);
      const name = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(resolved.url)?.[1];
      if (name && !seen.has(name)) {
        seen.add(name);
        appendFileSync(file, `${name}\n`);
      }
      return resolved;
    },
  });
}
