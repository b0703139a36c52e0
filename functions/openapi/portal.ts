import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

/**
 * The portal page (shared/portal/): static files (the page, its style sheet and its script's
 * four ES modules), served by the openapi function at
 * `GET /portal` and `GET /portal/{file}`. On Lambda the build ships them beside the bundle; on one
 * machine they are read from the repository.
 */
export const PORTAL_FILES = {
  'portal.html': 'text/html; charset=utf-8',
  'portal.js': 'text/javascript; charset=utf-8',
  'portal-session.js': 'text/javascript; charset=utf-8',
  'portal-deliveries.js': 'text/javascript; charset=utf-8',
  'portal-form.js': 'text/javascript; charset=utf-8',
  'portal.css': 'text/css; charset=utf-8',
} as const;
type PortalFile = keyof typeof PORTAL_FILES;

/** The files in the repository (the one-machine runtime, and the build, which ships them). */
export const PORTAL_SOURCE_DIR = new URL('../../shared/portal/', import.meta.url);

/**
 * No inline script or style, nothing from another origin, no framing, no forms posted anywhere:
 * the page's one script talks to this API only.
 */
export const PORTAL_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const SECURITY_HEADERS = {
  'content-security-policy': PORTAL_CSP,
  // The page's address never carries the token past load, and no request sends the address on.
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-cache',
};

/** Answers the portal's routes from `dir` (files read once); undefined for any other route. */
export function portalFiles(dir: URL): (event: APIGatewayProxyEventV2) => APIGatewayProxyStructuredResultV2 | undefined {
  const cache = new Map<PortalFile, string>();
  const read = (file: PortalFile): string => {
    let body = cache.get(file);
    if (body === undefined) cache.set(file, (body = readFileSync(new URL(file, dir), 'utf8')));
    return body;
  };
  return (event) => {
    let file: PortalFile;
    if (event.routeKey === 'GET /portal') file = 'portal.html';
    else if (event.routeKey !== 'GET /portal/{file}') return undefined;
    else {
      // The page is at /portal only; its modules and style sheet beside it.
      const name = event.pathParameters?.['file'] ?? '';
      if (name === 'portal.html' || !Object.hasOwn(PORTAL_FILES, name)) {
        return { statusCode: 404, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: 'No such portal file' }) };
      }
      file = name as PortalFile;
    }
    return { statusCode: 200, headers: { 'content-type': PORTAL_FILES[file], ...SECURITY_HEADERS }, body: read(file) };
  };
}

/** The files the build ships beside the openapi bundle: [absolute path, name in the bundle]. */
export const portalShippedFiles = (): [string, string][] => Object.keys(PORTAL_FILES).map((name) => [fileURLToPath(new URL(name, PORTAL_SOURCE_DIR)), name]);
