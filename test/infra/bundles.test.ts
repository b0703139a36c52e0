/**
 * What each function's bundle holds, read from esbuild's metafile with the stack's bundling
 * settings: only the SDK clients its adapters call, an HTTP client only where it sends to
 * receivers, no schema compiler, and an openapi function with neither zod nor the schemas.
 * (Sizes and cold imports against the SDK floors: `npm run bench -- --bundles-only`.)
 */
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { esbuildOptions } from '../../infra/stack/bundling.ts';
import { awsCallsOf } from '../../infra/stack/function-calls.ts';
import { FUNCTION_NAMES, PROJECT_ROOT, type FunctionName } from '../../infra/stack/functions.ts';

const inputs = {} as Record<FunctionName, string[]>;
const bytes = {} as Record<FunctionName, number>;
const texts = {} as Record<FunctionName, string>;

beforeAll(async () => {
  await Promise.all(
    FUNCTION_NAMES.map(async (name) => {
      const result = await build({
        ...esbuildOptions(),
        entryPoints: [join(PROJECT_ROOT, 'functions', name, 'handler.ts')],
        outfile: join(PROJECT_ROOT, 'cdk.out', 'bundles-test', name, 'index.mjs'),
        write: false,
        metafile: true,
        logLevel: 'error',
      });
      const output = Object.values((result.metafile as Metafile).outputs)[0]!;
      inputs[name] = Object.keys(output.inputs);
      bytes[name] = output.bytes;
      texts[name] = result.outputFiles![0]!.text;
    }),
  );
}, 60_000);

const holds = (name: FunctionName, fragment: string) => inputs[name].some((file) => file.includes(fragment));
const SDK_CLIENTS: Record<string, string> = {
  dynamodb: '@aws-sdk/client-dynamodb/',
  sqs: '@aws-sdk/client-sqs/',
  secretsmanager: '@aws-sdk/client-secrets-manager/',
  ses: '@aws-sdk/client-sesv2/',
  scheduler: '@aws-sdk/client-scheduler/',
};

describe('function bundles', () => {
  it.each(FUNCTION_NAMES)('%s holds the SDK clients of the services its adapters call, and no other', (name) => {
    const services = new Set(awsCallsOf(name).flatMap((c) => c.actions.map((a) => a.split(':')[0]!)));
    for (const [service, client] of Object.entries(SDK_CLIENTS)) expect({ service, bundled: holds(name, client) }).toEqual({ service, bundled: services.has(service) });
  });

  it('only the two functions that POST to receivers hold the sender (on node:http, no HTTP client library)', () => {
    const senders = FUNCTION_NAMES.filter((name) => holds(name, 'shared/adapters/http/node-http-sender.ts'));
    expect(senders.sort()).toEqual(['dispatcher', 'webhook-test']);
    for (const name of FUNCTION_NAMES) expect({ name, undici: holds(name, 'node_modules/undici/') }).toEqual({ name, undici: false });
  });

  it('no function holds a JSON Schema compiler or the full zod; only the API functions that validate requests hold zod/mini', () => {
    for (const name of FUNCTION_NAMES) {
      expect({ name, ajv: holds(name, 'node_modules/ajv') }).toEqual({ name, ajv: false });
      expect({ name, zodClassic: holds(name, 'zod/v4/classic/') }).toEqual({ name, zodClassic: false });
    }
    const withZod = FUNCTION_NAMES.filter((name) => holds(name, 'node_modules/zod/'));
    expect(withZod.sort()).toEqual(['admin-api', 'ingest', 'webhooks-api']);
  });

  it("holds, of the request schemas, only its own function's", () => {
    const schemaModules = (name: FunctionName) => inputs[name].filter((f) => /shared\/http\/\w+-schemas\.ts$/.test(f)).map((f) => f.split('/').pop()).sort();
    expect(schemaModules('ingest')).toEqual(['event-schemas.ts']);
    expect(schemaModules('admin-api')).toEqual(['tenant-schemas.ts']);
    expect(schemaModules('webhooks-api')).toEqual(['webhook-schemas.ts']);
  });

  it('checks targets without an address library, and the webhooks API holds only the delivery log reader (not what the dispatcher writes)', () => {
    for (const name of FUNCTION_NAMES) expect({ name, ipaddr: holds(name, 'node_modules/ipaddr.js/') }).toEqual({ name, ipaddr: false });
    expect(holds('webhooks-api', 'shared/adapters/aws/dynamo-delivery-log-reader.ts')).toBe(true);
    expect(holds('webhooks-api', 'shared/adapters/aws/dynamo-delivery-log.ts')).toBe(false);
    expect(holds('dispatcher', 'shared/adapters/aws/dynamo-delivery-log.ts')).toBe(true);
  });

  it("carries no zod/mini schema that none of its own uses (z.iso and z.coerce would bring every member)", () => {
    for (const name of FUNCTION_NAMES) {
      for (const unused of ['ZodMiniISODate"', 'ZodMiniISOTime"', 'ZodMiniISODuration"', 'ZodMiniBigInt"', 'ZodMiniDate"']) {
        expect({ name, unused, bundled: texts[name].includes(unused) }).toEqual({ name, unused, bundled: false });
      }
    }
  });

  it('the openapi function serves a document generated at build time: no zod, no schemas, at most 50 KB', () => {
    expect(holds('openapi', 'node_modules/zod/')).toBe(false);
    expect(inputs.openapi.filter((f) => f.includes('shared/http/') && !/api-handler|routes/.test(f))).toEqual([]);
    expect(bytes.openapi).toBeLessThanOrEqual(50 * 1024);
  });
});
