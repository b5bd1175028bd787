import { num } from '../util/format.ts';
import type { WindowMetrics } from '../analysis/metrics.ts';
import type { RolloutPlan } from '../plan/rollout.ts';
import type { Range } from './latency.ts';
import { rangesAt, type StagePrediction } from './model.ts';

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
}

function position(observed: number | null, range: Range | null): Position {
  if (observed === null || range === null) return 'unknown';
  // The ranges are rounded to 6 significant digits; a hair's breadth is not a surprise.
  const slack = (x: number) => Math.abs(x) * 1e-9;
  if (observed > range.high + slack(range.high)) return 'above';
  if (observed < range.low - slack(range.low)) return 'below';
  return 'inside';
}

/** Observed canary metrics against the stage's prediction, at the observed sample size. Pure and seeded. */
export function compareStage(canary: WindowMetrics, prediction: StagePrediction): StageComparison {
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
  const ranges = rangesAt(prediction.model, canary.count, successes);
  return {
    stage: prediction.stage,
    weight: prediction.weight,
    requests: canary.count,
    errorRate: {
      observed: canary.errorRate,
      range: ranges.errorRate,
      position: position(canary.errorRate, ranges.errorRate),
    },
    p99Ms:
      successes > 0
        ? { observed: canary.p99Ms, range: ranges.p99Ms, position: position(canary.p99Ms, ranges.p99Ms) }
        : { ...none },
    breachProbability,
    riskLow: breachProbability < STAGE_RISK_HIGH,
  };
}
