import { ms, num, pct, pValue } from '../util/format.ts';
import { errorLimitTest, evidenceSince, latencyLimitTestSorted, type LimitTest } from './limits.ts';
import { countUntimed, successLatencies, summarize, type WindowMetrics } from './metrics.ts';
import type { Cohort, Observation } from './observation.ts';
import { mannWhitneyGreaterSorted, twoProportionTest, type MannWhitneyTest, type ProportionTest } from './stats.ts';

// The verdict on a canary window against its baseline window (same region, same time range).
// The rules, in order; every one that applies adds a line to `reasons` (Kayenta-style: each
// classification is explained, not just the outcome). The measurements behind them: docs/judge.md.
//
// 1. RED when an absolute limit is breached beyond doubt: the canary's error rate is above
//    max_error_rate, or more than 1% of its successful requests are slower than max_p99_ms
//    (see limits.ts), with an exact one-sided binomial p-value < alpha / 10. This applies at
//    any sample size (proof on 15 requests is proof), so it is also the "breached with
//    certainty" exception to rule 2. max_error_rate 0.0 makes any canary error red.
//    alpha / 10 because the limit is tested at every analysis of a growing window.
//    Except when the baseline in the same window breaches the same limit too (p < alpha) and
//    the canary is not worse than it beyond doubt (sharedBreach): the breach is the host's or
//    the stack's, not the candidate's, and the comparison of rule 3 decides. A limit of 0
//    has no exception.
// 2. INCONCLUSIVE when the canary has fewer than min_samples requests ("not enough data").
// 3. YELLOW when a limit is probably breached (binomial p < alpha, not yet red: pause and look
//    more often, the next data decide), or when the canary is significantly (p < alpha) worse
//    than the baseline BY MORE THAN THE TOLERATED EFFECT:
//    - errors: one-sided two-proportion z-test of H0 "canary rate <= baseline rate +
//      max_error_rate_increase";
//    - latency: one-sided Mann-Whitney U of H0 "canary latency <= (1 +
//      max_latency_increase_ratio) x baseline latency + max_latency_increase_ms" (the
//      absolute part because at a few milliseconds 10% is scheduler noise).
//    The tolerance itself is tested, not "significant, and the point estimate above it".
//    The comparison needs min_samples baseline requests too; without them (a rolling bake's
//    baseline window is short, a caller may send none) only the limits judge.
// 4. GREEN otherwise.
//
// Latencies are the timed requests' only: a request in flight while the gate's own event
// loop stalled is untimed (traffic/generator.ts); its status still counts.

/** Red needs this much stronger evidence than yellow (see rule 1). */
export const RED_ALPHA_FACTOR = 0.1;

export interface StageLimits {
  /** Allowed error rate in [0, 1]; 0 means any error is red. */
  maxErrorRate: number;
  maxP99Ms: number;
}

export interface JudgeOptions {
  minSamples: number;
  alpha: number;
  /** Tolerated absolute increase of the error rate over the baseline (default 0.01). */
  maxErrorRateIncrease?: number;
  /** Tolerated relative increase of the median latency over the baseline (default 0.1). */
  maxLatencyIncreaseRatio?: number;
  /** Tolerated absolute increase of the latency on top of the relative one, ms (default 5). */
  maxLatencyIncreaseMs?: number;
  /**
   * Requests per second each cohort is sent (stageRates()), so that "not enough data" says
   * how long the missing requests take; without it, it says only how many are missing.
   */
  rates?: { canary: number; baseline: number };
}

/** Each cohort's successLatencies(). */
export interface SortedLatencies {
  canary: readonly number[];
  baseline: readonly number[];
}

export const DEFAULT_MAX_ERROR_RATE_INCREASE = 0.01;
export const DEFAULT_MAX_LATENCY_INCREASE_RATIO = 0.1;
export const DEFAULT_MAX_LATENCY_INCREASE_MS = 5;

export type Verdict = 'green' | 'yellow' | 'red' | 'inconclusive';

export interface Judgement {
  verdict: Verdict;
  reasons: string[];
  canary: WindowMetrics;
  baseline: WindowMetrics;
  tests: {
    errorLimit: LimitTest;
    latencyLimit: LimitTest;
    /** Canary vs baseline; null when the comparison was skipped. */
    errors: ProportionTest | null;
    latency: MannWhitneyTest | null;
  };
  /** For a red verdict, the time of the first canary request that counts against the breached limit. */
  evidenceSince: number | null;
}

/** The reasons of one judgement, by the verdict they argue for. */
interface Reasons {
  red: string[];
  yellow: string[];
  fine: string[];
}

/** The significance levels of one judgement: yellow below `alpha`, red below `redP`, and their text. */
interface Levels {
  alpha: number;
  redP: number;
  alphaText: string;
  redAlphaText: string;
}

export function judge(
  canary: readonly Observation[],
  baseline: readonly Observation[],
  limits: StageLimits,
  options: JudgeOptions,
  sorted?: SortedLatencies,
): Judgement {
  const { minSamples } = options;
  const redP = options.alpha * RED_ALPHA_FACTOR;
  const levels: Levels = { alpha: options.alpha, redP, alphaText: num(options.alpha), redAlphaText: num(redP) };
  // Each cohort's latencies are sorted once, for the quantiles, the limit and the ranks alike.
  // `sorted`: the windows' successLatencies(), when the caller keeps them between analyses.
  const latencies = sorted ?? { canary: successLatencies(canary), baseline: successLatencies(baseline) };
  const c = summarize(canary, latencies.canary);
  const b = summarize(baseline, latencies.baseline);
  const errorLimit = errorLimitTest(canary, limits.maxErrorRate);
  const latencyLimit = latencyLimitTestSorted(latencies.canary, limits.maxP99Ms);
  const reasons: Reasons = { red: [], yellow: [], fine: [] };
  // A limit of 0 (any error is red) is the user's own rule: no baseline excuses it.
  const errorShared =
    limits.maxErrorRate > 0 ? sharedBreach(errorLimit, errorLimitTest(baseline, limits.maxErrorRate), levels) : null;
  const latencyShared = sharedBreach(latencyLimit, latencyLimitTestSorted(latencies.baseline, limits.maxP99Ms), levels);
  judgeErrorLimit(c, errorLimit, limits.maxErrorRate, levels, reasons, errorShared);
  judgeLatencyLimit(canary, c, latencyLimit, limits.maxP99Ms, levels, reasons, latencyShared);
  const { red, yellow, fine } = reasons;

  const base = { canary: c, baseline: b };
  const tests = { errorLimit, latencyLimit, errors: null, latency: null };
  if (red.length > 0) {
    const errorsRed = errorLimit.breached && (limits.maxErrorRate === 0 || errorLimit.p < redP);
    const since = evidenceSince(canary, errorsRed, latencyLimit.breached && latencyLimit.p < redP, limits.maxP99Ms);
    return { verdict: 'red', reasons: red, ...base, tests, evidenceSince: since };
  }
  if (c.count < minSamples) {
    return {
      verdict: 'inconclusive',
      reasons: [`not enough data: ${shortfall(c.count, minSamples, 'canary', options.rates)}`, ...yellow, ...fine],
      ...base,
      tests,
      evidenceSince: null,
    };
  }

  let errors: ProportionTest | null = null;
  let latency: MannWhitneyTest | null = null;
  if (b.count < minSamples) {
    const missing = shortfall(b.count, minSamples, 'baseline', options.rates);
    fine.push(`no comparison with the baseline: ${missing} (limits only)`);
  } else {
    errors = compareErrors(c, b, options, reasons);
    latency = compareLatency(latencies, c, b, options, reasons);
  }
  const all = { ...base, tests: { errorLimit, latencyLimit, errors, latency }, evidenceSince: null };
  if (yellow.length > 0) return { verdict: 'yellow', reasons: [...yellow, ...fine], ...all };
  return { verdict: 'green', reasons: fine, ...all };
}

/** "12 of 30 canary requests; 18 more needed, about 4.5 s at 4 canary requests/s". */
function shortfall(count: number, minSamples: number, cohort: Cohort, rates: JudgeOptions['rates']): string {
  const more = minSamples - count;
  const counted = `${count} of ${minSamples} ${cohort} requests; ${more} more needed`;
  const rate = rates?.[cohort];
  if (rate === undefined) return counted;
  if (!(rate > 0)) return `${counted}, but the stage sends the ${cohort} no requests`;
  const seconds = more / rate;
  const wait = seconds < 0.05 ? 'under 0.1 s' : `about ${seconds.toFixed(1)} s`;
  return `${counted}, ${wait} at ${num(rate)} ${cohort} requests/s`;
}

/**
 * Rule 1's exception: the baseline beside the canary, in the same window, breaches the same limit (binomial p <
 * alpha) and the canary's share of bad requests is not beyond doubt above the baseline's (two-proportion p >= alpha /
 * 10). The breach is then the host's or the stack's, not the candidate's: a loaded runner slows both sides alike.
 * Returns the reason, or null when the rule does not apply.
 */
function sharedBreach(canaryTest: LimitTest, baselineTest: LimitTest, levels: Levels): string | null {
  if (!canaryTest.breached || !baselineTest.breached || baselineTest.p >= levels.alpha) return null;
  const worse = twoProportionTest(canaryTest.bad, canaryTest.total, baselineTest.bad, baselineTest.total);
  if (worse.p < levels.redP) return null;
  return (
    `but so is the baseline beside it (${baselineTest.bad} of ${baselineTest.total}, ` +
    `binomial p=${pValue(baselineTest.p)}) and the canary is not worse beyond doubt (p=${pValue(worse.p)}): ` +
    'the host or the stack, not the candidate'
  );
}

/** Rule 1 and 3 for the error limit: the canary's error rate against max_error_rate. */
function judgeErrorLimit(
  c: WindowMetrics,
  errorLimit: LimitTest,
  maxErrorRate: number,
  levels: Levels,
  { red, yellow, fine }: Reasons,
  shared: string | null,
): void {
  const { alphaText: alpha, redAlphaText: redAlpha } = levels;
  const errorWord = `error rate ${pct(c.errorRate)} (${c.errors} of ${c.count})`;
  const errorP = `binomial p=${pValue(errorLimit.p)}`;
  if (errorLimit.breached && maxErrorRate === 0) red.push(`${errorWord}: the limit is 0, so any error is red`);
  else if (shared !== null) fine.push(`${errorWord} is above the limit ${pct(maxErrorRate)} (${errorP}), ${shared}`);
  else if (errorLimit.breached && errorLimit.p < levels.redP)
    red.push(`${errorWord} is above the limit ${pct(maxErrorRate)} (${errorP} < ${redAlpha})`);
  else if (errorLimit.breached && errorLimit.p < levels.alpha)
    yellow.push(
      `${errorWord} is probably above the limit ${pct(maxErrorRate)} (${errorP} < ${alpha}, ` +
        `red below ${redAlpha})`,
    );
  else if (errorLimit.breached)
    fine.push(`${errorWord} is above the limit ${pct(maxErrorRate)}, but not significantly (${errorP})`);
  else if (c.count > 0) fine.push(`${errorWord} is within the limit ${pct(maxErrorRate)}`);
}

/** Rule 1 and 3 for the latency limit: the canary's successful requests slower than max_p99_ms. */
function judgeLatencyLimit(
  canary: readonly Observation[],
  c: WindowMetrics,
  latencyLimit: LimitTest,
  maxP99Ms: number,
  levels: Levels,
  { red, yellow, fine }: Reasons,
  shared: string | null,
): void {
  const { alphaText: alpha, redAlphaText: redAlpha } = levels;
  const untimed = countUntimed(canary);
  const untimedWord =
    untimed > 0 ? ` (${untimed} more not timed: the load generator stalled while they were in flight)` : '';
  const slowWord =
    `p99 ${ms(c.p99Ms)}: ` +
    `${latencyLimit.bad} of ${latencyLimit.total} successful requests slower than ${ms(maxP99Ms)}${untimedWord}`;
  const slowP = `binomial p=${pValue(latencyLimit.p)}`;
  if (shared !== null) fine.push(`${slowWord}, more than 1% (${slowP}), ${shared}`);
  else if (latencyLimit.breached && latencyLimit.p < levels.redP)
    red.push(`${slowWord}, more than 1% (${slowP} < ${redAlpha})`);
  else if (latencyLimit.breached && latencyLimit.p < levels.alpha)
    yellow.push(`${slowWord}, probably more than 1% (${slowP} < ${alpha}, red below ${redAlpha})`);
  else if (latencyLimit.breached) fine.push(`${slowWord}, more than 1% but not significantly (${slowP})`);
  else if (latencyLimit.total > 0) fine.push(`${slowWord}, within 1%`);
}

/** Rule 3 for errors: the canary's error rate against the baseline's plus the tolerated increase. */
function compareErrors(
  c: WindowMetrics,
  b: WindowMetrics,
  options: JudgeOptions,
  { yellow, fine }: Reasons,
): ProportionTest {
  const tolerance = options.maxErrorRateIncrease ?? DEFAULT_MAX_ERROR_RATE_INCREASE;
  const errors = twoProportionTest(c.errors, c.count, b.errors, b.count, tolerance);
  const errorCmp = `error rate ${pct(c.errorRate)} vs baseline ${pct(b.errorRate)}`;
  const errorTest = `(z=${errors.z.toFixed(2)}, p=${pValue(errors.p)})`;
  if (errors.p < options.alpha)
    yellow.push(`${errorCmp}: worse by more than the tolerated ${pct(tolerance)} ${errorTest}`);
  else fine.push(`${errorCmp}: not worse by more than the tolerated ${pct(tolerance)} ${errorTest}`);
  return errors;
}

/** Rule 3 for latency: the canary's latencies against the baseline's plus the tolerated increase. */
function compareLatency(
  latencies: SortedLatencies,
  c: WindowMetrics,
  b: WindowMetrics,
  options: JudgeOptions,
  { yellow, fine }: Reasons,
): MannWhitneyTest {
  const allowed = options.maxLatencyIncreaseRatio ?? DEFAULT_MAX_LATENCY_INCREASE_RATIO;
  const allowedMs = options.maxLatencyIncreaseMs ?? DEFAULT_MAX_LATENCY_INCREASE_MS;
  const latency = mannWhitneyGreaterSorted(latencies.canary, latencies.baseline, allowed, allowedMs);
  const latencyCmp = `median latency ${ms(c.p50Ms)} vs baseline ${ms(b.p50Ms)}`;
  const latencyTest = `(Mann-Whitney U=${latency.u}, p=${pValue(latency.p)})`;
  const tolerated = allowedMs > 0 ? `${pct(allowed)} + ${allowedMs} ms` : pct(allowed);
  if (latency.p < options.alpha)
    yellow.push(`${latencyCmp}: slower by more than the tolerated ${tolerated} ${latencyTest}`);
  else fine.push(`${latencyCmp}: not slower by more than the tolerated ${tolerated} ${latencyTest}`);
  return latency;
}
