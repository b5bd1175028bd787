import { nearestRank, type WindowMetrics } from '../../src/analysis/metrics.ts';
import { Z99 } from '../../src/predict/latency.ts';
import { fitProfiles, JEFFREYS_PRIOR, predictStage } from '../../src/predict/model.ts';
import type { CohortMeasurement } from '../../src/predict/preflight.ts';
import { compareStage } from '../../src/predict/tiers.ts';
import { createRandom, type Random } from '../../src/util/random.ts';

// The study behind the calibration (docs/prediction.md), as a pure seeded simulation: a
// pre-flight of both versions side by side on a quiet host, then stages on a host whose load
// multiplies both cohorts' latencies by a random factor between 1 and `maxLoad`, each stage
// compared with its prediction calibrated by the baseline beside it, and without. Shared by
// the unit test (test/unit/predict-calibrate.test.ts) and the bench (bench/predict.mjs).

export interface StudyOptions {
  /** The candidate's latencies over the baseline's: 1 is an identical version, 2 one twice as slow. */
  slower: number;
  canaryRequests: number;
  baselineRequests: number;
  seeds: number;
  stagesPerSeed?: number;
  maxLoad?: number;
  /** Load also widens the lognormal's sigma by this much per unit of load above 1 (the tail grows faster). */
  tailStretch?: number;
  preflightRequests?: number;
  samples?: number;
}

export interface StudyResult {
  stages: number;
  /** Share of stages whose p99 is above the predicted range, calibrated and as predicted. */
  above: number;
  aboveUncalibrated: number;
}

const MEDIAN_MS = 20;
const SIGMA = Math.log(80 / MEDIAN_MS) / Z99;
const ERROR_RATE = 0.01;

function cohortOf(random: Random, n: number, scale: number, widen: number): CohortMeasurement {
  const latencies: number[] = [];
  let errors = 0;
  for (let i = 0; i < n; i++) {
    if (random.next() < ERROR_RATE) errors++;
    else latencies.push(scale * MEDIAN_MS * Math.exp(SIGMA * widen * random.normal()));
  }
  latencies.sort((a, b) => a - b);
  const q = (p: number) =>
    latencies.length === 0 ? null : (latencies[nearestRank(p, latencies.length) - 1] as number);
  const metrics: WindowMetrics = {
    count: n,
    errors,
    errorRate: n === 0 ? null : errors / n,
    p50Ms: q(0.5),
    p95Ms: q(0.95),
    p99Ms: q(0.99),
  };
  return { ...metrics, version: 'v', latenciesMs: latencies };
}

export function calibrationStudy(o: StudyOptions): StudyResult {
  const { stagesPerSeed = 5, maxLoad = 4, tailStretch = 0, preflightRequests = 400, samples = 500 } = o;
  let above = 0;
  let aboveUncalibrated = 0;
  let stages = 0;
  for (let seed = 1; seed <= o.seeds; seed++) {
    const random = createRandom(seed * 7919 + o.slower * 31);
    const preflight = {
      region: 'us-west',
      profile: 'nominal',
      rps: 40,
      writeShare: 0.3,
      durationMs: 10_000,
      canary: cohortOf(random, preflightRequests, 1, 1),
      baseline: cohortOf(random, preflightRequests, 1, 1),
    };
    const load = { stage: 0, weight: 5, canaryRps: 40, requests: o.canaryRequests, maxErrorRate: 1, maxP99Ms: 1e9 };
    const prediction = predictStage(fitProfiles([preflight]), JEFFREYS_PRIOR, load, seed, samples);
    for (let k = 0; k < stagesPerSeed; k++) {
      const hostLoad = 1 + (maxLoad - 1) * random.next();
      const widen = 1 + tailStretch * (hostLoad - 1);
      const baseline = cohortOf(random, o.baselineRequests, hostLoad, widen);
      const canary = cohortOf(random, o.canaryRequests, hostLoad * o.slower, widen);
      stages++;
      if (compareStage(canary, prediction, baseline).p99Ms.position === 'above') above++;
      if (compareStage(canary, prediction).p99Ms.position === 'above') aboveUncalibrated++;
    }
  }
  return { stages, above: above / stages, aboveUncalibrated: aboveUncalibrated / stages };
}
