import { expect, test } from 'vitest';
import type { WindowMetrics } from '../../src/analysis/metrics.ts';
import { assessBaseline } from '../../src/gate/baseline.ts';

// A baseline stops the gate only when the stable service fails; a slow one (a busy CI host
// stretches the slowest of 100 requests) is a note.
const limits = { maxErrorRate: 0.05, maxP99Ms: 500 };
const m = (count: number, errorRate: number | null, p99Ms: number | null) =>
  ({ count, errorRate, p99Ms }) as WindowMetrics;

test.each([
  [m(0, null, null), { problem: 'no request was answered' }],
  [m(100, 0.2, 10), { problem: 'error rate 20.0% above 5%' }],
  [m(100, 0, 611), { slow: 'p99 611 ms above 500 ms (a busy host?)' }],
  [m(100, 0.01, 40), {}],
])('%j', (metrics, expected) => {
  expect(assessBaseline(metrics, limits)).toEqual(expected);
});
