/**
 * The request schemas of the API. Requests are validated with them, and the OpenAPI document
 * (http/openapi.ts, generated at build time) is generated from them, so the two cannot disagree.
 * Written with `zod/mini`, of which a bundle carries only the parts its schemas use (the full
 * `zod` is about 440 KB), and one module per function, so that each bundle holds (and builds at
 * its cold start) only its own schemas: functions import those modules, never this one. The
 * answers of the OpenAPI document are in response-schemas.ts, which no function bundles.
 */
export * from './event-schemas.ts';
export * from './tenant-schemas.ts';
export * from './webhook-schemas.ts';
