/**
 * docs/openapi.json is the OpenAPI document the code generates (shared/http/openapi.ts), committed
 * so that a reader of the repository has it without starting anything. `npm run docs:openapi`
 * writes it (test/docs/write-openapi.ts); test/docs/openapi-file.test.ts fails when it is stale.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openApiDocument } from '../../shared/http/openapi.ts';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const OPENAPI_FILE = join(REPO_ROOT, 'docs', 'openapi.json');

/** The file's exact text: two-space indentation and a final newline, so diffs stay readable. */
export const openApiFileText = (): string => `${JSON.stringify(openApiDocument(), null, 2)}\n`;
