import { describe, expect, it } from 'vitest';
import { judge, type JudgeOptions, type StageLimits } from '../../src/analysis/judge.ts';
import { makeWindow } from './observations.ts';

const limits: StageLimits = { maxErrorRate: 0.05, maxP99Ms: 500 };
const options: JudgeOptions = { minSamples: 50, alpha: 0.05 };
/** Latencies spread evenly over [10, 30) ms, so two cohorts built alike are identical. */
const spread = (i: number) => 10 + ((i * 7) % 20);
const baseline = makeWindow('baseline', { n: 1000, errors: 10, latency: spread });

describe('judge', () => {
  it('is inconclusive below min_samples and says how much data there is', () => {
    const j = judge(makeWindow('canary', { n: 12, latency: spread }), baseline, limits, options);
    expect(j.verdict).toBe('inconclusive');
    expect(j.reasons[0]).toBe('not enough data: 12 of 50 canary requests; 38 more needed');
    expect(j.tests.errors).toBeNull();
    expect(j.tests.latency).toBeNull();
  });

  // With the stage's rates (stageRates()) it says how long the missing requests take.
  it.each([
    [
      12,
      { canary: 4, baseline: 20 },
      'not enough data: 12 of 50 canary requests; 38 more needed, about 9.5 s at 4 canary requests/s',
    ],
    [
      0,
      { canary: 2.5, baseline: 20 },
      'not enough data: 0 of 50 canary requests; 50 more needed, about 20.0 s at 2.5 canary requests/s',
    ],
    [
      49,
      { canary: 30, baseline: 0 },
      'not enough data: 49 of 50 canary requests; 1 more needed, under 0.1 s at 30 canary requests/s',
    ],
    [
      7,
      { canary: 0, baseline: 20 },
      'not enough data: 7 of 50 canary requests; 43 more needed, but the stage sends the canary no requests',
    ],
  ])('%i canary requests at %o: %s', (n, rates, reason) => {
    const j = judge(makeWindow('canary', { n, latency: spread }), baseline, limits, { ...options, rates });
    expect(j.verdict).toBe('inconclusive');
    expect(j.reasons[0]).toBe(reason);
  });

  it.each([
    [
      { canary: 30, baseline: 2 },
      'no comparison with the baseline: 20 of 50 baseline requests; 30 more needed, about 15.0 s at 2 baseline requests/s (limits only)',
    ],
    [
      { canary: 30, baseline: 0 },
      'no comparison with the baseline: 20 of 50 baseline requests; 30 more needed, but the stage sends the baseline no requests (limits only)',
    ],
  ])('a baseline short of data at %o: %s', (rates, reason) => {
    const j = judge(makeWindow('canary', { n: 100, latency: spread }), baseline.slice(0, 20), limits, {
      ...options,
      rates,
    });
    expect(j.verdict).toBe('green');
    expect(j.reasons).toContain(reason);
  });

  it('an empty canary window is inconclusive with null metrics', () => {
    const j = judge([], baseline, limits, options);
    expect(j.verdict).toBe('inconclusive');
    expect(j.canary).toEqual({ count: 0, errors: 0, errorRate: null, p50Ms: null, p95Ms: null, p99Ms: null });
    expect(j.reasons[0]).toBe('not enough data: 0 of 50 canary requests; 50 more needed');
  });

  it('is red below min_samples when the error limit is already breached beyond doubt', () => {
    // 6 of 12 failed: P(X >= 6 | 12, 0.05) = 1.11e-5 (scipy.stats.binom.sf(5, 12, 0.05)) < alpha / 10.
    const canary = makeWindow('canary', { n: 12, errors: 6, start: 5000 });
    const j = judge(canary, baseline, limits, options);
    expect(j.verdict).toBe('red');
    expect(j.reasons[0]).toMatch(/^error rate 50% \(6 of 12\) is above the limit 5% \(binomial p=1\.1e-5 < 0\.005\)$/);
    expect(j.evidenceSince).toBe(5000); // the first failed canary request
  });

  it('stays inconclusive below min_samples when the breach is not certain yet', () => {
    // 2 of 12 (16.7%) is above 5%, but P(X >= 2 | 12, 0.05) = 0.118: more data may clear it.
    const j = judge(makeWindow('canary', { n: 12, errors: 2 }), baseline, limits, options);
    expect(j.verdict).toBe('inconclusive');
    expect(j.reasons).toContain(
      'error rate 16.7% (2 of 12) is above the limit 5%, but not significantly (binomial p=0.1184)',
    );
  });

  it('is red on a proven error-rate breach', () => {
    const j = judge(makeWindow('canary', { n: 100, errors: 20, latency: spread }), baseline, limits, options);
    expect(j.verdict).toBe('red');
    expect(j.reasons).toHaveLength(1);
    expect(j.reasons[0]).toContain('error rate 20% (20 of 100) is above the limit 5%');
    expect(j.tests.errorLimit).toMatchObject({ bad: 20, total: 100, allowedShare: 0.05, breached: true });
  });

  it('with max_error_rate 0, any single canary error is red, even below min_samples', () => {
    const zero = { ...limits, maxErrorRate: 0 };
    for (const n of [5, 500]) {
      const j = judge(makeWindow('canary', { n, errorAt: (i) => i === 3, latency: spread }), baseline, zero, options);
      expect(j.verdict).toBe('red');
      expect(j.reasons[0]).toBe(
        `error rate ${n === 5 ? '20%' : '0.2%'} (1 of ${n}): the limit is 0, so any error is red`,
      );
      expect(j.evidenceSince).toBe(300);
    }
    expect(judge(makeWindow('canary', { n: 500, latency: spread }), [], zero, options).verdict).toBe('green');
  });

  it('is red on a proven p99 breach (more than 1% of successful requests slower than the limit)', () => {
    // 10 of 100 slower than 500 ms: P(X >= 10 | 100, 0.01) = 7.6e-8.
    const canary = makeWindow('canary', { n: 100, latency: (i) => (i % 10 === 9 ? 900 : spread(i)) });
    const j = judge(canary, baseline, limits, options);
    expect(j.verdict).toBe('red');
    expect(j.reasons[0]).toMatch(
      /^p99 900 ms: 10 of 100 successful requests slower than 500 ms, more than 1% \(binomial p=.* < 0\.005\)$/,
    );
    expect(j.evidenceSince).toBe(900);
  });

  it('leaves untimed requests out of the latency tests but counts their errors', () => {
    // The same 10 slow requests, but the load generator stalled while they were in flight.
    const slow = (i: number) => i % 10 === 9;
    const canary = makeWindow('canary', { n: 100, latency: (i) => (slow(i) ? 900 : spread(i)) }).map((o, i) =>
      slow(i) ? { ...o, untimed: true } : o,
    );
    const j = judge(canary, baseline, limits, options);
    expect(j.verdict).toBe('green');
    expect(j.tests.latencyLimit).toMatchObject({ bad: 0, total: 90 });
    expect(j.canary.p99Ms).toBeLessThan(500);
    expect(j.reasons.join('\n')).toMatch(
      /0 of 90 successful requests slower than 500 ms \(10 more not timed: the load generator stalled while they were in flight\)/,
    );
    // An untimed request that failed is still an error.
    const failing = judge(
      canary.map((o, i) => (slow(i) ? { ...o, status: 503 } : o)),
      baseline,
      limits,
      options,
    );
    expect(failing.canary.errors).toBe(10);
    expect(failing.reasons[0]).toMatch(/^error rate 10% \(10 of 100\) is probably above the limit 5%/);
  });

  it('reports both limits when both are breached', () => {
    const canary = makeWindow('canary', { n: 100, errors: 30, latency: (i) => (i % 2 ? 900 : 20) });
    const j = judge(canary, baseline, limits, options);
    expect(j.verdict).toBe('red');
    expect(j.reasons).toHaveLength(2);
  });

  it('is yellow when a limit is probably but not certainly breached', () => {
    // 10 of 100 (10%) vs 5%: binomial p = 0.028, between alpha / 10 and alpha. The baseline
    // fails 4.5%, within the limit and close enough that the comparison is not what makes it yellow.
    const same = makeWindow('baseline', { n: 1000, errors: 45, latency: spread });
    const j = judge(makeWindow('canary', { n: 100, errors: 10, latency: spread }), same, limits, options);
    expect(j.verdict).toBe('yellow');
    expect(j.reasons[0]).toBe(
      'error rate 10% (10 of 100) is probably above the limit 5% (binomial p=0.0282 < 0.05, red below 0.005)',
    );
  });

  describe('a limit the baseline beside it breaches too (the host or the stack, not the candidate)', () => {
    const failing = makeWindow('baseline', { n: 1000, errors: 100, latency: spread });

    it('is not red when the canary fails no more than that baseline: the comparison decides', () => {
      const j = judge(makeWindow('canary', { n: 200, errors: 22, latency: spread }), failing, limits, options);
      expect(j.verdict).toBe('green');
      expect(j.reasons).toContainEqual(
        expect.stringMatching(
          /^error rate 11% \(22 of 200\) is above the limit 5% \(binomial p=.*\), but so is the baseline beside it \(100 of 1000, binomial p=.*\) and the canary is not worse beyond doubt \(p=0\.3\d*\): the host or the stack, not the candidate$/,
        ),
      );
    });

    it('is red when the canary fails beyond doubt more often than that baseline', () => {
      const j = judge(makeWindow('canary', { n: 200, errors: 60, latency: spread }), failing, limits, options);
      expect(j.verdict).toBe('red');
      expect(j.reasons[0]).toMatch(/^error rate 30% \(60 of 200\) is above the limit 5%/);
    });

    it('has no exception for a limit of 0: any canary error is red', () => {
      const zero = { ...limits, maxErrorRate: 0 };
      const j = judge(makeWindow('canary', { n: 200, errors: 2, latency: spread }), failing, zero, options);
      expect(j.verdict).toBe('red');
    });

    it('applies to the p99 limit alike: both sides slowed by a loaded host', () => {
      const slowEvery = (k: number) => (i: number) => (i % k === 0 ? 900 : spread(i));
      const slowBaseline = makeWindow('baseline', { n: 1000, latency: slowEvery(20) });
      const j = judge(makeWindow('canary', { n: 200, latency: slowEvery(20) }), slowBaseline, limits, options);
      expect(j.verdict).toBe('green');
      expect(j.reasons).toContainEqual(expect.stringMatching(/more than 1% .*but so is the baseline beside it/));
      const slower = judge(makeWindow('canary', { n: 200, latency: slowEvery(4) }), slowBaseline, limits, options);
      expect(slower.verdict).toBe('red');
    });
  });

  it('is yellow when the error rate is significantly worse than the baseline by more than the tolerance', () => {
    // 4% vs 1%, within the 5% limit; z = (0.04 - 0.01 - 0.01) / se = 2.88, p = 0.002.
    const canary = makeWindow('canary', { n: 1000, errors: 40, latency: spread });
    const j = judge(canary, baseline, limits, options);
    expect(j.verdict).toBe('yellow');
    expect(j.reasons[0]).toBe('error rate 4% vs baseline 1%: worse by more than the tolerated 1% (z=2.88, p=0.0020)');
    expect(j.tests.errors?.p).toBeCloseTo(0.002002470405956781, 10);
  });

  it('is green when the canary is worse, but not by more than the tolerance', () => {
    const canary = makeWindow('canary', { n: 1000, errors: 15, latency: spread });
    const j = judge(canary, baseline, limits, options);
    expect(j.verdict).toBe('green');
    expect(j.reasons).toContainEqual(
      expect.stringMatching(/^error rate 1\.5% vs baseline 1%: not worse by more than the tolerated 1%/),
    );
  });

  it('is yellow when latency is significantly worse than the baseline by more than the tolerance', () => {
    const canary = makeWindow('canary', { n: 200, latency: (i) => 1.5 * spread(i) });
    const j = judge(canary, baseline, limits, options);
    expect(j.verdict).toBe('yellow');
    expect(j.reasons[0]).toMatch(
      /^median latency \d+ ms vs baseline 20 ms: slower by more than the tolerated 10% \+ 5 ms \(Mann-Whitney U=\d+(\.5)?, p=.*\)$/,
    );
  });

  it('tolerates a slowdown within max_latency_increase_ratio', () => {
    const canary = makeWindow('canary', { n: 1000, latency: (i) => 1.05 * spread(i) });
    expect(judge(canary, baseline, limits, options).verdict).toBe('green');
    expect(
      judge(canary, baseline, limits, { ...options, maxLatencyIncreaseRatio: 0, maxLatencyIncreaseMs: 0 }).verdict,
    ).toBe('yellow');
  });

  // The live case that rolled back a healthy rollout: a freshly started canary of the same
  // version at 3.6 ms against 2.9 ms. 24% slower, and significant, but 0.7 ms.
  it('tolerates a few milliseconds on top of the ratio (max_latency_increase_ms, default 5)', () => {
    const fast = (median: number) => (i: number) => median * (0.8 + ((i * 37) % 41) / 100);
    const fastBaseline = makeWindow('baseline', { n: 1000, latency: fast(2.9) });
    const canary = makeWindow('canary', { n: 1000, latency: fast(3.6) });
    const j = judge(canary, fastBaseline, limits, options);
    expect(j.verdict).toBe('green');
    expect(j.tests.latency).toMatchObject({ margin: 0.1, offset: 5 });
    expect(judge(canary, fastBaseline, limits, { ...options, maxLatencyIncreaseMs: 0 }).verdict).toBe('yellow');
    // Past ratio and offset together it is yellow again: 2.9 x 1.1 + 5 = 8.2 ms < 10 ms.
    expect(judge(makeWindow('canary', { n: 1000, latency: fast(10) }), fastBaseline, limits, options).verdict).toBe(
      'yellow',
    );
  });

  it('is green for a canary like its baseline, with a reason for every check', () => {
    const canary = makeWindow('canary', { n: 100, errors: 1, latency: spread });
    const j = judge(canary, baseline, limits, options);
    expect(j.verdict).toBe('green');
    expect(j.reasons).toEqual([
      'error rate 1% (1 of 100) is within the limit 5%',
      'p99 29 ms: 0 of 99 successful requests slower than 500 ms, within 1%',
      expect.stringMatching(
        /^error rate 1% vs baseline 1%: not worse by more than the tolerated 1% \(z=-?\d+\.\d\d, p=.*\)$/,
      ),
      expect.stringMatching(
        /^median latency 20 ms vs baseline 20 ms: not slower by more than the tolerated 10% \+ 5 ms \(Mann-Whitney U=.*\)$/,
      ),
    ]);
    expect(j.evidenceSince).toBeNull();
    expect(j.canary).toMatchObject({ count: 100, errors: 1, errorRate: 0.01 });
    expect(j.baseline).toMatchObject({ count: 1000, errors: 10 });
    expect(j.tests.errors).not.toBeNull();
    expect(j.tests.latency).not.toBeNull();
  });

  it('judges on the limits alone when the baseline has too little data (a 100% stage)', () => {
    const j = judge(makeWindow('canary', { n: 100, latency: spread }), [], limits, options);
    expect(j.verdict).toBe('green');
    expect(j.reasons).toContain(
      'no comparison with the baseline: 0 of 50 baseline requests; 50 more needed (limits only)',
    );
    expect(j.tests.errors).toBeNull();
    expect(j.tests.latency).toBeNull();
  });

  it('takes alpha from the options', () => {
    const canary = makeWindow('canary', { n: 1000, errors: 30, latency: spread });
    // 3% vs 1%: z = (0.02 - 0.01) / 0.00625 = 1.6, p = 0.055: yellow at alpha 0.1, green at 0.05.
    expect(judge(canary, baseline, limits, options).verdict).toBe('green');
    expect(judge(canary, baseline, limits, { ...options, alpha: 0.1 }).verdict).toBe('yellow');
  });
});
