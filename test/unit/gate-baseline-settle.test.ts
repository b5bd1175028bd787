import { describe, expect, test } from 'vitest';
import { BASELINE_ATTEMPTS, settledBaseline, type RegionBaseline } from '../../src/gate/baseline.ts';

// A region failing the baseline is measured again before it is the stack's problem.

const region = (problem?: string) =>
  ({ region: 'us-west', version: 'v1', metrics: {}, ...(problem ? { problem } : {}) }) as unknown as RegionBaseline;

describe('settledBaseline', () => {
  test.each([
    ['healthy at once: measured once', [region()], 1, undefined],
    ['failing, then healthy: measured twice', [region('error rate 24% above 5%'), region()], 2, undefined],
    [
      'failing every time: the last attempt is the answer',
      [region('a'), region('b'), region('c'), region()],
      BASELINE_ATTEMPTS,
      'c',
    ],
  ])('%s', async (_what, answers, attempts, problem) => {
    const queue = [...answers];
    const retried: string[] = [];
    const out = await settledBaseline(
      async () => [queue.shift() as RegionBaseline],
      (p) => retried.push(p),
    );
    expect(out.attempts).toBe(attempts);
    expect(out.baseline[0]?.problem).toBe(problem);
    expect(retried).toHaveLength(attempts - 1);
    if (attempts > 1) expect(retried[0]).toMatch(/^us-west: /);
  });
});
