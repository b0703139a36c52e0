/**
 * A composition root builds its AWS adapters from the kit its handler gives (functions/<name>/aws.ts):
 * without one, and without the one-machine runtime's adapters, it says which adapter it lacks.
 */
import { fanoutAws } from '../../functions/fanout/aws.ts';
import { composeFanout } from '../../functions/fanout/compose.ts';
import { MissingAwsAdapterError } from '../../shared/compose/errors.ts';
import { ENV } from '../../shared/config.ts';

const env = Object.fromEntries(
  [ENV.tenantsTable, ENV.webhooksTable, ENV.eventsTable, ENV.attemptsTable, ENV.eventsQueueUrl, ENV.deliveriesQueueUrl].map((name) => [name, 'unused']),
);

describe('a composition root on Lambda', () => {
  it('builds from its kit, and names the adapter its kit lacks', () => {
    expect(composeFanout({ env, awsKit: fanoutAws }).awsCalls.length).toBeGreaterThan(0);
    expect(() => composeFanout({ env })).toThrow(MissingAwsAdapterError);
    expect(() => composeFanout({ env, awsKit: { deliveryQueue: fanoutAws.deliveryQueue } })).toThrow('fanout: no AWS adapter "webhookStore" was given');
  });
});
