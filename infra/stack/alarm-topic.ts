/**
 * The topic the alarms notify: `alarmTopic`, else the topic of `alarmTopicArn`, else a topic of the
 * pipeline's own (`AlarmTopic`), so that an alarm always reaches someone who subscribed; with
 * `alarmEmail`, that address is subscribed.
 */
import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import type { ResolvedSettings } from './settings.ts';

export function createAlarmTopic(scope: Construct, s: ResolvedSettings): ITopic {
  const topic = s.alarmTopic ?? (s.alarmTopicArn ? Topic.fromTopicArn(scope, 'AlarmTopic', s.alarmTopicArn) : ownTopic(scope));
  if (s.alarmEmail) {
    const subscription = topic.addSubscription(new EmailSubscription(s.alarmEmail));
    Validations.of(subscription).acknowledge({
      id: 'Serverless-SNSRedrivePolicy',
      reason:
        'An alarm notification SNS cannot email (after its own retries) is a state change that stays in the alarm\'s history and on the dashboard; a dead-letter queue for it could only be watched by another alarm notifying this same topic.',
    });
  }
  return topic;
}

/**
 * Not encrypted at rest: notifications carry alarm names, states and metric values, no customer
 * data, and CloudWatch cannot publish to a topic encrypted with the AWS managed SNS key (its key
 * policy does not let CloudWatch in), so it would take a customer managed key and its policy for
 * nothing worth hiding. The topic refuses plain-text transport (enforceSSL, AwsSolutions-SNS3).
 */
function ownTopic(scope: Construct): Topic {
  const topic = new Topic(scope, 'AlarmTopic', { displayName: 'Hookline alarms', enforceSSL: true });
  // The topic policy replaces SNS's default one, so CloudWatch is let in explicitly, for this
  // account's alarms only.
  const stack = Stack.of(scope);
  topic.addToResourcePolicy(
    new PolicyStatement({
      sid: 'CloudWatchAlarmsPublish',
      principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['sns:Publish'],
      resources: [topic.topicArn],
      conditions: {
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) },
      },
    }),
  );
  return topic;
}
