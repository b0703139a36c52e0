/**
 * The committed docs/openapi.json is what the code generates: a route, a schema or a summary
 * changed without regenerating the file fails here.
 */
import { readFileSync } from 'node:fs';
import { OPENAPI_FILE, openApiFileText } from './openapi-file.ts';

const HINT = 'docs/openapi.json differs from the code: run `npm run docs:openapi` and commit the result.';

describe('docs/openapi.json', () => {
  it('is exactly what shared/http/openapi.ts generates', () => {
    const committed = readFileSync(OPENAPI_FILE, 'utf8');
    const generated = openApiFileText();
    if (committed === generated) return;
    // Compared parsed, the failure shows the path or schema that differs, under the hint.
    try {
      expect(JSON.parse(committed)).toEqual(JSON.parse(generated));
    } catch (error) {
      (error as Error).message = `${HINT}\n\n${(error as Error).message}`;
      throw error;
    }
    throw new Error(`${HINT} (same document, other formatting)`);
  });
});
