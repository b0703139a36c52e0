/**
 * The chaos run's duplicates by kill (test/chaos): each is put on the kill before its repeated
 * 2xx, with its first 2xx's time from that kill.
 */
import { duplicatesByKill } from '../chaos/tally.ts';
import type { ChaosReceiver } from '../chaos/receivers.ts';

it('puts each repeated 2xx on the kill before it, and its first 2xx in ms from that kill', () => {
  const receiver = (ok: Record<string, number[]>) => ({ ok: new Map(Object.entries(ok)) }) as unknown as ChaosReceiver;
  const kills = [1_000, 2_000, 3_000];
  const result = duplicatesByKill(
    [
      // Answered just before kill 1, sent again after it; answered after kill 2 (read from the dead process's connection).
      receiver({ a: [999.5, 1_400], b: [2_003, 2_500], c: [100, 200, 2_600] }),
      receiver({ d: [1_500], e: [2_999, 3_300, 3_400] }),
    ],
    kills,
  );
  expect(result).toEqual({
    // c's second 2xx came before any kill; its third after kill 2. e was answered twice more after kill 3.
    byKill: [1, 2, 2],
    unexplained: 1,
    firstAnswerMsFromKill: [-1_900, -1, -1, -0.5, 3],
  });
});
