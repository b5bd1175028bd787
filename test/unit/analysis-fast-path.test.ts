import { describe, expect, it } from 'vitest';
import { judge, type JudgeOptions, type StageLimits } from '../../src/analysis/judge.ts';
import { latencyLimitTest, latencyLimitTestSorted } from '../../src/analysis/limits.ts';
import {
  quantileSorted,
  sortWindow,
  successLatencies,
  summarize,
  type SortedWindow,
} from '../../src/analysis/metrics.ts';
import { isError, isTimedSuccess, type Cohort, type Observation } from '../../src/analysis/observation.ts';
import { normalSf } from '../../src/analysis/normal.ts';
import { mannWhitneyGreater, mannWhitneyGreaterSorted, type MannWhitneyTest } from '../../src/analysis/stats.ts';
import { createRandom, type Random } from '../../src/util/random.ts';

// The judge sorts each cohort's latencies once and ranks the two by merging them (the fast
// path). These tests hold it to the straightforward way it was computed before, a comparator
// sort per statistic and a sort of the union for the ranks, on random windows: the numbers
// must be identical, not close.

/** The union sorted with a comparator, mid-ranks walked group by group. */
function referenceMannWhitney(canary: readonly number[], baseline: readonly number[], margin: number, offset: number) {
  const n1 = canary.length;
  const n2 = baseline.length;
  if (n1 === 0 || n2 === 0) return { margin, offset, u: 0, z: 0, p: 1 };
  const all = [
    ...canary.map((v) => ({ v: (v - offset) / (1 + margin), c: true })),
    ...baseline.map((v) => ({ v, c: false })),
  ].sort((a, b) => a.v - b.v);
  const n = n1 + n2;
  let rankSum = 0;
  let tieTerm = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && all[j + 1]!.v === all[i]!.v) j++;
    const t = j - i + 1;
    for (let k = i; k <= j; k++) if (all[k]!.c) rankSum += (i + j) / 2 + 1;
    tieTerm += t * t * t - t;
    i = j + 1;
  }
  const u = rankSum - (n1 * (n1 + 1)) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (!(variance > 0)) return { margin, offset, u, z: 0, p: 1 };
  const z = (u - (n1 * n2) / 2 - 0.5) / Math.sqrt(variance);
  return { margin, offset, u, z, p: normalSf(z) };
}

const referenceLatencies = (w: readonly Observation[]) =>
  w
    .filter(isTimedSuccess)
    .map((o) => o.latencyMs)
    .sort((a, b) => a - b);

/** A window with ties (whole or coarse latencies), errors, untimed requests and the odd slow one. */
function randomWindow(random: Random, cohort: Cohort, n: number): Observation[] {
  const coarse = random.next() < 0.5;
  const errorRate = 0.02 + random.next() * 0.1;
  return Array.from({ length: n }, (_, i) => {
    const slow = random.next() < 0.02 ? 400 + random.next() * 300 : 0;
    const raw = 5 + random.next() * 40 + slow;
    const latencyMs = coarse ? Math.round(raw / 5) * 5 : Math.round(raw * 1000) / 1000;
    const o: Observation = { at: i * 10, region: 'r', version: 'v', cohort, route: '/', status: 200, latencyMs };
    if (random.next() < errorRate) o.status = random.next() < 0.3 ? 0 : 503;
    if (random.next() < 0.03) o.untimed = true;
    return o;
  });
}

const SEEDS = Array.from({ length: 300 }, (_, i) => i + 1);

it('the random windows hold ties, errors and untimed requests', () => {
  const windows = SEEDS.slice(0, 20).map((seed) => randomWindow(createRandom(seed), 'canary', 200));
  expect(windows.every((w) => w.some(isError) && w.some((o) => o.untimed === true))).toBe(true);
  const tied = windows.filter((w) => new Set(referenceLatencies(w)).size < referenceLatencies(w).length);
  expect(tied.length).toBeGreaterThanOrEqual(5);
});

describe('fast path of the judge', () => {
  it.each(SEEDS.filter((s) => s <= 100))('seed %i: sorted latencies, quantiles and the limit match', (seed) => {
    const random = createRandom(seed);
    const w = randomWindow(random, 'canary', Math.floor(random.next() * 400));
    const sorted = successLatencies(w);
    const reference = referenceLatencies(w);
    expect(sorted).toEqual(reference);
    for (const q of [0.5, 0.95, 0.99]) expect(quantileSorted(sorted, q)).toBe(quantileSorted(reference, q));
    expect(summarize(w, sorted)).toEqual(summarize(w));
    for (const limit of [10, 25, 25.5, 45, 500])
      expect(latencyLimitTestSorted(sorted, limit)).toEqual(latencyLimitTest(w, limit));
  });

  it.each(SEEDS)('seed %i: Mann-Whitney by merge equals the sort of the union', (seed) => {
    const random = createRandom(seed);
    const c = referenceLatencies(randomWindow(random, 'canary', Math.floor(random.next() * 300)));
    const b = referenceLatencies(randomWindow(random, 'baseline', Math.floor(random.next() * 300)));
    const [margin, offset] = [
      [0, 0],
      [0.1, 5],
      [0.25, 0],
      [0, 2.5],
    ][seed % 4]!;
    const expected: MannWhitneyTest = referenceMannWhitney(c, b, margin!, offset!);
    expect(mannWhitneyGreaterSorted(Float64Array.from(c), Float64Array.from(b), margin, offset)).toEqual(expected);
    // The public entry point takes unsorted samples.
    const shuffled = [...c].reverse();
    expect(mannWhitneyGreater(shuffled, b, margin, offset)).toEqual(expected);
  });

  it.each(SEEDS.filter((s) => s <= 50))(
    'seed %i: a growing window sorted as it grows equals it sorted whole',
    (seed) => {
      const random = createRandom(seed);
      const all = randomWindow(random, 'canary', 600);
      let sorted: SortedWindow | undefined;
      for (let end = 0; end <= all.length; end += Math.floor(random.next() * 90)) {
        // Now and then the window is not the last one grown (a late request slipped in first).
        const window = random.next() < 0.2 ? [...all.slice(0, end)].reverse() : all.slice(0, end);
        sorted = sortWindow(window, sorted);
        expect(sorted.latencies).toEqual(referenceLatencies(window));
        expect(sorted.observations).toBe(window);
      }
    },
  );

  it('a margin that reverses the order (below -1) still ranks correctly', () => {
    const random = createRandom(9);
    const c = referenceLatencies(randomWindow(random, 'canary', 80));
    const b = referenceLatencies(randomWindow(random, 'baseline', 80));
    expect(mannWhitneyGreaterSorted(Float64Array.from(c), Float64Array.from(b), -2, 0)).toEqual(
      referenceMannWhitney(c, b, -2, 0),
    );
  });

  it.each(SEEDS.filter((s) => s <= 100))('seed %i: judge() numbers match the reference statistics', (seed) => {
    const random = createRandom(seed);
    const canary = randomWindow(random, 'canary', 30 + Math.floor(random.next() * 300));
    const baseline = randomWindow(random, 'baseline', 30 + Math.floor(random.next() * 300));
    const limits: StageLimits = { maxErrorRate: 0.05, maxP99Ms: 500 };
    const options: JudgeOptions = { minSamples: 30, alpha: 0.05 };
    const j = judge(canary, baseline, limits, options);
    expect(j.canary).toEqual(summarize(canary));
    expect(j.baseline).toEqual(summarize(baseline));
    expect(j.tests.latencyLimit).toEqual(latencyLimitTest(canary, 500));
    if (j.verdict === 'red') return;
    expect(j.tests.latency).toEqual(
      referenceMannWhitney(referenceLatencies(canary), referenceLatencies(baseline), 0.1, 5),
    );
  });
});
