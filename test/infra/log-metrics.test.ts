/**
 * `EmailsSent` counted from the webhooks API's logs: its verification emails have no EMF line (the
 * bundle carries no Powertools Metrics), so a metric filter on its log group counts the line
 * OwnerEmailVerification writes for each (test/unit/verification-email-log.test.ts).
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { METRIC, METRICS_NAMESPACE } from '../../shared/domain/metric-names.ts';
import { JsonLogger } from '../../shared/logging.ts';
import { VERIFICATION_SENT_MESSAGE } from '../../shared/usecases/owner-email.ts';
import { HooklineStack } from '../../infra/stack/hookline-stack.ts';
import { TEMPLATE_ONLY, logicalId } from './helpers.ts';

let stack: HooklineStack;
let template: Template;

beforeAll(() => {
  stack = new HooklineStack(new App(TEMPLATE_ONLY), 'HooklineLogMetrics', {
    env: { account: '123456789012', region: 'eu-west-1' },
    senderEmail: 'hooks@example.com',
    publicUrl: 'https://hooks.example.com',
  });
  template = Template.fromStack(stack);
});

/**
 * Whether a JSON log event matches a filter pattern of the one form used here, `{ $.<field> = "<text>" }`
 * (CloudWatch Logs: the field's string value equals the text). Any other form fails the test.
 */
function matches(pattern: string, line: string): boolean {
  const form = /^\{ \$\.(\w+) = "((?:[^"\\]|\\.)*)" \}$/.exec(pattern);
  if (!form) throw new Error(`not a { $.field = "text" } pattern: ${pattern}`);
  const [, field, text] = form as unknown as [string, string, string];
  return (JSON.parse(line) as Record<string, unknown>)[field] === JSON.parse(`"${text}"`);
}

/** Lines as the functions write them (shared/logging.ts). */
function logLines(write: (log: JsonLogger) => void): string[] {
  const lines: string[] = [];
  write(new JsonLogger({ service: 'hookline-webhooks-api', persistentKeys: { function: 'webhooks-api' }, env: {}, write: (l) => lines.push(l.trim()) }));
  return lines;
}

describe('EmailsSent from the webhooks API\'s log group', () => {
  it('is one metric filter, on the webhooks API\'s own log group', () => {
    const filters = Object.values(template.findResources('AWS::Logs::MetricFilter'));
    expect(filters).toHaveLength(1);
    expect(filters[0]!.Properties.LogGroupName).toEqual({ Ref: logicalId(stack, stack.pipeline.functions.logGroups['webhooks-api']) });
  });

  it('publishes 1 to the dashboard\'s EmailsSent metric for each match, with no dimensions', () => {
    const filter = Object.values(template.findResources('AWS::Logs::MetricFilter'))[0]!.Properties;
    expect(filter.MetricTransformations).toEqual([{ MetricNamespace: METRICS_NAMESPACE, MetricName: METRIC.emailsSent, MetricValue: '1', Unit: 'Count' }]);
  });

  it('matches the line of a verification email sent, and no other line of the function', () => {
    const pattern = Object.values(template.findResources('AWS::Logs::MetricFilter'))[0]!.Properties.FilterPattern as string;
    const [sent] = logLines((log) => log.info(VERIFICATION_SENT_MESSAGE, { webhook_id: 'wh_1' }));
    expect(matches(pattern, sent!)).toBe(true);
    const others = logLines((log) => {
      log.error('could not send the owner email verification', { webhook_id: 'wh_1', error: 'SES throttled' });
      log.warn('owner email set; no sender email configured, verification not sent', { webhook_id: 'wh_1' });
      log.info('request', { route: 'POST /api/v1/integrations/webhooks', extra: VERIFICATION_SENT_MESSAGE });
    });
    expect(others.map((line) => matches(pattern, line))).toEqual([false, false, false]);
  });
});
