import { readFileSync } from 'node:fs';
import { lazyHandler } from '../../shared/compose/function-base.ts';
import { composeOpenApi } from './compose.ts';

/** Shipped beside the bundle by the build (infra/stack/build-assets.ts). */
export const OPENAPI_DOCUMENT_FILE = 'openapi.json';

export const handler = lazyHandler(() => {
  // Read at the first invocation: a bundle shipped without its document fails there, loudly.
  const document: unknown = JSON.parse(readFileSync(new URL(`./${OPENAPI_DOCUMENT_FILE}`, import.meta.url), 'utf8'));
  return composeOpenApi({
    document: () => document,
    // The portal page's files are shipped beside the bundle too.
    portalDir: new URL('./', import.meta.url),
  }).handler;
});
