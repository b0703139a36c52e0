/**
 * Business metrics counted from log lines by CloudWatch Logs metric filters, for the functions
 * that count too little to carry Powertools Metrics (EMF) in their bundle.
 */
import { Unit } from 'aws-cdk-lib/aws-cloudwatch';
import { FilterPattern, type LogGroup, type MetricFilter } from 'aws-cdk-lib/aws-logs';
import { METRIC, METRICS_NAMESPACE } from '../../shared/domain/metric-names.ts';
import { VERIFICATION_SENT_MESSAGE } from '../../shared/usecases/owner-email.ts';

/** The metric filter's construct id, under the webhooks API's log group. */
export const VERIFICATION_EMAILS_FILTER_ID = 'VerificationEmailsSent';

/**
 * Counts the webhooks API's owner-address verification emails in `EmailsSent`: 1 for each of
 * their JSON log lines (OwnerEmailVerification writes one at INFO for each email sent), with
 * no dimensions, as the dispatcher's EMF counts its owner notifications, so that the dashboard's
 * graph and any alarm on the metric see both.
 */
export function countVerificationEmails(webhooksApiLogs: LogGroup): MetricFilter {
  return webhooksApiLogs.addMetricFilter(VERIFICATION_EMAILS_FILTER_ID, {
    filterPattern: FilterPattern.stringValue('$.message', '=', VERIFICATION_SENT_MESSAGE),
    metricNamespace: METRICS_NAMESPACE,
    metricName: METRIC.emailsSent,
    metricValue: '1',
    unit: Unit.COUNT,
  });
}
