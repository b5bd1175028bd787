import { ms, num, pct } from '../util/format.ts';
import { sig } from '../util/round.ts';
import type { WindowMetrics } from '../analysis/metrics.ts';
import type { RolloutPlan } from '../plan/rollout.ts';
import { simulateP99, Z95, type LogFit, type Range } from './latency.ts';
import { deriveSeed, rangesAt, type BaselineModel, type StageModel, type StagePrediction } from './model.ts';

// Adaptive tiers. Before the rollout: what to do with the risk score (proceed, close the
// gate, or start with smaller tiers). During it, each analysis of a stage is compared with
// its prediction here (compareStage), and held to it by the rollout (rollout/classify.ts).
//
// "Risk low" is the stage's own: the prediction's probability that the candidate breaches
// one of the stage's limits is below STAGE_RISK_HIGH. The run's score already chose the tiers
// (close, small tiers) before the rollout; holding every stage of a risky run in yellow would
// make small tiers a slow way to close the gate.

export type HighRiskPolicy = 'close' | 'small_tiers';
export type Action = 'proceed' | 'small-tiers' | 'close';

/** A stage whose predicted breach probability reaches this is not "risk low". */
export const STAGE_RISK_HIGH = 0.5;

export interface TierPolicy {
  maxRisk: number;
  onHighRisk: HighRiskPolicy;
  /** Weights (percent) prepended below the plan's first stage under small_tiers. */
  smallTiers: readonly number[];
}

export interface ActionRecommendation {
  action: Action;
  score: number;
  maxRisk: number;
  onHighRisk: HighRiskPolicy;
  /** The stage weights the rollout runs with (the plan's, or with the small tiers in front). */
  weights: number[];
  reason: string;
}

/** The small tiers that go in front of the plan's first stage: those strictly below its weight. */
export function tiersToPrepend(plan: Pick<RolloutPlan, 'stages'>, smallTiers: readonly number[]): number[] {
  const first = plan.stages[0]?.weight ?? 100;
  return [...new Set(smallTiers)].filter((w) => w > 0 && w < first).sort((a, b) => a - b);
}

export function recommendAction(
  score: number,
  plan: Pick<RolloutPlan, 'stages' | 'strategy'>,
  policy: TierPolicy,
): ActionRecommendation {
  const base = { score, maxRisk: policy.maxRisk, onHighRisk: policy.onHighRisk };
  const weights = plan.stages.map((s) => s.weight);
  if (score <= policy.maxRisk) {
    return {
      ...base,
      action: 'proceed',
      weights,
      reason: `risk ${num(score)} is at most max_risk ${num(policy.maxRisk)}: roll out as planned`,
    };
  }
  const over = `risk ${num(score)} is above max_risk ${num(policy.maxRisk)}`;
  if (policy.onHighRisk === 'close')
    return {
      ...base,
      action: 'close',
      weights: [],
      reason: `${over} and on_high_risk is close: the gate closes without rolling out`,
    };
  if (plan.strategy === 'rolling') {
    return {
      ...base,
      action: 'close',
      weights: [],
      reason:
        `${over}; on_high_risk is small_tiers, but a rolling rollout has no tiers to make smaller: ` +
        `the gate closes without rolling out`,
    };
  }
  const extra = tiersToPrepend(plan, policy.smallTiers);
  const tiers =
    extra.length > 0
      ? `starting with ${extra.map((w) => `${num(w)}%`).join(', ')} before ${num(weights[0] ?? 100)}%`
      : `no small tier is below the first stage (${num(weights[0] ?? 100)}%): the plan stays as it is`;
  return {
    ...base,
    action: 'small-tiers',
    weights: [...extra, ...weights],
    reason: `${over} and on_high_risk is small_tiers: ${tiers}`,
  };
}

/**
 * The plan with the small tiers in front of its first stage; each takes the first stage's
 * bake time and limits. Weights may be as small as 0.1 (percent). The plan is otherwise the
 * same object tree (a new frozen top level).
 */
export function applyTiers(
  plan: RolloutPlan,
  recommendation: Pick<ActionRecommendation, 'action' | 'weights'>,
): RolloutPlan {
  if (recommendation.action !== 'small-tiers') return plan;
  const first = plan.stages[0];
  if (!first) return plan;
  const extra = recommendation.weights.filter((w) => w < first.weight);
  if (extra.length === 0) return plan;
  const stages = Object.freeze([...extra.map((weight) => Object.freeze({ ...first, weight })), ...plan.stages]);
  return Object.freeze({ ...plan, stages });
}

export type Position = 'below' | 'inside' | 'above' | 'unknown';

export interface MetricComparison {
  observed: number | null;
  /** The predicted range for the observed number of requests; null when not predicted. */
  range: Range | null;
  position: Position;
}

/**
 * How a stage's ranges were fitted to the conditions of the analysis window, from the baseline
 * measured beside the canary in that window against the same baseline in the pre-flight.
 */
export interface Calibration {
  /** Requests of the baseline cohort in the window. */
  baselineRequests: number;
  /** The baseline's median latency in the window, and in the pre-flight at the stage's load (exp mu). */
  baselineP50Ms: number | null;
  preflightP50Ms: number | null;
  /** The baseline's p99 in the window, and the range the pre-flight's baseline predicts for it. */
  baselineP99Ms: number | null;
  preflightP99Ms: Range | null;
  /**
   * What the latency ratio compares: the medians, or the p99s when the baseline's p99 is above
   * its own range even after the median's ratio (the host stretched the tail more than the
   * body); null when the window has too few successful baseline requests or nothing to compare.
   */
  latencyBasis: 'median' | 'p99' | null;
  /** Window over pre-flight on that basis (the p99 against its expected value). */
  latencyRatio: number | null;
  /** What the p99 range was multiplied by: the latency ratio when above 1, else 1 (never narrowed). */
  p99Factor: number;
  /**
   * Standard deviation of ln p99Factor from the baseline's sampling noise (0 when not applied): added
   * to the range's own spread in quadrature, so that a factor read from a noisy window does not
   * put an identical version outside its range more often than the prediction says.
   */
  p99FactorSd: number;
  /** The baseline's error rate in the window, and in the pre-flight. */
  baselineErrorRate: number | null;
  preflightErrorRate: number | null;
  /** What was added to the error-rate range: window minus pre-flight when above 0, else 0 (never lowered). */
  errorRateShift: number;
}

export interface StageComparison {
  stage: number;
  weight: number;
  /** Canary requests the comparison is for (the analysis window, not the planned one). */
  requests: number;
  errorRate: MetricComparison;
  p99Ms: MetricComparison;
  /** The prediction's probability that the stage breaches a limit (the larger of the two). */
  breachProbability: number;
  riskLow: boolean;
  /** Present when the baseline of the window and the pre-flight's were both known (see calibrate). */
  calibration?: Calibration;
}

function position(observed: number | null, range: Range | null): Position {
  if (observed === null || range === null) return 'unknown';
  // The ranges are rounded to 6 significant digits; a hair's breadth is not a surprise.
  const slack = (x: number) => Math.abs(x) * 1e-9;
  if (observed > range.high + slack(range.high)) return 'above';
  if (observed < range.low - slack(range.low)) return 'below';
  return 'inside';
}

/** Below this many baseline requests (successful ones for latency) the window says too little about the host. */
export const CALIBRATION_MIN_REQUESTS = 20;

type LatencyCalibration = Pick<
  Calibration,
  'preflightP50Ms' | 'preflightP99Ms' | 'latencyBasis' | 'latencyRatio' | 'p99Factor' | 'p99FactorSd'
>;

function latencyCalibration(baseline: WindowMetrics, model: StageModel, fit: LogFit | null): LatencyCalibration {
  const preflightP50Ms = fit === null ? null : sig(Math.exp(fit.mu));
  const successes = baseline.count - baseline.errors;
  const none = {
    preflightP50Ms,
    preflightP99Ms: null,
    latencyBasis: null,
    latencyRatio: null,
    p99Factor: 1,
    p99FactorSd: 0,
  };
  if (fit === null || preflightP50Ms === null || baseline.p50Ms === null || baseline.p99Ms === null) return none;
  if (successes < CALIBRATION_MIN_REQUESTS) return none;
  const r = simulateP99(fit, successes, model.samples, deriveSeed(model.seed, successes * 7919 + 1));
  const preflightP99Ms = { low: sig(r.low), expected: sig(r.expected), high: sig(r.high) };
  const median = sig(baseline.p50Ms / preflightP50Ms, 3);
  const tail = baseline.p99Ms > preflightP99Ms.high * Math.max(1, median);
  const latencyRatio = tail ? sig(baseline.p99Ms / preflightP99Ms.expected, 3) : median;
  // The ratio's own sampling noise: the log of a median of n varies by sqrt(pi / 2) sigma / sqrt(n),
  // the pre-flight's mu by sigma / sqrt(m); a p99's spread is read off its simulated range.
  const sd = tail
    ? Math.log(preflightP99Ms.high / preflightP99Ms.expected) / Z95
    : fit.sigma * Math.sqrt(Math.PI / 2 / successes + 1 / fit.m);
  return {
    preflightP50Ms,
    preflightP99Ms,
    latencyBasis: tail ? 'p99' : 'median',
    latencyRatio,
    p99Factor: Math.max(1, latencyRatio),
    p99FactorSd: latencyRatio > 1 ? sig(sd, 3) : 0,
  };
}

/**
 * The calibration of a stage's ranges to one analysis window (docs/prediction.md, "Calibration
 * by the baseline beside the canary"). The pre-flight measured candidate and baseline side by
 * side at the stage's load; minutes later the host may be busier, and that shows in the
 * baseline of the same window as much as in the candidate.
 *
 * Latency: the baseline's median now over its pre-flight median. The median, not the p99: its
 * log varies about 1.25 sigma / sqrt(n) between windows against about 3.7 sigma / sqrt(n) for
 * the p99 (a small window's p99 is its maximum), and that noise would pass into the candidate's
 * range; a load that multiplies every latency moves the median as much as the p99. A host that
 * stretches the tail more than the body shows as a baseline p99 above its own range even at the
 * median's ratio: then the p99s are compared instead. Errors: the baseline's error rate now minus
 * its pre-flight rate. Both one-sided: a quieter host never narrows a range, as the rollout only
 * pauses on worse than predicted, and a candidate slower than the baseline in the same window
 * is the judge's comparison to catch.
 */
export function calibrate(baseline: WindowMetrics, model: StageModel & { baseline: BaselineModel }): Calibration {
  const ref = model.baseline;
  const errorsKnown =
    baseline.count >= CALIBRATION_MIN_REQUESTS && baseline.errorRate !== null && ref.errorRate !== null;
  const shift = errorsKnown ? sig((baseline.errorRate as number) - (ref.errorRate as number), 3) : 0;
  return {
    baselineRequests: baseline.count,
    baselineP50Ms: baseline.p50Ms,
    baselineP99Ms: baseline.p99Ms,
    ...latencyCalibration(baseline, model, ref.latency),
    baselineErrorRate: baseline.errorRate,
    preflightErrorRate: ref.errorRate,
    errorRateShift: Math.max(0, shift),
  };
}

/**
 * The p99 range under a factor known to within a log-normal spread `sd`: the centre scaled, each
 * end's distance from it (in logs) combined in quadrature with the factor's 90% spread.
 */
function scaled(r: Range | null, factor: number, sd: number): Range | null {
  if (r === null || factor === 1) return r;
  const expected = r.expected * factor;
  const spread = (Z95 * sd) ** 2;
  const away = (x: number) => Math.sqrt(Math.log(x) ** 2 + spread);
  return {
    low: sig(expected / Math.exp(away(r.expected / r.low))),
    expected: sig(expected),
    high: sig(expected * Math.exp(away(r.high / r.expected))),
  };
}

function shifted(r: Range, shift: number): Range {
  if (shift === 0) return r;
  const up = (x: number) => sig(Math.min(1, x + shift));
  return { low: up(r.low), expected: up(r.expected), high: up(r.high) };
}

/** Why a metric's range is not the prediction's own, for the reasons; null when it is. */
export function calibrationNotes(c: Calibration | undefined): { errorRate: string | null; p99Ms: string | null } {
  if (!c) return { errorRate: null, p99Ms: null };
  const slower = `calibrated x${num(c.p99Factor)}: the baseline beside it is ${num(c.p99Factor)}x slower`;
  const p99Ms =
    c.p99Factor === 1
      ? null
      : c.latencyBasis === 'p99'
        ? `${slower} in its p99 than the pre-flight predicts (${ms(c.baselineP99Ms)} against ` +
          `${ms(c.preflightP99Ms?.expected ?? null)})`
        : `${slower} than in the pre-flight (median ${ms(c.baselineP50Ms)} against ${ms(c.preflightP50Ms)})`;
  const errorRate =
    c.errorRateShift === 0
      ? null
      : `calibrated +${pct(c.errorRateShift)}: the baseline beside it fails ${pct(c.baselineErrorRate)} of ` +
        `${c.baselineRequests} requests against ${pct(c.preflightErrorRate)} in the pre-flight`;
  return { errorRate, p99Ms };
}

/**
 * Observed canary metrics against the stage's prediction, at the observed sample size. With the
 * baseline of the same analysis window, and a prediction that kept the pre-flight's baseline,
 * the ranges are first calibrated to the window's conditions (calibrate). Pure and seeded.
 */
export function compareStage(
  canary: WindowMetrics,
  prediction: StagePrediction,
  baseline?: WindowMetrics,
): StageComparison {
  const breachProbability = Math.max(prediction.breach.errorRate, prediction.breach.p99);
  const none: MetricComparison = { observed: null, range: null, position: 'unknown' };
  if (canary.count === 0) {
    return {
      stage: prediction.stage,
      weight: prediction.weight,
      requests: 0,
      errorRate: { ...none },
      p99Ms: { ...none },
      breachProbability,
      riskLow: breachProbability < STAGE_RISK_HIGH,
    };
  }
  const successes = canary.count - canary.errors;
  const model = prediction.model;
  const calibration =
    baseline && model.baseline ? calibrate(baseline, { ...model, baseline: model.baseline }) : undefined;
  const raw = rangesAt(model, canary.count, successes);
  const errorRange = shifted(raw.errorRate, calibration?.errorRateShift ?? 0);
  const p99Range = scaled(raw.p99Ms, calibration?.p99Factor ?? 1, calibration?.p99FactorSd ?? 0);
  return {
    stage: prediction.stage,
    weight: prediction.weight,
    requests: canary.count,
    errorRate: { observed: canary.errorRate, range: errorRange, position: position(canary.errorRate, errorRange) },
    p99Ms:
      successes > 0
        ? { observed: canary.p99Ms, range: p99Range, position: position(canary.p99Ms, p99Range) }
        : { ...none },
    breachProbability,
    riskLow: breachProbability < STAGE_RISK_HIGH,
    ...(calibration ? { calibration } : {}),
  };
}
