import { describe, expect, it } from 'vitest';
import { normalQuantile } from '../../src/analysis/normal.ts';
import { toRolloutPlan, defaultRolloutPlan } from '../../src/config/rollout.ts';
import {
  betaBinomialCdf,
  betaBinomialQuantiles,
  betaCdf,
  betaQuantile,
  chiSquareSf,
  homogeneityTest,
} from '../../src/predict/beta.ts';
import { fitLognormal, p99BreachProbability, simulateP99, Z99 } from '../../src/predict/latency.ts';
import {
  evidenceAt,
  fitProfiles,
  JEFFREYS_PRIOR,
  predictStage,
  rangesAt,
  stageLoads,
  type StageLoad,
} from '../../src/predict/model.ts';
import { cohort, measurement } from './predict-fixtures.ts';

// Reference values are scipy 1.17 (scipy.stats.betabinom, beta, chi2), quoted beside each.

const load = (requests: number, extra: Partial<StageLoad> = {}): StageLoad => ({
  stage: 0,
  weight: 1,
  canaryRps: 40,
  requests,
  maxErrorRate: 0.05,
  maxP99Ms: 500,
  ...extra,
});
const oneProfile = (errors: number, count: number) =>
  fitProfiles([measurement({ profile: 'nominal', rps: 40, canary: { errors, count } }, 7)]);

describe('Beta and Beta-Binomial numerics', () => {
  it('match scipy', () => {
    // betabinom(30, 0.5, 1000.5).cdf(0) = 0.9853328655342881
    expect(betaBinomialCdf(0, 30, 0.5, 1000.5)).toBeCloseTo(0.9853328655342881, 11);
    // betabinom(300, 0.5, 1000.5).cdf([0, 1]) = [0.87708332, 0.97832418]
    expect(betaBinomialCdf(0, 300, 0.5, 1000.5)).toBeCloseTo(0.87708332, 7);
    expect(betaBinomialCdf(1, 300, 0.5, 1000.5)).toBeCloseTo(0.97832418, 7);
    // betabinom(160, 10.5, 990.5).ppf([0.05, 0.95]) = [0, 4]; betabinom(60, 800.5, 200.5).ppf = [43, 53]
    expect(betaBinomialQuantiles(160, 10.5, 990.5, [0.05, 0.95])).toEqual([0, 4]);
    expect(betaBinomialQuantiles(60, 800.5, 200.5, [0.05, 0.95])).toEqual([43, 53]);
    // beta.sf(0.05, 0.5, 30.5) = 0.0781260919936577; beta.ppf([0.05, 0.95], 10.5, 990.5) = [0.00580643, 0.01627947]
    expect(1 - betaCdf(0.05, 0.5, 30.5)).toBeCloseTo(0.0781260919936577, 10);
    expect(betaQuantile(0.05, 10.5, 990.5)).toBeCloseTo(0.00580643, 7);
    expect(betaQuantile(0.95, 10.5, 990.5)).toBeCloseTo(0.01627947, 7);
    // beta.sf(0.011, 1000.5, 99000.5) = 0.001055851529772427 (a posterior of 100,000 requests)
    expect(1 - betaCdf(0.011, 1000.5, 99000.5)).toBeCloseTo(0.001055851529772427, 9);
  });

  it('chi-square and the homogeneity test match scipy', () => {
    // chi2.sf(3.7, 2) = 0.1572371663136276; chi2.sf(12.3, 1) = 0.00045295829392355183
    expect(chiSquareSf(3.7, 2)).toBeCloseTo(0.1572371663136276, 12);
    expect(chiSquareSf(12.3, 1)).toBeCloseTo(0.00045295829392355183, 12);
    // chi2_contingency([[3, 97], [12, 388], [39, 761]], correction=False) p = 0.2570424812170607
    expect(
      homogeneityTest([
        { errors: 3, count: 100 },
        { errors: 12, count: 400 },
        { errors: 39, count: 800 },
      ]).p,
    ).toBeCloseTo(0.2570424812170607, 10);
    expect(
      homogeneityTest([
        { errors: 0, count: 100 },
        { errors: 0, count: 400 },
      ]).p,
    ).toBe(1);
  });
});

describe('error-rate ranges (Beta-Binomial posterior predictive)', () => {
  it('0 errors in 1,000 pre-flight requests: a 30-request stage expects no error at the 95th percentile', () => {
    // Jeffreys prior -> posterior Beta(0.5, 1000.5). P(0 errors among 30) = 0.98533 >= 0.95,
    // so q95 = 0 errors: the upper end of the range is 0% (scipy: betabinom(30, 0.5, 1000.5).ppf(0.95) = 0).
    const p = predictStage(oneProfile(0, 1000), JEFFREYS_PRIOR, load(30), 1, 500);
    expect(p.model).toMatchObject({ alpha: 0.5, beta: 1000.5 });
    expect(p.errorRate).toEqual({ low: 0, expected: 0.0004995, high: 0 });
  });

  it('... and a 300-request stage may see one: q95 = 1 error = 0.333%', () => {
    // P(X <= 0) = 0.87708 < 0.95 <= P(X <= 1) = 0.97832
    const p = predictStage(oneProfile(0, 1000), JEFFREYS_PRIOR, load(300), 1, 500);
    expect(p.errorRate.high).toBe(0.00333333);
    expect(p.errorRate.low).toBe(0);
  });

  it('10 errors in 1,000, 160 requests: 0% to 2.5% (0 to 4 errors), expected 10.5 / 1001', () => {
    const p = predictStage(oneProfile(10, 1000), JEFFREYS_PRIOR, load(160), 1, 500);
    expect(p.errorRate).toEqual({ low: 0, expected: 0.0104895, high: 0.025 });
  });

  it('800 errors in 1,000, 60 requests: 71.7% to 88.3% (43 to 53 errors)', () => {
    const p = predictStage(oneProfile(800, 1000), JEFFREYS_PRIOR, load(60), 1, 500);
    expect(p.errorRate.low).toBe(0.716667);
    expect(p.errorRate.high).toBe(0.883333);
    expect(p.breach.errorRate).toBe(1);
  });

  it('a history prior shifts the posterior: Beta(1.5, 99.5) + 0 of 100', () => {
    const prior = { ...JEFFREYS_PRIOR, alpha: 1.5, beta: 99.5, source: 'history' as const };
    const p = predictStage(oneProfile(0, 100), prior, load(60), 1, 500);
    expect(p.model).toMatchObject({ alpha: 1.5, beta: 199.5 });
    expect(p.errorRate.expected).toBe(0.00746269); // 1.5 / 201
  });

  it('max_error_rate 0: the breach probability is P(at least one error among the stage requests)', () => {
    const p = predictStage(oneProfile(0, 1000), JEFFREYS_PRIOR, load(30, { maxErrorRate: 0 }), 1, 500);
    expect(p.breach.errorRate).toBeCloseTo(1 - 0.9853328655342881, 6);
  });
});

describe('latency (lognormal)', () => {
  it('fits median and p99 when only the summary is known', () => {
    const fit = fitLognormal({ version: 'v2', count: 500, errors: 0, errorRate: 0, p50Ms: 20, p95Ms: 50, p99Ms: 80 });
    expect(fit).toMatchObject({ method: 'quantiles', m: 500 });
    expect(Math.exp(fit!.mu)).toBeCloseTo(20, 10);
    expect(Math.exp(fit!.mu + Z99 * fit!.sigma)).toBeCloseTo(80, 10);
  });

  it('maximum likelihood on the logs recovers a lognormal from its draws', () => {
    const fit = fitLognormal(cohort({ errors: 0, count: 20_000, medianMs: 20, p99Ms: 80 }, 3))!;
    expect(Math.exp(fit.mu)).toBeCloseTo(20, 0);
    expect(fit.sigma).toBeCloseTo(Math.log(4) / Z99, 2);
  });

  it('never fits a lighter tail than measured: sigma is raised to the measured p99', () => {
    // 99% of requests at ~20 ms, 2% at 400 ms: a lognormal MLE would put p99 far below 400.
    const latencies = [
      ...Array.from({ length: 980 }, (_, i) => 18 + (i % 5)),
      ...Array.from({ length: 20 }, () => 400),
    ];
    const fit = fitLognormal({
      version: 'v2',
      count: 1000,
      errors: 0,
      errorRate: 0,
      p50Ms: 20,
      p95Ms: 22,
      p99Ms: 400,
      latenciesMs: latencies,
    })!;
    expect(fit.method).toBe('mle+tail');
    expect(Math.exp(fit.mu + Z99 * fit.sigma)).toBeCloseTo(400, 6);
  });

  it('the Monte Carlo p99 range matches the order statistic for a known lognormal', () => {
    // With m huge the parameters are certain; the nearest-rank p99 of 100 is the 99th value,
    // X(99) = exp(mu + sigma z(U(99))), U(99) ~ Beta(99, 2). scipy: 20 exp(0.5 norm.ppf(
    // beta.ppf([0.05, 0.5, 0.95], 99, 2))) = [46.31, 57.92, 76.79].
    const fit = { mu: Math.log(20), sigma: 0.5, m: 1e12, method: 'mle' as const };
    const r = simulateP99(fit, 100, 4000, 11);
    expect(r.low).toBeGreaterThan(46.31 * 0.96);
    expect(r.low).toBeLessThan(46.31 * 1.04);
    expect(r.expected).toBeGreaterThan(57.92 * 0.97);
    expect(r.expected).toBeLessThan(57.92 * 1.03);
    expect(r.high).toBeGreaterThan(76.79 * 0.95);
    expect(r.high).toBeLessThan(76.79 * 1.05);
    // For 60 it is the maximum: Beta(60, 1) -> [45.81, 62.34, 95.97]
    const r60 = simulateP99(fit, 60, 4000, 11);
    expect(r60.expected).toBeGreaterThan(62.34 * 0.97);
    expect(r60.expected).toBeLessThan(62.34 * 1.03);
  });

  it('matches the order statistic at a live-sized window, computed independently by betaQuantile', () => {
    // The nearest-rank p99 of 1,000 is X(990) = 20 exp(0.5 Phi^-1(U(990))), U(990) ~ Beta(990, 11).
    const fit = { mu: Math.log(20), sigma: 0.5, m: 1e12, method: 'mle' as const };
    const r = simulateP99(fit, 1000, 20_000, 3);
    const exact = (q: number) => 20 * Math.exp(0.5 * normalQuantile(betaQuantile(q, 990, 11)));
    expect(r.low / exact(0.05)).toBeCloseTo(1, 2);
    expect(r.expected / exact(0.5)).toBeCloseTo(1, 2);
    expect(r.high / exact(0.95)).toBeCloseTo(1, 2);
  });

  it('is seeded: the same seed gives the same range, parameter uncertainty widens it', () => {
    const fit = { mu: Math.log(20), sigma: 0.5, m: 50, method: 'mle' as const };
    expect(simulateP99(fit, 100, 1000, 5)).toEqual(simulateP99(fit, 100, 1000, 5));
    const certain = simulateP99({ ...fit, m: 1e12 }, 100, 1000, 5);
    const uncertain = simulateP99(fit, 100, 1000, 5);
    expect(uncertain.high - uncertain.low).toBeGreaterThan(certain.high - certain.low);
  });

  it('breach probability: P(true p99 > limit) from the fit and its uncertainty', () => {
    const fit = { mu: Math.log(20), sigma: Math.log(4) / Z99, m: 1000, method: 'mle' as const }; // true p99 80 ms
    expect(p99BreachProbability(fit, 500)).toBeLessThan(1e-6);
    expect(p99BreachProbability(fit, 80)).toBeCloseTo(0.5, 6);
    expect(p99BreachProbability(fit, 40)).toBeGreaterThan(0.999);
  });
});

describe('load profiles', () => {
  const slowAtPeak = fitProfiles([
    measurement(
      { profile: 'low', rps: 10, canary: { errors: 1, count: 400, medianMs: 10, p99Ms: 40, summaryOnly: true } },
      1,
    ),
    measurement(
      { profile: 'peak', rps: 50, canary: { errors: 40, count: 400, medianMs: 40, p99Ms: 160, summaryOnly: true } },
      2,
    ),
  ]);

  it('interpolates the lognormal linearly in rps: the median grows geometrically', () => {
    const mid = evidenceAt(slowAtPeak, 30);
    const lowMedian = Math.exp(slowAtPeak[0]!.canary.latency!.mu);
    const peakMedian = Math.exp(slowAtPeak[1]!.canary.latency!.mu);
    expect(Math.exp(mid.canary.latency!.mu)).toBeCloseTo(Math.sqrt(lowMedian * peakMedian), 6);
    expect(mid.extrapolated).toBe(false);
    expect(mid.basis).toMatch(/^between low \(10 rps\) and peak \(50 rps\)/);
  });

  it('interpolates the error evidence when the error rate depends on load (1 of 400 vs 40 of 400)', () => {
    const mid = evidenceAt(slowAtPeak, 30);
    expect(mid.canary.errors).toBeCloseTo(20.5, 10);
    expect(mid.canary.count).toBe(400);
    expect(mid.basis).toMatch(/depends on load/);
  });

  it('pools the error evidence of every profile when the rates are homogeneous', () => {
    const even = fitProfiles([
      measurement({ profile: 'low', rps: 10, canary: { errors: 1, count: 100 } }, 1),
      measurement({ profile: 'peak', rps: 50, canary: { errors: 5, count: 400 } }, 2),
    ]);
    const at = evidenceAt(even, 10);
    expect(at.canary).toMatchObject({ errors: 6, count: 500 });
    expect(at.basis).toMatch(/pooled over 2 profiles/);
  });

  it('uses the nearest profile outside the measured loads, and says so', () => {
    expect(evidenceAt(slowAtPeak, 5)).toMatchObject({ extrapolated: true });
    expect(evidenceAt(slowAtPeak, 100).basis).toMatch(/peak \(50 rps\), the highest load measured/);
  });

  it('merges measurements at the same rps (several regions)', () => {
    const merged = fitProfiles([
      measurement({ profile: 'nominal', rps: 40, region: 'us-west', canary: { errors: 1, count: 100 } }, 1),
      measurement({ profile: 'nominal', rps: 40, region: 'us-east', canary: { errors: 3, count: 300 } }, 2),
    ]);
    expect(merged).toHaveLength(1);
    expect(merged[0]).toMatchObject({ regions: ['us-west', 'us-east'], canary: { errors: 4, count: 400 } });
  });
});

describe('stages', () => {
  it('the default plan: requests are canary rate x bake (the min-samples floor for small weights)', () => {
    const loads = stageLoads(defaultRolloutPlan());
    expect(loads.map((l) => [l.weight, l.canaryRps, l.requests])).toEqual([
      [1, 15, 60],
      [5, 15, 60],
      [25, 15, 60],
      [50, 20, 80],
      [100, 40, 160],
    ]);
  });

  it('a rolling rollout is one 100% step with the last stage limits', () => {
    const plan = toRolloutPlan(
      { strategy: 'rolling', stages: [{ weight: 50 }, { weight: 100, max_p99_ms: 300 }] },
      'x',
    );
    expect(stageLoads(plan)).toEqual([
      { stage: 0, weight: 100, canaryRps: 40, requests: 160, maxErrorRate: 0.05, maxP99Ms: 300 },
    ]);
  });

  it('rangesAt recomputes the stage ranges from the JSON model exactly', () => {
    const p = predictStage(oneProfile(10, 1000), JEFFREYS_PRIOR, load(160), 9, 500);
    const back = JSON.parse(JSON.stringify(p)) as typeof p;
    expect(rangesAt(back.model, back.requests)).toEqual({ errorRate: p.errorRate, p99Ms: p.p99Ms });
  });
});
