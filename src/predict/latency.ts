import { nearestRank } from '../analysis/metrics.ts';
import { normalQuantile, normalSf } from '../analysis/normal.ts';
import { createRandom, gammaVariate } from '../util/random.ts';
import type { CohortMeasurement } from './preflight.ts';

// The latency model: the successful requests' latencies are lognormal, ln X ~ N(mu, sigma).
// Fitted per load profile, interpolated between profiles (model.ts), and turned into a
// predicted range of a stage's nearest-rank p99 by a seeded Monte Carlo.
//
// Fit. With raw latencies: the maximum-likelihood fit on the logs (mu = mean of ln x,
// sigma = their standard deviation), which uses every request, not two quantiles. With at
// least TAIL_MIN_SAMPLES latencies, sigma is raised when needed so that the fitted p99 is
// not below the measured one: real latencies often have a heavier tail than a lognormal, and
// p99 is the number we predict, so the fit may be wrong in the body but never optimistic in
// the tail. Without raw latencies, the fit goes through the measured p50 and p99 (as
// simulate/ does): mu = ln p50, sigma = ln(p99 / p50) / z(0.99).
//
// Parameter uncertainty. From m latencies, mu is known to within sigma / sqrt(m) and sigma
// to within about sigma / sqrt(2 (m - 1)) (normal approximations of the sampling
// distributions). Both feed the Monte Carlo and the breach probability, so a pre-flight of
// 30 requests predicts a wider range than one of 3,000.

/** z of the 99th and 95th percentiles of the standard normal. */
export const Z99 = 2.3263478740408408;
export const Z95 = 1.6448536269514722;

/** Below this many latencies the measured p99 is little more than the maximum: no tail floor. */
export const TAIL_MIN_SAMPLES = 100;

/** Latencies are clamped to this (ms) before taking logs: a 0 ms reading must not be -Infinity. */
const MIN_LATENCY_MS = 0.001;

export interface LogFit {
  mu: number;
  sigma: number;
  /** Latencies the fit rests on (its sample size), at least 2. */
  m: number;
  method: 'mle' | 'mle+tail' | 'quantiles';
}

export interface Range {
  low: number;
  expected: number;
  high: number;
}

/** The lognormal of one cohort's measurement; null when fewer than 2 successful requests were seen. */
export function fitLognormal(c: CohortMeasurement): LogFit | null {
  const raw = c.latenciesMs;
  if (raw && raw.length >= 2) {
    const logs = raw.map((x) => Math.log(Math.max(MIN_LATENCY_MS, x)));
    const m = logs.length;
    const mu = logs.reduce((s, x) => s + x, 0) / m;
    const sigmaMle = Math.sqrt(logs.reduce((s, x) => s + (x - mu) ** 2, 0) / m);
    if (m >= TAIL_MIN_SAMPLES) {
      const sorted = [...logs].sort((a, b) => a - b);
      const logP99 = sorted[nearestRank(0.99, m) - 1] as number;
      const sigmaTail = (logP99 - mu) / Z99;
      if (sigmaTail > sigmaMle) return { mu, sigma: sigmaTail, m, method: 'mle+tail' };
    }
    return { mu, sigma: sigmaMle, m, method: 'mle' };
  }
  const m = c.count - c.errors;
  if (m < 2 || c.p50Ms === null || c.p99Ms === null) return null;
  const p50 = Math.max(MIN_LATENCY_MS, c.p50Ms);
  const p99 = Math.max(p50, c.p99Ms);
  return { mu: Math.log(p50), sigma: Math.log(p99 / p50) / Z99, m, method: 'quantiles' };
}

/** Linear interpolation of two fits, weight w on `b` (0: a, 1: b). A missing side leaves the other. */
export function interpolateFit(a: LogFit | null, b: LogFit | null, w: number): LogFit | null {
  if (a === null) return b;
  if (b === null) return a;
  if (w <= 0) return a;
  if (w >= 1) return b;
  return {
    mu: a.mu + w * (b.mu - a.mu),
    sigma: a.sigma + w * (b.sigma - a.sigma),
    m: a.m + w * (b.m - a.m),
    method: a.method === b.method ? a.method : 'mle',
  };
}

/** Standard errors of mu and sigma for a fit from m latencies. */
function standardErrors(fit: LogFit): { mu: number; sigma: number } {
  const m = Math.max(2, fit.m);
  return { mu: fit.sigma / Math.sqrt(m), sigma: fit.sigma / Math.sqrt(2 * (m - 1)) };
}

/** ln of the TRUE p99 (mu + z99 sigma) as a normal: its centre and standard deviation. */
export function logP99Distribution(fit: LogFit): { center: number; sd: number } {
  const se = standardErrors(fit);
  return { center: fit.mu + Z99 * fit.sigma, sd: Math.sqrt(se.mu ** 2 + (Z99 * se.sigma) ** 2) };
}

/** P(true p99 > limitMs): the chance that more than 1% of the candidate's requests are slower than the limit. */
export function p99BreachProbability(fit: LogFit, limitMs: number): number {
  const { center, sd } = logP99Distribution(fit);
  const lnLimit = Math.log(limitMs);
  if (sd === 0) return center > lnLimit ? 1 : 0;
  return normalSf((lnLimit - center) / sd);
}

/** 90% interval of the TRUE p99 (ms), from the fit's parameter uncertainty alone. */
export function trueP99Interval(fit: LogFit): { low: number; high: number } {
  const { center, sd } = logP99Distribution(fit);
  return { low: Math.exp(center - Z95 * sd), high: Math.exp(center + Z95 * sd) };
}

/**
 * Predicted range of the nearest-rank p99 of `successes` latencies: `samples` times, draw
 * mu and sigma from their sampling distributions, then the p99 of `successes` latencies
 * from that lognormal, taken the way analysis/metrics.ts takes it. The range is the 5th and
 * 95th percentile of the simulated p99s, the expectation their median.
 *
 * The p99 is drawn directly as an order statistic, not by drawing every latency and sorting:
 * the k-th smallest of n lognormal latencies is exp(mu + sigma Phi^-1(U(k))) with
 * U(k) ~ Beta(k, n + 1 - k), the same distribution at O(1) per sample instead of
 * O(n log n). This runs at every analysis of a live rollout, on the event loop that also
 * times the traffic (the cost of sorting: docs/prediction.md, `npm run bench prediction`).
 */
export function simulateP99(fit: LogFit, successes: number, samples: number, seed: number): Range {
  const n = Math.max(1, Math.round(successes));
  const runs = Math.max(1, Math.round(samples));
  const random = createRandom(seed);
  const se = standardErrors(fit);
  const k = nearestRank(0.99, n);
  const p99s = new Float64Array(runs);
  for (let r = 0; r < runs; r++) {
    const mu = fit.mu + se.mu * random.normal();
    // sigma stays positive: a draw below a tenth of the fit is a tenth of the fit.
    const sigma = Math.max(fit.sigma * 0.1, fit.sigma + se.sigma * random.normal());
    // 1 - U(k) ~ Beta(n + 1 - k, k), as a ratio of Gammas; kept as the small upper-tail
    // share so that its digits survive (U(k) itself is close to 1).
    const above = gammaVariate(random, n + 1 - k);
    const tail = above / (above + gammaVariate(random, k));
    p99s[r] = Math.exp(mu - sigma * normalQuantile(tail));
  }
  p99s.sort();
  const at = (q: number) => p99s[nearestRank(q, runs) - 1] as number;
  return { low: at(0.05), expected: at(0.5), high: at(0.95) };
}
