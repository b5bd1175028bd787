import type { StageLimits } from '../analysis/judge.ts';
import type { JudgementSource } from '../analysis/combine.ts';
import { cohortRates } from '../traffic/mix.ts';

// The validated, immutable description of a rollout with every default filled in
// (config/rollout.ts builds it from the `rollout:` section of chaos-gate.yml).

/** A region's name: it becomes part of Compose service and container names. */
export const REGION_PATTERN = /^[a-z0-9-]{1,63}$/;

export type Strategy = 'canary' | 'rolling';

/**
 * all: every touched region is rolled back; region: only the failing one, when the evidence
 * points at it (rollout/scope.ts).
 */
export type RollbackScope = 'all' | 'region';
/** After a region-only rollback: stop the rollout, or continue with the regions not yet touched. */
export type RegionFailurePolicy = 'stop' | 'continue';

export interface StageConfig {
  /** Percent of the region's traffic the canary takes, in (0, 100]; the last stage is 100. */
  weight: number;
  /** Time the stage must run (unpaused) with a green verdict before it passes. */
  bakeSeconds: number;
  limits: StageLimits;
}

export interface AnalysisConfig {
  intervalSeconds: number;
  minSamples: number;
  alpha: number;
  /** Total time one stage may spend paused (yellow) before it is rolled back. */
  pauseBudgetSeconds: number;
  /** A stage that has not passed this long after it started is rolled back. */
  stageDeadlineSeconds: number;
  maxErrorRateIncrease: number;
  maxLatencyIncreaseRatio: number;
  /** Tolerated absolute latency increase on top of the ratio, ms. */
  maxLatencyIncreaseMs: number;
  /** Who judges a stage: the synthetic traffic, the Prometheus checks, or both (red when either is). */
  sources: readonly JudgementSource[];
}

export interface HealthConfig {
  consecutiveSuccesses: number;
  deadlineSeconds: number;
}

export interface RolloutPlan {
  /** Region order; each region is one wave. */
  regions: readonly string[];
  strategy: Strategy;
  stages: readonly StageConfig[];
  analysis: AnalysisConfig;
  health: HealthConfig;
  /** Synthetic requests per second per region (split between baseline and canary). */
  trafficRps: number;
  /**
   * Optional, and set only when the config names them, so plans built before granular
   * rollback are unchanged: read them through rollbackPolicy(), which fills the defaults.
   */
  rollback?: RollbackScope;
  onRegionFailure?: RegionFailurePolicy;
}

/** The plan's rollback policy with its defaults: rollback all, and stop. */
export function rollbackPolicy(plan: Pick<RolloutPlan, 'rollback' | 'onRegionFailure'>): {
  scope: RollbackScope;
  onRegionFailure: RegionFailurePolicy;
} {
  return { scope: plan.rollback ?? 'all', onRegionFailure: plan.onRegionFailure ?? 'stop' };
}

/** Canary stages a region goes through: none for a rolling rollout (replace, then verify). */
export function stageCount(plan: Pick<RolloutPlan, 'strategy' | 'stages'>): number {
  return plan.strategy === 'rolling' ? 0 : plan.stages.length;
}

/**
 * Requests per second for the canary and the baseline cohorts of a region during a stage:
 * the plan's traffic split by the stage weight, with the smaller cohort topped up so that it
 * collects twice min_samples within the bake time. Without the floor a 1% stage at 40 rps
 * would see 0.4 canary requests per second and never be judged. The live traffic generator
 * and the simulation both use this.
 */
export function stageRates(plan: RolloutPlan, stage: number): { canary: number; baseline: number } {
  const s = plan.stages[stage];
  if (!s) throw new RangeError(`no stage ${stage} in a plan of ${plan.stages.length}`);
  const floor = (2 * plan.analysis.minSamples) / s.bakeSeconds;
  return cohortRates(plan.trafficRps, s.weight, Math.min(floor, plan.trafficRps));
}
