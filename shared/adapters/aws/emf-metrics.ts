import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRIC, METRICS_NAMESPACE, OUTCOME_DIMENSION, type AttemptOutcome, type MetricName } from '../../domain/metric-names.ts';
import type { MetricsRecorder } from '../../usecases/metrics.ts';

type MetricsLogger = NonNullable<ConstructorParameters<typeof Metrics>[0]>['logger'];
type CountedMetric = Exclude<MetricName, typeof METRIC.deliveryLatency | typeof METRIC.attemptsFailed>;

/**
 * The business metrics as CloudWatch Embedded Metric Format lines on stdout (Powertools Metrics):
 * CloudWatch Logs turns them into metrics, with no API call and no IAM grant.
 *
 * No `service` dimension: Powertools adds one by default, which would split every metric by
 * function and leave the dashboard's undimensioned queries empty. Every metric is published
 * without dimensions, and `AttemptsFailed` by `Outcome` besides (its line names both dimension
 * sets, `[Outcome]` and `[]`: one per class, and the total for an alarm). An EMF line has one
 * `Outcome` value, so `flush` writes one line of the undimensioned metrics and one line per
 * outcome seen (seven at most). Counts are summed in the invocation and written as one value each:
 * graph them with the `Sum` statistic.
 */
export class EmfMetrics implements MetricsRecorder {
  private readonly logger: MetricsLogger;
  private readonly metrics: Metrics;
  /** This invocation's counts and latencies, written by `flush` (recording itself cannot throw). */
  private counts = new Map<CountedMetric, number>();
  private failed = new Map<AttemptOutcome, number>();
  private latencies: number[] = [];

  /** `logger`: where Powertools' own warnings go (the function's JSON logger), never the metrics. */
  constructor(logger?: MetricsLogger) {
    this.logger = logger;
    this.metrics = new Metrics({ namespace: METRICS_NAMESPACE, ...(logger ? { logger } : {}) });
    this.metrics.clearDefaultDimensions();
  }

  eventsPublished(count: number): void {
    this.count(METRIC.eventsPublished, count);
  }

  deliverySucceeded(latencyMs: number | undefined): void {
    this.count(METRIC.deliveriesSucceeded, 1);
    if (latencyMs !== undefined && Number.isFinite(latencyMs)) this.latencies.push(Math.max(0, Math.round(latencyMs)));
  }

  attemptFailed(outcome: AttemptOutcome): void {
    this.failed.set(outcome, (this.failed.get(outcome) ?? 0) + 1);
  }

  webhookTurned(status: 'failing' | 'disabled'): void {
    this.count(status === 'failing' ? METRIC.webhooksFailing : METRIC.webhooksDisabled, 1);
  }

  emailSent(): void {
    this.count(METRIC.emailsSent, 1);
  }

  /**
   * Writes what this invocation recorded, if anything (Powertools warns on an empty flush): one
   * value per count, each latency. A fault is logged, never thrown: it would fail the invocation.
   */
  flush(): void {
    const { counts, failed, latencies } = this;
    this.counts = new Map();
    this.failed = new Map();
    this.latencies = [];
    try {
      for (const [name, value] of counts) this.metrics.addMetric(name, MetricUnit.Count, value);
      // A Lambda batch holds far fewer than Powertools' 100 values a line (it would write a line early).
      for (const latency of latencies) this.metrics.addMetric(METRIC.deliveryLatency, MetricUnit.Milliseconds, latency);
      // Dimensions are per line (Powertools clears them on publish). `addDimensions({})` is the
      // empty dimension set: the EMF form of "no dimensions" (a line naming no set has none).
      if (this.metrics.hasStoredMetrics()) this.metrics.addDimensions({}).publishStoredMetrics();
      for (const [outcome, value] of failed) {
        this.metrics
          .addMetric(METRIC.attemptsFailed, MetricUnit.Count, value)
          .addDimension(OUTCOME_DIMENSION, outcome)
          .addDimensions({})
          .publishStoredMetrics();
      }
    } catch (err) {
      // Nothing half-written is carried into the next invocation's line.
      this.metrics.clearMetrics();
      this.metrics.clearDimensions();
      this.logger?.warn(`could not write the metrics: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private count(name: CountedMetric, value: number): void {
    if (value > 0) this.counts.set(name, (this.counts.get(name) ?? 0) + value);
  }
}
