/**
 * The platform team's event catalogue (`catalogueFile`): validated at synth, shipped inside the
 * bundles of the functions that use it (with its schemas compiled, for the function that checks
 * event data), named by HOOKLINE_CATALOGUE_FILE, and a content change is a code change. The only
 * infra suite that really bundles: two stacks (catalogue A and B) in one app, so that it also
 * proves CDK's in-process bundle cache does not hand B the bundle of A.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { bundledCatalogue, catalogueFromEnv, CATALOGUE_VALIDATORS_FILE } from '../../shared/compose/catalogue.ts';
import { FUNCTION_ENV } from '../../shared/config.ts';
import { OPENAPI_DOCUMENT_FILE } from '../../functions/openapi/handler.ts';
import { openApiDocument } from '../../shared/http/openapi.ts';
import {
  CATALOGUE_FUNCTIONS,
  CATALOGUE_LAMBDA_PATH,
  loadCatalogue,
  SCHEMA_FUNCTIONS,
} from '../../infra/stack/catalogue.ts';
import { CATALOGUE_ENV, FUNCTION_NAMES, PROJECT_ROOT } from '../../infra/stack/functions.ts';
import type { FunctionName } from '../../infra/stack/functions.ts';
import { HooklineStack } from '../../infra/stack/hookline-stack.ts';
import { CONTEXT, settingsFromContext } from '../../infra/stack/context.ts';
import { logicalId } from './helpers.ts';

const SAMPLE = join(PROJECT_ROOT, 'infra/stack/catalogue.sample.json');

let dir: string;
let fileA: string;
let fileB: string;
let assemblyDir: string;
let stackA: HooklineStack;
let stackB: HooklineStack;
let templateA: Template;
let templateB: Template;

const catalogueA = [
  { type: 'scan.completed', title: 'Scan completed', description: 'Scan finished' },
  {
    type: 'alert.created',
    title: 'Alert created',
    description: 'New alert generated',
    schema: { type: 'object', required: ['severity'], properties: { severity: { enum: ['low', 'high'] } } },
  },
];
const catalogueB = [...catalogueA, { type: 'device.offline', title: 'Device offline', description: '' }];

const fnProps = (stack: HooklineStack, template: Template, name: FunctionName) =>
  template.toJSON().Resources[logicalId(stack, stack.pipeline.functions.byName[name])].Properties;
/** The staged bundle of a function: cdk.out/asset.<hash>, the hash being the S3 key's. */
const bundleDir = (stack: HooklineStack, template: Template, name: FunctionName) => {
  const key = fnProps(stack, template, name).Code.S3Key as string;
  return join(assemblyDir, `asset.${key.replace(/\.zip$/, '')}`);
};

beforeAll(() => {
  // A directory name with a space and a quote: the copy command must survive both.
  dir = mkdtempSync(join(tmpdir(), "hookline cat'alogue-"));
  fileA = join(dir, 'a.json');
  fileB = join(dir, 'b.json');
  writeFileSync(fileA, JSON.stringify(catalogueA, null, 2));
  writeFileSync(fileB, JSON.stringify(catalogueB, null, 2));
  // Bundled for real; CDK's built-in template validation is nag.test.ts's (see TEMPLATE_ONLY).
  const app = new App({ outdir: join(dir, 'cdk.out'), builtinCloudFormationValidation: false });
  const env = { account: '123456789012', region: 'eu-west-1' };
  stackA = new HooklineStack(app, 'HooklineCatA', { env, catalogueFile: fileA });
  // Relative to the project root, as in cdk.json.
  stackB = new HooklineStack(app, 'HooklineCatB', { env, catalogueFile: relative(PROJECT_ROOT, fileB) });
  assemblyDir = app.synth().directory;
  templateA = Template.fromStack(stackA);
  templateB = Template.fromStack(stackB);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('catalogueFile', () => {
  it('names the variable the function code reads', () => {
    expect(CATALOGUE_ENV.file).toBe(FUNCTION_ENV.catalogueFile);
    expect([...CATALOGUE_FUNCTIONS].sort()).toEqual(['dispatcher', 'fanout', 'ingest', 'webhook-test', 'webhooks-api']);
    expect(SCHEMA_FUNCTIONS).toEqual(['ingest']);
  });

  it('sets HOOKLINE_CATALOGUE_FILE and the content hash on the functions that use the catalogue only', () => {
    const sha = createHash('sha256').update(readFileSync(fileA)).digest('hex');
    for (const name of FUNCTION_NAMES) {
      const vars = fnProps(stackA, templateA, name).Environment.Variables;
      if (CATALOGUE_FUNCTIONS.includes(name)) {
        expect(vars[CATALOGUE_ENV.file]).toBe(CATALOGUE_LAMBDA_PATH);
        expect(vars[CATALOGUE_ENV.sha256]).toBe(sha);
      } else {
        expect(vars).not.toHaveProperty([CATALOGUE_ENV.file]);
        expect(vars).not.toHaveProperty([CATALOGUE_ENV.sha256]);
      }
    }
  });

  it('ships the file byte for byte in those bundles, where the function code accepts it', () => {
    for (const name of CATALOGUE_FUNCTIONS) {
      const shipped = join(bundleDir(stackA, templateA, name), 'catalogue.json');
      expect(readFileSync(shipped, 'utf8')).toBe(readFileSync(fileA, 'utf8'));
      // What the handlers do at start-up with HOOKLINE_CATALOGUE_FILE (types and titles).
      const catalogue = catalogueFromEnv({ [FUNCTION_ENV.catalogueFile]: shipped });
      expect(catalogue.types.map((t) => t.type)).toEqual(['scan.completed', 'alert.created', 'webhook.test']);
      expect(existsSync(join(bundleDir(stackA, templateA, name), CATALOGUE_VALIDATORS_FILE))).toBe(SCHEMA_FUNCTIONS.includes(name));
    }
    for (const name of FUNCTION_NAMES.filter((n) => !CATALOGUE_FUNCTIONS.includes(n))) {
      expect(existsSync(join(bundleDir(stackA, templateA, name), 'index.mjs'))).toBe(true);
      expect(existsSync(join(bundleDir(stackA, templateA, name), 'catalogue.json'))).toBe(false);
    }
  });

  it('ships the schemas compiled beside the catalogue of the function that checks event data, which loads them', async () => {
    const shipped = join(bundleDir(stackA, templateA, 'ingest'), 'catalogue.json');
    // What the ingest handler does at its first invocation: the compiled module beside the file.
    const catalogue = await bundledCatalogue({ [FUNCTION_ENV.catalogueFile]: shipped });
    expect(catalogue.problems('alert.created', { severity: 'none' })).toEqual([
      { path: 'data.severity', message: 'must be equal to one of the allowed values' },
    ]);
    expect(catalogue.problems('alert.created', {})).toEqual([{ path: 'data', message: "must have required property 'severity'" }]);
    expect(catalogue.problems('alert.created', { severity: 'high' })).toEqual([]);
    expect(catalogue.problems('scan.completed', { anything: 1 })).toEqual([]);
    // Without its compiled schemas, a function refuses to check data rather than let it through.
    expect(() => catalogueFromEnv({ [FUNCTION_ENV.catalogueFile]: shipped }).problems('alert.created', { severity: 'high' })).toThrow(/without the validator/);
    // The compiled module is self-contained: no ajv import left in it.
    expect(readFileSync(join(bundleDir(stackA, templateA, 'ingest'), CATALOGUE_VALIDATORS_FILE), 'utf8')).not.toMatch(/from\s*["']ajv|require\(["']ajv/);
  });

  it('ships the OpenAPI document, generated at synth, beside the openapi function only', () => {
    for (const name of FUNCTION_NAMES) {
      const file = join(bundleDir(stackA, templateA, name), OPENAPI_DOCUMENT_FILE);
      expect(existsSync(file)).toBe(name === 'openapi');
    }
    expect(JSON.parse(readFileSync(join(bundleDir(stackA, templateA, 'openapi'), OPENAPI_DOCUMENT_FILE), 'utf8'))).toEqual(openApiDocument());
  });

  it('changes the code hash and the environment of those functions, and only theirs, when the content changes', () => {
    for (const name of FUNCTION_NAMES) {
      const a = fnProps(stackA, templateA, name);
      const b = fnProps(stackB, templateB, name);
      if (CATALOGUE_FUNCTIONS.includes(name)) {
        expect(b.Code.S3Key).not.toBe(a.Code.S3Key);
        expect(b.Environment.Variables[CATALOGUE_ENV.sha256]).not.toBe(a.Environment.Variables[CATALOGUE_ENV.sha256]);
        expect(readFileSync(join(bundleDir(stackB, templateB, name), 'catalogue.json'), 'utf8')).toBe(
          readFileSync(fileB, 'utf8'),
        );
      } else {
        expect(b.Code.S3Key).toBe(a.Code.S3Key);
      }
    }
  });

  it('fails the synth with the file and the problem when the catalogue is not valid', () => {
    const bad = (name: string, content: string) => {
      const file = join(dir, name);
      writeFileSync(file, content);
      return () => new HooklineStack(new App(), 'HooklineBadCatalogue', { catalogueFile: file });
    };
    expect(bad('not-json.json', '[{"type": ')).toThrow(/catalogueFile .*not-json\.json.*is not JSON/);
    expect(bad('empty.json', '[]')).toThrow(/non-empty JSON array/);
    expect(bad('bad-type.json', '[{"type": "Scan Completed", "title": "x"}]')).toThrow(/entry 0: type must be/);
    expect(bad('no-title.json', '[{"type": "scan.completed"}]')).toThrow(/title is required/);
    expect(bad('twice.json', JSON.stringify([catalogueA[0], catalogueA[0]]))).toThrow(/appears twice/);
    expect(
      bad('bad-schema.json', JSON.stringify([{ type: 'scan.completed', title: 'x', schema: { type: 'no-such-type' } }])),
    ).toThrow(/schema of scan\.completed is not a valid JSON Schema/);
    expect(() => new HooklineStack(new App(), 'HooklineNoCatalogue', { catalogueFile: join(dir, 'missing.json') })).toThrow(
      /missing\.json.*cannot be read/,
    );
  });

  it('is read from the hookline:catalogueFile context, empty meaning the built-in catalogue', () => {
    expect(settingsFromContext(new App({ context: { [CONTEXT.catalogueFile]: 'catalogue.json' } }).node).catalogueFile).toBe(
      'catalogue.json',
    );
    expect(settingsFromContext(new App({ context: { [CONTEXT.catalogueFile]: '' } }).node).catalogueFile).toBeUndefined();
  });

  it('has a sample in the repository that passes the same validation', () => {
    expect(loadCatalogue(relative(PROJECT_ROOT, SAMPLE), PROJECT_ROOT).types).toContain('scan.completed');
  });
});
