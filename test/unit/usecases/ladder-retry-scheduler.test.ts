import { LadderRetryScheduler, SCHEDULER_FROM_SECONDS } from '../../../shared/adapters/aws/ladder-retry-scheduler.ts';
import type { DeliveryMessage } from '../../../shared/domain/deliveries.ts';
import { FakeClock, T0, TENANT } from './fakes.ts';

class RecordingTimer {
  readonly calls: { message: DeliveryMessage; at: Date }[] = [];
  async schedule(message: DeliveryMessage, at: Date): Promise<void> {
    this.calls.push({ message, at });
  }
}

const message: DeliveryMessage = {
  delivery_id: 'dlv_00000000000000000000000001',
  tenant_id: TENANT,
  webhook_id: 'wh_00000000000000000000000001',
  event_id: 'evt_1',
  attempt: 2,
  trigger: 'scheduled',
};
const inSeconds = (s: number) => new Date(T0.getTime() + s * 1000);

function setup(withScheduler: boolean) {
  const queue = new RecordingTimer();
  const scheduler = new RecordingTimer();
  const ladder = new LadderRetryScheduler(queue, withScheduler ? scheduler : undefined, new FakeClock().clock);
  return { ladder, queue, scheduler };
}

describe('LadderRetryScheduler', () => {
  // Up to two hours, a long rung hops through the queue (`not_before`): cheaper than a schedule.
  it.each([0, 30, 120, 600, 899, 900, 900.5, 901, 3600, 7198.5])('%s s ahead: the queue, with the message and time unchanged', async (s) => {
    const h = setup(true);
    await h.ladder.schedule(message, inSeconds(s));
    expect(h.queue.calls).toEqual([{ message, at: inSeconds(s) }]);
    expect(h.scheduler.calls).toHaveLength(0);
  });

  it('a time already past: the queue', async () => {
    const h = setup(true);
    await h.ladder.schedule(message, inSeconds(-5));
    expect(h.queue.calls).toHaveLength(1);
    expect(h.scheduler.calls).toHaveLength(0);
  });

  it('two hours is where the scheduler starts', () => {
    expect(SCHEDULER_FROM_SECONDS).toBe(7200);
  });

  // 7199.5: a rung of two hours read a moment after its time was computed.
  it.each([7199.5, 7200, 7201, 86_400])('%s s ahead with a scheduler: the scheduler', async (s) => {
    const h = setup(true);
    await h.ladder.schedule(message, inSeconds(s));
    expect(h.scheduler.calls).toEqual([{ message, at: inSeconds(s) }]);
    expect(h.queue.calls).toHaveLength(0);
  });

  it('two hours or more ahead without a scheduler: the queue', async () => {
    const h = setup(false);
    await h.ladder.schedule(message, inSeconds(86_400));
    expect(h.queue.calls).toEqual([{ message, at: inSeconds(86_400) }]);
  });

  it('measures from the clock, not from the system time', async () => {
    const queue = new RecordingTimer();
    const scheduler = new RecordingTimer();
    const clock = new FakeClock(new Date('2030-01-01T00:00:00Z'));
    const ladder = new LadderRetryScheduler(queue, scheduler, clock.clock);
    await ladder.schedule(message, new Date('2030-01-01T01:59:00Z'));
    expect(queue.calls).toHaveLength(1);
    await ladder.schedule(message, new Date('2030-01-01T02:01:00Z'));
    expect(scheduler.calls).toHaveLength(1);
  });

  it('passes a failure of the timer on', async () => {
    const failing = { schedule: async () => Promise.reject(new Error('SQS down')) };
    const ladder = new LadderRetryScheduler(failing, undefined, new FakeClock().clock);
    await expect(ladder.schedule(message, inSeconds(10))).rejects.toThrow('SQS down');
  });
});
