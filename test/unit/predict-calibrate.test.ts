import { describe, expect, it } from 'vitest';
import { combineJudgement } from '../../src/analysis/combine.ts';
import { judge } from '../../src/analysis/judge.ts';
import { nearestRank, type WindowMetrics } from '../../src/analysis/metrics.ts';
import { normalQuantile } from '../../src/analysis/normal.ts';
import { defaultRolloutPlan } from '../../src/config/rollout.ts';
import { predictionAccuracy } from '../../src/predict/accuracy.ts';
import { Z95, Z99 } from '../../src/predict/latency.ts';
import { fitProfiles, JEFFREYS_PRIOR, predictStage, type StageLoad } from '../../src/predict/model.ts';
import { calibrate, calibrationNotes, CALIBRATION_MIN_REQUESTS, compareStage } from '../../src/predict/tiers.ts';
import { classifyStage } from '../../src/rollout/classify.ts';
import { judgeOptions } from '../../src/rollout/step.ts';
import { calibrationStudy } from './calibration-study.ts';
import { makeWindow } from './observations.ts';
import { measurement } from './predict-fixtures.ts';

// The prediction's ranges calibrated by the baseline measured beside the canary in the same
// analysis window (predict/tiers.ts calibrate): a busier host than the pre-flight's slows both
// versions alike, and must not pause an identical version; a slower candidate still stands out.

const SIGMA = Math.log(80 / 20) / Z99;
const LOAD: StageLoad = { stage: 0, weight: 5, canaryRps: 40, requests: 600, maxErrorRate: 0.1, maxP99Ms: 5000 };

/** Both versions measured alike in the pre-flight: 1,000 requests, 1% errors, median 20 ms, p99 80 ms. */
function prediction(load: StageLoad = LOAD) {
  const profiles = fitProfiles([
    measurement(
      { profile: 'nominal', rps: 40, canary: { errors: 10, count: 1000 }, baseline: { errors: 10, count: 1000 } },
      5,
    ),
  ]);
  return predictStage(profiles, JEFFREYS_PRIOR, load, 11, 500);
}

/** The i-th of n latencies at evenly spaced quantiles of the pre-flight's lognormal, x scale (sigma x widen). */
const latency =
  (n: number, scale: number, widen = 1) =>
  (i: number) =>
    scale * 20 * Math.exp(SIGMA * widen * normalQuantile((i + 0.5) / n));

/** A window's metrics: n requests, `errors` of them failed, the rest at `latency`'s quantiles. */
function metrics(n: number, scale: number, errors = 0, widen = 1): WindowMetrics {
  const ok = n - errors;
  const sorted = Array.from({ length: ok }, (_, i) => latency(ok, scale, widen)(i));
  const q = (p: number) => (ok === 0 ? null : (sorted[nearestRank(p, ok) - 1] as number));
  return { count: n, errors, errorRate: n === 0 ? null : errors / n, p50Ms: q(0.5), p95Ms: q(0.95), p99Ms: q(0.99) };
}

describe('what the stage keeps of the baseline', () => {
  it('the pre-flight baseline at the stage load: its error rate and lognormal, interpolated like the canary', () => {
    const profiles = fitProfiles([
      measurement(
        { profile: 'low', rps: 10, canary: { errors: 1, count: 500 }, baseline: { errors: 5, count: 500 } },
        1,
      ),
      measurement(
        {
          profile: 'peak',
          rps: 80,
          canary: { errors: 1, count: 500, medianMs: 40, p99Ms: 160 },
          baseline: { errors: 5, count: 500, medianMs: 40, p99Ms: 160 },
        },
        2,
      ),
    ]);
    const p = predictStage(profiles, JEFFREYS_PRIOR, { ...LOAD, canaryRps: 45 }, 3, 200);
    const [lo, hi] = profiles.map((x) => x.baseline.latency!);
    expect(p.model.baseline?.errorRate).toBe(0.01); // homogeneous: pooled, 10 of 1,000
    expect(p.model.baseline?.latency?.mu).toBeCloseTo((lo!.mu + hi!.mu) / 2, 5);
    // The same weights as the candidate's fit.
    const c = profiles.map((x) => x.canary.latency!);
    expect(p.model.latency?.mu).toBeCloseTo((c[0]!.mu + c[1]!.mu) / 2, 5);
  });

  it('a prediction read back from JSON calibrates exactly as the one made', () => {
    const p = prediction();
    const back = JSON.parse(JSON.stringify(p)) as typeof p;
    const window = metrics(600, 1.7);
    expect(compareStage(metrics(600, 2), back, window)).toEqual(compareStage(metrics(600, 2), p, window));
  });

  it('a prediction made before the baseline was kept reads and compares as before: not calibrated', () => {
    const { baseline: _dropped, ...model } = prediction().model;
    const old = { ...prediction(), model };
    const c = compareStage(metrics(600, 3), old, metrics(600, 3));
    expect(c.calibration).toBeUndefined();
    expect(c).toEqual(compareStage(metrics(600, 3), old));
    expect(c.p99Ms.position).toBe('above');
  });
});

describe('calibrated by the baseline of the same window', () => {
  // The brief's table: the host as in the pre-flight, and three times busier.
  it.each([
    ['identical, host as in the pre-flight', 1, 1, 'inside'],
    ['identical, host 3x busier', 3, 1, 'inside'],
    ['2x slower, host as in the pre-flight', 1, 2, 'above'],
    ['2x slower, host 3x busier', 3, 2, 'above'],
  ] as const)('%s: the p99 is %s', (_what, host, slower, where) => {
    const c = compareStage(metrics(600, host * slower), prediction(), metrics(600, host));
    expect(c.p99Ms.position).toBe(where);
    expect(c.calibration?.latencyBasis).toBe('median');
    // The pre-flight's seeded baseline has a median of 19.4 ms, not exactly 20.
    expect(c.calibration?.p99Factor).toBeGreaterThanOrEqual(host);
    expect(c.calibration?.p99Factor).toBeLessThan(host * 1.05);
  });

  it('without the baseline the 3x busier host would pause an identical version', () => {
    expect(compareStage(metrics(600, 3), prediction()).p99Ms.position).toBe('above');
  });

  it("the factor's own noise widens the scaled range in quadrature: the centre scaled, each end further out", () => {
    const p = prediction();
    const fit = p.model.baseline!.latency!;
    const raw = compareStage(metrics(600, 3), p).p99Ms.range!;
    const c = compareStage(metrics(600, 3), p, metrics(600, 3));
    const { p99Factor: f, p99FactorSd: sd } = c.calibration!;
    expect(sd).toBeCloseTo(fit.sigma * Math.sqrt(Math.PI / 2 / 600 + 1 / fit.m), 3);
    const spread = (Z95 * sd) ** 2;
    expect(c.p99Ms.range!.expected).toBeCloseTo(raw.expected * f, 2);
    expect(c.p99Ms.range!.high).toBeCloseTo(
      raw.expected * f * Math.exp(Math.sqrt(Math.log(raw.high / raw.expected) ** 2 + spread)),
      2,
    );
    expect(c.p99Ms.range!.low).toBeCloseTo(
      (raw.expected * f) / Math.exp(Math.sqrt(Math.log(raw.expected / raw.low) ** 2 + spread)),
      2,
    );
    expect(c.p99Ms.range!.high).toBeGreaterThan(raw.high * f);
  });

  it('never narrows: a quieter host leaves the ranges as predicted, the ratio recorded', () => {
    const p = prediction();
    const c = compareStage(metrics(600, 0.5), p, metrics(600, 0.5));
    expect(c.calibration).toMatchObject({ p99Factor: 1, p99FactorSd: 0, errorRateShift: 0 });
    expect(c.calibration?.latencyRatio).toBeCloseTo(0.5, 1);
    expect(c.p99Ms.range).toEqual(compareStage(metrics(600, 0.5), p).p99Ms.range);
    expect(c.p99Ms.position).toBe('below');
  });

  it('a tail stretched more than the median: the baseline p99 above its own range, so the p99s are compared', () => {
    const p = prediction();
    const stretched = metrics(600, 1, 0, 1.5); // same median, p99 about 1.9x
    const c = calibrate(stretched, { ...p.model, baseline: p.model.baseline! });
    expect(c.latencyBasis).toBe('p99');
    expect(c.latencyRatio).toBeGreaterThan(1.7);
    expect(calibrationNotes(c).p99Ms).toMatch(
      /^calibrated x[12](\.\d+)?: the baseline beside it is [12](\.\d+)?x slower in its p99 than the pre-flight predicts \(1\d\d ms against \d\d ms\)$/,
    );
    expect(compareStage(metrics(600, 1, 0, 1.5), p, stretched).p99Ms.position).toBe('inside');
    expect(compareStage(metrics(600, 2, 0, 1.5), p, stretched).p99Ms.position).toBe('above');
  });

  it('errors: a baseline failing more than in the pre-flight shifts the error range up by the difference', () => {
    const p = prediction();
    const canary = metrics(600, 1, 36); // 6%
    expect(compareStage(canary, p).errorRate.position).toBe('above');
    const c = compareStage(canary, p, metrics(600, 1, 30)); // the baseline at 5%, 1% before
    expect(c.calibration?.errorRateShift).toBeCloseTo(0.04, 6);
    expect(calibrationNotes(c.calibration).errorRate).toBe(
      'calibrated +4%: the baseline beside it fails 5% of 600 requests against 1% in the pre-flight',
    );
    expect(c.errorRate.range!.high).toBeCloseTo(compareStage(canary, p).errorRate.range!.high + 0.04, 6);
    expect(c.errorRate.position).toBe('inside');
    // A candidate failing 4 points more than that baseline is still above.
    expect(compareStage(metrics(600, 1, 60), p, metrics(600, 1, 30)).errorRate.position).toBe('above');
  });

  it.each([
    ['no baseline requests (a 100% stage)', 0],
    [`fewer than ${CALIBRATION_MIN_REQUESTS} baseline requests`, CALIBRATION_MIN_REQUESTS - 1],
  ])('%s: nothing to calibrate with', (_what, n) => {
    const p = prediction();
    const c = compareStage(metrics(600, 3), p, metrics(n, 3, n > 0 ? 5 : 0));
    expect(c.calibration).toMatchObject({ latencyBasis: null, latencyRatio: null, p99Factor: 1, errorRateShift: 0 });
    expect(c.p99Ms.position).toBe('above');
  });

  it('the accuracy compares as the rollout did, with the baseline of the window', () => {
    const p = prediction();
    const stage = { region: 'us-west', stage: 0, weight: 5, canary: metrics(600, 3, 6) };
    expect(predictionAccuracy([p], [stage]).inside).toBe(0);
    expect(predictionAccuracy([p], [{ ...stage, baseline: metrics(600, 3) }]).inside).toBe(1);
  });
});

describe('classifyStage with the baseline beside the canary', () => {
  const plan = defaultRolloutPlan();
  const limits = { maxErrorRate: 0.05, maxP99Ms: 500 };
  const p = prediction({ ...LOAD, maxP99Ms: 500, maxErrorRate: 0.05 });

  function judged(host: number, slower: number) {
    const canary = makeWindow('canary', { n: 600, latency: latency(600, host * slower) });
    const baseline = makeWindow('baseline', { n: 600, latency: latency(600, host) });
    const options = { ...judgeOptions(plan.analysis), maxLatencyIncreaseRatio: 10, maxLatencyIncreaseMs: 1000 };
    return combineJudgement(judge(canary, baseline, limits, options), limits, [], ['synthetic'], canary);
  }

  it('an identical version on a 3x busier host stays green, and the reasons say why its range moved', () => {
    const j = classifyStage(judged(3, 1), p);
    expect(j.verdict).toBe('green');
    expect(j.reasons.at(-1)).toMatch(
      /^p99 2\d\d ms is inside the predicted \d+ ms to \d+ ms \(calibrated x3\.0\d: the baseline beside it is 3\.0\dx slower than in the pre-flight \(median 60 ms against 19 ms\)\)$/,
    );
  });

  it('a 2x slower version on the same host is outside the prediction: yellow, and paused', () => {
    const j = classifyStage(judged(3, 2), p);
    expect(j.judgedVerdict).toBe('green'); // under the 500 ms limit, the latency tolerance opened wide
    expect(j.verdict).toBe('yellow');
    expect(j.reasons[0]).toMatch(/^outside the prediction: p99 4\d\d ms is above the predicted .* \(calibrated x3/);
  });
});

describe('the study: host load multiplies both cohorts by 1 to 4 per stage', () => {
  it('an identical version is above its range in at most 1 stage in 20, without calibration in most', () => {
    for (const [canaryRequests, baselineRequests] of [
      [60, 100],
      [500, 500],
    ] as const) {
      const r = calibrationStudy({ slower: 1, canaryRequests, baselineRequests, seeds: 60 });
      expect(r.above).toBeLessThanOrEqual(0.05);
      expect(r.aboveUncalibrated).toBeGreaterThan(0.5);
    }
  });

  it('a 2x slower version is above in nearly every stage of 500 requests', () => {
    const r = calibrationStudy({ slower: 2, canaryRequests: 500, baselineRequests: 500, seeds: 60 });
    expect(r.above).toBeGreaterThanOrEqual(0.95);
  });
});
