import { z } from 'zod';
import { DEFAULT_DIFFERENTIAL_TOLERANCE, type DifferentialTolerance } from '../analysis/differential.ts';
import type { InputIssue } from '../util/errors.ts';
import { EXPERIMENT_NAME_PATTERN } from '../chaos/experiment-list.ts';
import type { ListOrigin } from './gate.ts';

// `experiments.differential`: chaos on the candidate. In one region's canary stage the same
// fault hits the candidate and the baseline at once, each side gets the same load, and the
// candidate is judged against the baseline under it (analysis/differential.ts). Fields and
// defaults: README.md, "Configuration reference". The default stage is the region's last, so
// the fault's errors cannot reach a later stage's Prometheus window in that region.

const rate = z.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1');
const nonNegative = z.number().min(0, 'must be 0 or more');

export const differentialSchema = z.strictObject({
  enabled: z.boolean().default(true),
  run: z
    .array(z.string().regex(EXPERIMENT_NAME_PATTERN, 'must be an experiment name: lowercase letters, digits and "-"'))
    .max(20, 'must name at most 20 experiments')
    .min(1, 'must name at least one experiment (or set enabled: false)')
    .optional(),
  region: z.string().optional(),
  stage: z
    .number()
    .int('must be a whole number')
    .min(1, 'must be at least 1 (the first canary stage)')
    .max(20, 'must be at most 20 (a rollout has no more stages)')
    .optional(),
  rps: z
    .number()
    .gt(0, 'must be greater than 0')
    .max(500, 'must be at most 500 (each side; more measures the load generator)')
    .default(20),
  max_error_rate_increase: rate.default(DEFAULT_DIFFERENTIAL_TOLERANCE.maxErrorRateIncrease),
  max_latency_increase_ratio: nonNegative.default(DEFAULT_DIFFERENTIAL_TOLERANCE.maxLatencyIncreaseRatio),
  max_latency_increase_ms: nonNegative.default(DEFAULT_DIFFERENTIAL_TOLERANCE.maxLatencyIncreaseMs),
  max_recovery_increase_seconds: nonNegative
    .max(600, 'must be at most 600')
    .default(DEFAULT_DIFFERENTIAL_TOLERANCE.maxRecoveryIncreaseSeconds),
});

export type DifferentialSection = z.output<typeof differentialSchema>;

export interface DifferentialPlan {
  enabled: boolean;
  /** Experiments of the suite by name; undefined: the built-in set for the target. */
  run: readonly string[] | undefined;
  /** Where `run` was written (config/load.ts), so an unknown name is reported at its line. */
  runOrigin?: ListOrigin;
  /** undefined: the rollout's first region. */
  region: string | undefined;
  /** 0-based index of the canary stage, counted in the stages run in that region; undefined: the last. */
  stage: number | undefined;
  rps: number;
  tolerance: Omit<DifferentialTolerance, 'alpha' | 'minSamples'>;
}

export function toDifferentialPlan(d: DifferentialSection): DifferentialPlan {
  return {
    enabled: d.enabled,
    run: d.run,
    region: d.region,
    stage: d.stage === undefined ? undefined : d.stage - 1,
    rps: d.rps,
    tolerance: {
      maxErrorRateIncrease: d.max_error_rate_increase,
      maxLatencyIncreaseRatio: d.max_latency_increase_ratio,
      maxLatencyIncreaseMs: d.max_latency_increase_ms,
      maxRecoveryIncreaseSeconds: d.max_recovery_increase_seconds,
    },
  };
}

/** The region must be one the rollout deploys to, and the stage one it runs. */
export function differentialIssues(
  plan: DifferentialPlan,
  rollout: { regions: readonly string[]; stages: readonly unknown[]; strategy: string },
  source: string,
): InputIssue[] {
  if (!plan.enabled) return [];
  const issues: InputIssue[] = [];
  if (plan.region !== undefined && !rollout.regions.includes(plan.region)) {
    issues.push({
      source,
      path: 'experiments.differential.region',
      rule: `${JSON.stringify(plan.region)} must be one of rollout.regions (${rollout.regions.join(', ')})`,
    });
  }
  if (rollout.strategy === 'canary' && plan.stage !== undefined && plan.stage >= rollout.stages.length) {
    issues.push({
      source,
      path: 'experiments.differential.stage',
      rule: `must be at most ${rollout.stages.length} (rollout.stages has ${rollout.stages.length})`,
    });
  }
  return issues;
}
