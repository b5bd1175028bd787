import { describe, expect, it } from 'vitest';
import type { Observation } from '../../src/analysis/observation.ts';
import { inRange, series, windowSummary } from '../../src/chaos/windows.ts';

const obs = (at: number, status: number, latencyMs: number, region = 'us-west'): Observation => ({
  at,
  region,
  version: 'v1',
  cohort: 'baseline',
  route: '/health',
  status,
  latencyMs,
});

describe('window statistics', () => {
  // 1000..1999: 10 requests, 2 of them failing (a 500 and a time-out), latencies 10..80 ms.
  const traffic = [
    ...[10, 20, 30, 40, 50, 60, 70, 80].map((l, i) => obs(1000 + i * 100, 200, l)),
    obs(1800, 500, 5),
    obs(1900, 0, 2000),
    obs(999, 200, 999), // just before the window
    obs(2000, 200, 999), // the window's end is exclusive
  ];

  it('counts requests by the time they were sent, end exclusive', () => {
    expect(inRange(traffic, { from: 1000, to: 2000 })).toHaveLength(10);
  });

  it('summarizes a window: error rate, nearest-rank quantiles of successes, goodput', () => {
    expect(windowSummary('during', traffic, { from: 1000, to: 2000 }, 500)).toEqual({
      window: 'during',
      fromMs: 500,
      toMs: 1500,
      count: 10,
      errors: 2,
      errorRate: 0.2,
      p50Ms: 40, // rank ceil(0.5 * 8) = 4
      p95Ms: 80,
      p99Ms: 80,
      throughputRps: 8, // 8 successful answers in 1 s
    });
  });

  it('gives nulls, not zeros, for an empty window', () => {
    expect(windowSummary('after', [], { from: 0, to: 2000 }, 0)).toMatchObject({
      count: 0,
      errors: 0,
      errorRate: null,
      p50Ms: null,
      p99Ms: null,
      throughputRps: 0,
    });
  });

  it('cuts one-second buckets from the start, the last one partial', () => {
    const points = series(
      [obs(0, 200, 5), obs(999, 500, 1), obs(1000, 200, 7), obs(2500, 200, 3), obs(-1, 200, 1), obs(3000, 200, 1)],
      0,
      2600,
    );
    expect(points).toEqual([
      { atMs: 0, requests: 2, errors: 1, errorRate: 0.5, p99Ms: 5 },
      { atMs: 1000, requests: 1, errors: 0, errorRate: 0, p99Ms: 7 },
      { atMs: 2000, requests: 1, errors: 0, errorRate: 0, p99Ms: 3 },
    ]);
  });

  it('marks a second without requests with null rates', () => {
    expect(series([obs(1500, 200, 4)], 0, 2000)[0]).toEqual({
      atMs: 0,
      requests: 0,
      errors: 0,
      errorRate: null,
      p99Ms: null,
    });
  });
});
