import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { composeIngest } from '../../functions/ingest/compose.ts';
import { EmfMetrics } from '../../shared/adapters/aws/emf-metrics.ts';
import type { LocalAdapters } from '../../shared/compose/local-adapters.ts';
import { ENV } from '../../shared/config.ts';
import { DEFAULT_CATALOGUE } from '../../shared/domain/catalogue.ts';
import { compileCatalogue } from '../../shared/domain/catalogue-schemas.ts';
import type { PublishedEvent } from '../../shared/domain/events.ts';
import { ATTEMPT_OUTCOMES, METRIC, METRICS_NAMESPACE, OUTCOME_DIMENSION } from '../../shared/domain/metric-names.ts';
import type { TenantAuthenticator } from '../../shared/usecases/tenants.ts';

/** One EMF document as CloudWatch Logs reads it. */
interface EmfLine {
  readonly _aws: {
    readonly Timestamp: number;
    readonly CloudWatchMetrics: readonly { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[];
  };
  readonly [member: string]: unknown;
}

/** What is written to stdout and stderr while a test runs (Lambda's runtime logs both). */
let stdout: string[] = [];
let stderr: string[] = [];
const realWrites = { stdout: process.stdout.write, stderr: process.stderr.write };
const capture = (into: string[]) =>
  ((chunk: string | Uint8Array) => {
    into.push(chunk.toString());
    return true;
  }) as typeof process.stdout.write;
beforeEach(() => {
  stdout = [];
  stderr = [];
  process.stdout.write = capture(stdout);
  process.stderr.write = capture(stderr);
});
afterEach(() => {
  process.stdout.write = realWrites.stdout;
  process.stderr.write = realWrites.stderr;
});

const emfLines = (): EmfLine[] =>
  stdout
    .join('')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((doc): doc is EmfLine => '_aws' in doc);
const directive = (line: EmfLine) => line._aws.CloudWatchMetrics[0]!;
const unitsOf = (line: EmfLine) => Object.fromEntries(directive(line).Metrics.map((m) => [m.Name, m.Unit]));

describe('EmfMetrics', () => {
  it('writes the undimensioned metrics on one line and AttemptsFailed on one line per Outcome, without a service dimension', () => {
    const metrics = new EmfMetrics();
    metrics.eventsPublished(3);
    metrics.deliverySucceeded(1200);
    metrics.deliverySucceeded(800);
    metrics.deliverySucceeded(undefined);
    metrics.attemptFailed('timeout');
    metrics.attemptFailed('dns');
    metrics.attemptFailed('timeout');
    metrics.webhookTurned('failing');
    metrics.webhookTurned('disabled');
    metrics.emailSent();
    metrics.flush();

    const lines = emfLines();
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      expect(line._aws.CloudWatchMetrics).toHaveLength(1);
      expect(directive(line).Namespace).toBe(METRICS_NAMESPACE);
      expect(line).not.toHaveProperty('service');
    }

    const [plain, ...failures] = lines;
    expect(directive(plain!).Dimensions).toEqual([[]]);
    expect(unitsOf(plain!)).toEqual({
      [METRIC.eventsPublished]: 'Count',
      [METRIC.deliveriesSucceeded]: 'Count',
      [METRIC.deliveryLatency]: 'Milliseconds',
      [METRIC.webhooksFailing]: 'Count',
      [METRIC.webhooksDisabled]: 'Count',
      [METRIC.emailsSent]: 'Count',
    });
    expect(plain).toMatchObject({
      [METRIC.eventsPublished]: 3,
      [METRIC.deliveriesSucceeded]: 3,
      [METRIC.deliveryLatency]: [1200, 800],
      [METRIC.webhooksFailing]: 1,
      [METRIC.webhooksDisabled]: 1,
      [METRIC.emailsSent]: 1,
    });

    for (const line of failures) {
      expect(directive(line).Dimensions).toEqual([[OUTCOME_DIMENSION], []]);
      expect(unitsOf(line)).toEqual({ [METRIC.attemptsFailed]: 'Count' });
      expect(ATTEMPT_OUTCOMES).toContain(line[OUTCOME_DIMENSION]);
    }
    expect(Object.fromEntries(failures.map((l) => [l[OUTCOME_DIMENSION], l[METRIC.attemptsFailed]]))).toEqual({ timeout: 2, dns: 1 });
  });

  it('writes nothing, not even a warning, when nothing was recorded; each flush writes only what came since the last', () => {
    const metrics = new EmfMetrics();
    metrics.flush();
    expect([...stdout, ...stderr]).toEqual([]);
    metrics.emailSent();
    metrics.flush();
    metrics.flush();
    expect(emfLines().map((l) => l[METRIC.emailsSent])).toEqual([1]);
  });
});

describe('a composed function with the EMF adapter', () => {
  const catalogue = compileCatalogue(DEFAULT_CATALOGUE);
  /** The ingest root on stand-in storage (the parts it uses), its key accepted for tenant ten_A. */
  function ingest(overrides: { metrics?: EmfMetrics } = {}) {
    const stored = new Set<string>();
    const local = {
      events: { putIfAbsent: async (e: PublishedEvent) => (stored.has(e.id) ? 'duplicate-done' : (stored.add(e.id), 'created')) },
      eventQueue: { enqueue: async () => {}, fits: () => true },
      tenants: { rateLimitOf: async () => undefined },
    } as unknown as LocalAdapters;
    const tenantAuth = { authenticate: async () => 'ten_A' } as unknown as TenantAuthenticator;
    const env = Object.fromEntries(
      [ENV.tenantsTable, ENV.webhooksTable, ENV.eventsTable, ENV.attemptsTable, ENV.eventsQueueUrl, ENV.deliveriesQueueUrl].map((name) => [name, 'unused']),
    );
    const { handler } = composeIngest({ env, local, tenantAuth, catalogue, requestAllowance: { take: async () => undefined }, ...overrides });
    return (ids: string[]) =>
      handler(
        {
          routeKey: 'POST /v1/events',
          headers: { authorization: 'Bearer hk_test' },
          body: JSON.stringify({ events: ids.map((id) => ({ id, event: 'scan.completed', data: { scan_id: id } })) }),
          isBase64Encoded: false,
        } as unknown as APIGatewayProxyEventV2,
        {} as Context,
      );
  }

  it('ingest writes its EventsPublished line at the end of each invocation, counting only new events', async () => {
    const publish = ingest({ metrics: new EmfMetrics() });
    expect((await publish(['evt_1', 'evt_2'])).statusCode).toBe(202);
    expect(emfLines().map((l) => l[METRIC.eventsPublished])).toEqual([2]);
    expect((await publish(['evt_2', 'evt_3'])).statusCode).toBe(202);
    expect(emfLines().map((l) => l[METRIC.eventsPublished])).toEqual([2, 1]);
    // Replays only: nothing new, no line.
    expect((await publish(['evt_1'])).statusCode).toBe(202);
    expect(emfLines()).toHaveLength(2);
    expect(directive(emfLines()[0]!)).toEqual({ Namespace: METRICS_NAMESPACE, Dimensions: [[]], Metrics: [{ Name: METRIC.eventsPublished, Unit: 'Count' }] });
  });

  it('writes no EMF on one machine unless the runtime passes a metrics recorder', async () => {
    const publish = ingest();
    expect((await publish(['evt_1'])).statusCode).toBe(202);
    expect(emfLines()).toEqual([]);
  });
});
