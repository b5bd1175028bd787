import { stageRates, type RolloutPlan } from '../plan/rollout.ts';
import { betaBinomialQuantiles, betaCdf, betaMean, homogeneityTest } from './beta.ts';
import { fitLognormal, interpolateFit, p99BreachProbability, simulateP99, type LogFit, type Range } from './latency.ts';
import type { CohortMeasurement, PreflightMeasurement } from './preflight.ts';
import { sig } from '../util/round.ts';

// The prediction model: per canary stage, the range of error rates and of nearest-rank p99
// latencies the stage's judgement will most likely see (the central 90%: 5th to 95th
// percentile), and the probabilities that the candidate breaches the stage's limits.
//
// Error rate: Beta-Binomial. The candidate's true error rate p has a Beta prior (from the run
// history, predict/priors.ts; Jeffreys' Beta(0.5, 0.5) without history), updated with the
// pre-flight's errors e among n requests to Beta(a + e, b + n - e). The number of errors
// among the N requests a stage judges is then Beta-Binomial(N, a + e, b + n - e): it carries
// both the uncertainty about p and the binomial noise of N requests, which is what a stage's
// observed error rate shows. Exact quantiles, no sampling.
//
// Latency: lognormal (latency.ts), predicted by a seeded Monte Carlo.
//
// Load: each profile is fitted on its own; a stage is matched to the profiles by the load the
// candidate carries in it (its canary rate, plan/rollout.ts stageRates).
// - Latency depends on load as a rule (queueing), so the lognormal's mu and sigma are
//   interpolated linearly in rps between the two profiles around the stage's load (the
//   median grows geometrically).
// - Error rates often do not. The profiles' error rates are tested for homogeneity
//   (Pearson's chi-square, homogeneityTest): unless they differ significantly (p <
//   LOAD_DEPENDENCE_ALPHA), every profile's errors and requests are pooled, so a stage
//   rests on the whole pre-flight, not on the few requests of the profile nearest to it.
//   When they do differ, the errors and requests are interpolated in rps like the latency.
// Outside the measured loads the nearest profile is used and the stage is marked
// `extrapolated`: no trend is extended past what was measured.

export interface ErrorPrior {
  alpha: number;
  beta: number;
  /** Where it came from: earlier runs, or none (Jeffreys). */
  source: 'history' | 'none';
  /** History runs and cohorts (region x baseline/candidate) it rests on. */
  runs: number;
  cohorts: number;
  explanation: string;
}

/** Jeffreys' prior: weakly informative, invariant, and its posterior has good frequentist coverage. */
export const JEFFREYS_PRIOR: ErrorPrior = Object.freeze({
  alpha: 0.5,
  beta: 0.5,
  source: 'none',
  runs: 0,
  cohorts: 0,
  explanation: 'no history: Jeffreys prior Beta(0.5, 0.5), weakly informative',
});

export interface CohortFit {
  /** Requests and errors (interpolated between profiles, so not necessarily whole numbers). */
  count: number;
  errors: number;
  latency: LogFit | null;
}

/** One load profile's measurements (every region and repetition at the same rps merged). */
export interface ProfileFit {
  rps: number;
  names: string[];
  regions: string[];
  writeShare: number;
  canary: CohortFit;
  baseline: CohortFit;
}

function mergeCohorts(cohorts: readonly CohortMeasurement[]): CohortMeasurement {
  const first = cohorts[0] as CohortMeasurement;
  if (cohorts.length === 1) return first;
  const count = cohorts.reduce((s, c) => s + c.count, 0);
  const errors = cohorts.reduce((s, c) => s + c.errors, 0);
  const raw = cohorts.every((c) => c.latenciesMs !== undefined)
    ? cohorts.flatMap((c) => [...(c.latenciesMs ?? [])])
    : undefined;
  // Without raw latencies, the summary of the largest measurement stands for all of them.
  const largest = cohorts.reduce((a, c) => (c.count > a.count ? c : a));
  return {
    ...largest,
    count,
    errors,
    errorRate: count === 0 ? null : errors / count,
    ...(raw ? { latenciesMs: raw } : {}),
  };
}

function cohortFit(c: CohortMeasurement): CohortFit {
  return { count: c.count, errors: c.errors, latency: fitLognormal(c) };
}

/** Profiles sorted by rps; measurements at the same rps (several regions, repeats) are merged. */
export function fitProfiles(preflight: readonly PreflightMeasurement[]): ProfileFit[] {
  const byRps = new Map<number, PreflightMeasurement[]>();
  for (const m of preflight) {
    if (!(m.rps > 0)) throw new RangeError(`pre-flight profile ${m.profile}: rps must be > 0, got ${m.rps}`);
    byRps.set(m.rps, [...(byRps.get(m.rps) ?? []), m]);
  }
  return [...byRps.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([rps, ms]) => ({
      rps,
      names: [...new Set(ms.map((m) => m.profile))],
      regions: [...new Set(ms.map((m) => m.region))],
      writeShare: ms.reduce((s, m) => s + m.writeShare, 0) / ms.length,
      canary: cohortFit(mergeCohorts(ms.map((m) => m.canary))),
      baseline: cohortFit(mergeCohorts(ms.map((m) => m.baseline))),
    }));
}

/** Profiles' error rates differing at this significance make the error evidence load-dependent. */
export const LOAD_DEPENDENCE_ALPHA = 0.05;

export interface ErrorPooling {
  /** true: the profiles' error rates are homogeneous and pooled; false: interpolated by load. */
  pooled: boolean;
  /** p-value of the homogeneity test (1 with fewer than two profiles). */
  p: number;
  count: number;
  errors: number;
}

/** Whether one cohort's error evidence is pooled over the profiles (see the header). */
export function errorPooling(profiles: readonly ProfileFit[], cohort: 'canary' | 'baseline'): ErrorPooling {
  const groups = profiles.map((p) => p[cohort]);
  const test = homogeneityTest(groups);
  return {
    pooled: test.p >= LOAD_DEPENDENCE_ALPHA,
    p: test.p,
    count: groups.reduce((s, g) => s + g.count, 0),
    errors: groups.reduce((s, g) => s + g.errors, 0),
  };
}

export interface Evidence {
  canary: CohortFit;
  baseline: CohortFit;
  /** The load is below the lowest or above the highest measured profile. */
  extrapolated: boolean;
  /** In words: "between low (10 rps) and nominal (40 rps)". */
  basis: string;
}

const EMPTY: CohortFit = { count: 0, errors: 0, latency: null };

function mix(a: CohortFit, b: CohortFit, w: number): CohortFit {
  return {
    count: a.count + w * (b.count - a.count),
    errors: a.errors + w * (b.errors - a.errors),
    latency: interpolateFit(a.latency, b.latency, w),
  };
}

const label = (p: ProfileFit) => `${p.names.join('/')} (${sig(p.rps, 4)} rps)`;

/** The pre-flight evidence at a load of `rps` on the candidate (see the header). */
export function evidenceAt(profiles: readonly ProfileFit[], rps: number): Evidence {
  const near = nearestEvidence(profiles, rps);
  if (profiles.length < 2) return near;
  const c = errorPooling(profiles, 'canary');
  const b = errorPooling(profiles, 'baseline');
  const pooled = (fit: CohortFit, pool: ErrorPooling): CohortFit =>
    pool.pooled ? { ...fit, count: pool.count, errors: pool.errors } : fit;
  const errors = c.pooled
    ? `candidate errors pooled over ${profiles.length} profiles (homogeneous, p=${sig(c.p, 3)})`
    : `candidate error rate depends on load (p=${sig(c.p, 3)}): interpolated`;
  return {
    ...near,
    canary: pooled(near.canary, c),
    baseline: pooled(near.baseline, b),
    basis: `${near.basis}; ${errors}`,
  };
}

function nearestEvidence(profiles: readonly ProfileFit[], rps: number): Evidence {
  if (profiles.length === 0)
    return { canary: EMPTY, baseline: EMPTY, extrapolated: true, basis: 'no pre-flight measurement' };
  const first = profiles[0] as ProfileFit;
  const last = profiles[profiles.length - 1] as ProfileFit;
  if (rps <= first.rps)
    return {
      canary: first.canary,
      baseline: first.baseline,
      extrapolated: rps < first.rps,
      basis: rps < first.rps ? `${label(first)}, the lowest load measured` : label(first),
    };
  if (rps >= last.rps)
    return {
      canary: last.canary,
      baseline: last.baseline,
      extrapolated: rps > last.rps,
      basis: rps > last.rps ? `${label(last)}, the highest load measured` : label(last),
    };
  const i = profiles.findIndex((p) => p.rps >= rps);
  const hi = profiles[i] as ProfileFit;
  const lo = profiles[i - 1] as ProfileFit;
  if (hi.rps === rps) return { canary: hi.canary, baseline: hi.baseline, extrapolated: false, basis: label(hi) };
  const w = (rps - lo.rps) / (hi.rps - lo.rps);
  return {
    canary: mix(lo.canary, hi.canary, w),
    baseline: mix(lo.baseline, hi.baseline, w),
    extrapolated: false,
    basis: `between ${label(lo)} and ${label(hi)}`,
  };
}

/** What a stage asks of the candidate: its load, the requests it judges, its limits. */
export interface StageLoad {
  stage: number;
  weight: number;
  /** Requests per second the candidate takes in the stage. */
  canaryRps: number;
  /**
   * Canary requests the stage judges when it passes: canary rate x bake time. A pause
   * lengthens the window, so this is the smallest window and the widest range.
   */
  requests: number;
  maxErrorRate: number;
  maxP99Ms: number;
}

/** The stages a plan runs; a rolling rollout judges one step at 100% with the last stage's limits and bake. */
export function stageLoads(plan: RolloutPlan): StageLoad[] {
  if (plan.strategy === 'rolling') {
    const last = plan.stages[plan.stages.length - 1];
    if (!last) return [];
    return [
      {
        stage: 0,
        weight: 100,
        canaryRps: plan.trafficRps,
        requests: Math.max(1, Math.round(plan.trafficRps * last.bakeSeconds)),
        maxErrorRate: last.limits.maxErrorRate,
        maxP99Ms: last.limits.maxP99Ms,
      },
    ];
  }
  return plan.stages.map((s, i) => {
    const canaryRps = stageRates(plan, i).canary;
    return {
      stage: i,
      weight: s.weight,
      canaryRps,
      requests: Math.max(1, Math.round(canaryRps * s.bakeSeconds)),
      maxErrorRate: s.limits.maxErrorRate,
      maxP99Ms: s.limits.maxP99Ms,
    };
  });
}

/**
 * What the pre-flight measured of the baseline at the stage's load, beside the candidate: the
 * reference tiers.ts calibrates a stage's ranges with, against the baseline of the same analysis
 * window (the host may be busier during the rollout than during the pre-flight).
 */
export interface BaselineModel {
  /** Errors over requests (pooled or interpolated like the candidate's); null without requests. */
  errorRate: number | null;
  latency: LogFit | null;
}

/** Everything needed to recompute a stage's ranges for another number of requests (tiers.ts does, per analysis). */
export interface StageModel {
  /** Posterior Beta of the candidate's error rate at the stage's load. */
  alpha: number;
  beta: number;
  latency: LogFit | null;
  seed: number;
  samples: number;
  /** Absent in predictions made before it was kept: their ranges are not calibrated. */
  baseline?: BaselineModel;
}

export interface StagePrediction {
  stage: number;
  weight: number;
  requests: number;
  canaryRps: number;
  limits: { maxErrorRate: number; maxP99Ms: number };
  /** Central 90% of the error rate the stage will observe, and its expectation (the posterior mean). */
  errorRate: Range;
  /** Central 90% of the nearest-rank p99 (ms) the stage will observe; null without latency data. */
  p99Ms: Range | null;
  /** Posterior probabilities that the candidate's TRUE error rate / p99 is above the stage's limit. */
  breach: { errorRate: number; p99: number };
  extrapolated: boolean;
  basis: string;
  model: StageModel;
}

/** A seed per stage, so that adding a stage does not change the others' Monte Carlo. */
export function deriveSeed(seed: number, k: number): number {
  const s = (seed >>> 0) ^ Math.floor(seed / 2 ** 32);
  return (Math.imul(s ^ (s >>> 16), 0x45d9f3b) + Math.imul(k + 1, 0x9e3779b1)) >>> 0;
}

/**
 * The stage's ranges for n judged requests. `successes` is how many of them succeeded (the
 * p99 is over successful requests); by default n minus the expected errors.
 */
export function rangesAt(model: StageModel, n: number, successes?: number): { errorRate: Range; p99Ms: Range | null } {
  const count = Math.max(1, Math.round(n));
  const mean = betaMean(model.alpha, model.beta);
  const [q05, q95] = betaBinomialQuantiles(count, model.alpha, model.beta, [0.05, 0.95]) as [number, number];
  const errorRate: Range = { low: sig(q05 / count), expected: sig(mean), high: sig(q95 / count) };
  const ok = successes ?? Math.max(1, Math.round(count * (1 - mean)));
  if (model.latency === null || ok < 1) return { errorRate, p99Ms: null };
  const r = simulateP99(model.latency, ok, model.samples, deriveSeed(model.seed, count * 7919 + ok));
  return { errorRate, p99Ms: { low: sig(r.low), expected: sig(r.expected), high: sig(r.high) } };
}

/** P(true error rate > limit); with a limit of 0 (any error is red), P(at least one error among n). */
export function errorBreachProbability(alpha: number, beta: number, limit: number, n: number): number {
  if (limit >= 1) return 0;
  if (limit <= 0) return 1 - Math.exp(logNoErrorProbability(n, alpha, beta));
  return 1 - betaCdf(limit, alpha, beta);
}

/** log P(no error among n) under Beta-Binomial(n, a, b): log B(a, b + n) - log B(a, b). */
function logNoErrorProbability(n: number, a: number, b: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.log((b + i) / (a + b + i));
  return s;
}

export function roundFit(fit: LogFit | null): LogFit | null {
  return fit === null ? null : { mu: sig(fit.mu), sigma: sig(fit.sigma), m: sig(fit.m), method: fit.method };
}

/**
 * The prediction of one stage. Parameters are rounded to 6 significant digits BEFORE the
 * ranges are computed from them, so that a prediction read back from its JSON recomputes
 * exactly the same ranges (tiers.ts does that during the rollout).
 */
export function predictStage(
  profiles: readonly ProfileFit[],
  prior: ErrorPrior,
  load: StageLoad,
  seed: number,
  samples: number,
): StagePrediction {
  const ev = evidenceAt(profiles, load.canaryRps);
  const model: StageModel = {
    alpha: sig(prior.alpha + ev.canary.errors),
    beta: sig(prior.beta + ev.canary.count - ev.canary.errors),
    latency: roundFit(ev.canary.latency),
    seed: deriveSeed(seed, load.stage),
    samples,
    baseline: {
      errorRate: ev.baseline.count > 0 ? sig(ev.baseline.errors / ev.baseline.count) : null,
      latency: roundFit(ev.baseline.latency),
    },
  };
  const ranges = rangesAt(model, load.requests);
  return {
    stage: load.stage,
    weight: load.weight,
    requests: load.requests,
    canaryRps: sig(load.canaryRps),
    limits: { maxErrorRate: load.maxErrorRate, maxP99Ms: load.maxP99Ms },
    errorRate: ranges.errorRate,
    p99Ms: ranges.p99Ms,
    breach: {
      errorRate: sig(errorBreachProbability(model.alpha, model.beta, load.maxErrorRate, load.requests)),
      p99: model.latency === null ? 0 : sig(p99BreachProbability(model.latency, load.maxP99Ms)),
    },
    extrapolated: ev.extrapolated,
    basis: ev.basis,
    model,
  };
}
