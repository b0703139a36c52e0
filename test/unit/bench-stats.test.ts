/**
 * The bench's ratio of a bundle's cold import to its floor's (test/bench/stats.ts): the median
 * of back-to-back pairs, so that the machine's drift between pairs does not decide it.
 */
import { median, medianPairedRatio } from '../bench/stats.ts';

it('takes the median of the pairs, not the ratio of the medians, which picks from different moments', () => {
  // One bench run's admin-api imports (ms): the machine ran fast for the floor's 2nd, 4th and 5th.
  const bundle = [139, 94, 130, 130, 112];
  const floor = [125, 84, 107, 88, 86];
  expect(median(bundle) / median(floor)).toBeCloseTo(1.477, 3);
  expect(medianPairedRatio(bundle, floor)).toBeCloseTo(1.215, 3);
});

it('refuses sides of different lengths', () => {
  expect(() => medianPairedRatio([1, 2], [1])).toThrow('as many values on each side (2 and 1)');
});
