/**
 * docs/api.md's "Every route" table is the route table of the code (shared/http/routes.ts):
 * a route added, removed or given another key fails here until the document says so.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROUTES } from '../../shared/http/routes.ts';
import { REPO_ROOT } from '../support/runtime.ts';
import { tableUnder } from './markdown.ts';

describe('docs/api.md', () => {
  it('lists every route of shared/http/routes.ts with its key, and no other', () => {
    const rows = tableUnder(readFileSync(join(REPO_ROOT, 'docs', 'api.md'), 'utf8'), 'Every route');
    // The route cell may carry a body after the path (`PUT /x {"a"}`): method and path only.
    const documented = rows.map((r) => `${r['route']!.split(' ').slice(0, 2).join(' ')} ${r['key']}`).sort();
    const coded = ROUTES.map((r) => `${r.method} ${r.path} ${r.auth}`).sort();
    expect(documented).toEqual(coded);
  });
});
