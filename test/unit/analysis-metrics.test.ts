import { describe, expect, it, test } from 'vitest';
import { nearestRank, quantileSorted, summarize } from '../../src/analysis/metrics.ts';
import { makeWindow } from './observations.ts';

// Quantiles are nearest-rank: the q-quantile of n sorted values is the one at 1-based rank
// ceil(q * n). Expected values below are worked out by hand from that definition.
describe('nearest-rank quantiles', () => {
  // The worked example of the nearest-rank method on Wikipedia's "Percentile" page:
  // ordered list 15, 20, 35, 40, 50 -> P30 = 20, P40 = 20, P50 = 35, P100 = 50.
  test.each([
    [0.3, 20],
    [0.4, 20],
    [0.5, 35],
    [1, 50],
    [0.05, 15],
    [0.99, 50],
  ])('q=%d of [15, 20, 35, 40, 50] is %d', (q, expected) => {
    expect(quantileSorted([15, 20, 35, 40, 50], q)).toBe(expected);
  });

  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
  test.each([
    [0.5, 50],
    [0.95, 95],
    [0.99, 99],
    [0.07, 7],
    [0.29, 29],
    [0.01, 1],
    [1, 100],
  ])('q=%d of 1..100 is %d (no floating-point off-by-one)', (q, expected) => {
    expect(quantileSorted(hundred, q)).toBe(expected);
  });

  it('p99 of fewer than 100 values is the maximum', () => {
    expect(quantileSorted([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.99)).toBe(10);
    expect(nearestRank(0.99, 30)).toBe(30);
  });

  it('is null for no values', () => {
    expect(quantileSorted([], 0.5)).toBeNull();
  });
});

describe('summarize', () => {
  it('gives count 0 and null rate and quantiles (not 0) for an empty window', () => {
    expect(summarize([])).toEqual({ count: 0, errors: 0, errorRate: null, p50Ms: null, p95Ms: null, p99Ms: null });
  });

  it('counts 5xx and status 0 as errors, 4xx not', () => {
    const obs = makeWindow('canary', { n: 10, latency: (i) => i + 1 });
    obs[0] = { ...obs[0]!, status: 0 };
    obs[1] = { ...obs[1]!, status: 503 };
    obs[2] = { ...obs[2]!, status: 404 };
    const m = summarize(obs);
    expect(m).toMatchObject({ count: 10, errors: 2, errorRate: 0.2 });
  });

  it('takes latency quantiles over the successful requests only', () => {
    // 20 requests with latencies 1..20; the two slowest fail. Successful: 1..18.
    const obs = makeWindow('canary', { n: 20, latency: (i) => i + 1, errorAt: (i) => i >= 18 });
    // n = 18: p50 rank ceil(9) = 9 -> 9; p95 rank ceil(17.1) = 18 -> 18; p99 rank 18 -> 18.
    expect(summarize(obs)).toEqual({ count: 20, errors: 2, errorRate: 0.1, p50Ms: 9, p95Ms: 18, p99Ms: 18 });
  });

  it('does not depend on the order of the observations', () => {
    const obs = makeWindow('canary', { n: 50, latency: (i) => (i * 37) % 50 });
    expect(summarize([...obs].reverse())).toEqual(summarize(obs));
  });

  it('has null quantiles when every request failed', () => {
    expect(summarize(makeWindow('canary', { n: 3, errors: 3 }))).toEqual({
      count: 3,
      errors: 3,
      errorRate: 1,
      p50Ms: null,
      p95Ms: null,
      p99Ms: null,
    });
  });
});
