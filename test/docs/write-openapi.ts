/** `npm run docs:openapi`: writes docs/openapi.json from the code (see openapi-file.ts). */
import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { OPENAPI_FILE, openApiFileText } from './openapi-file.ts';

writeFileSync(OPENAPI_FILE, openApiFileText());
console.log(`wrote ${relative(process.cwd(), OPENAPI_FILE)}`);
