import { z } from 'zod';
import { REGION_PATTERN, type RolloutPlan, type StageConfig } from '../plan/rollout.ts';
import { DEFAULT_REGIONS } from '../stack/target.ts';
import { UsageError, type InputIssue } from '../util/errors.ts';
import { zodIssues } from '../util/issues.ts';
import { deepFreeze } from '../util/freeze.ts';
import type { PredictPlan } from '../predict/config.ts';

// The `rollout:` section of chaos-gate.yml (snake_case keys) and its translation into a
// RolloutPlan (camelCase, every default filled in, frozen). Unknown fields are refused so a
// typo never silently falls back to a default. Every field and its default: README.md,
// "Configuration reference".
//
// max_error_rate: 0.0 means that ANY canary error is a red verdict (rolled back at once).
// Other limits are judged as hypotheses, not raw comparisons: red when the canary is above a
// limit beyond doubt, yellow when probably above (analysis/judge.ts has the rules).
// pause_budget_seconds: 0 means a yellow verdict is rolled back at the next analysis.
//
// Regions must be regions of the stack (checked in config/load.ts, with the predict fields
// that name a region). The maxima below bound what one plan may ask of the machine; the
// work of judging it as a whole is held to a budget (config/simulation.ts).

const positive = z.number().gt(0, 'must be greater than 0');
const bake = positive.max(3600, 'must be at most 3600 (an hour: every stage bakes on every region within one CI run)');
const rate = z.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1');
const count = z.number().int('must be a whole number').min(1, 'must be at least 1');
const region = z.string().regex(REGION_PATTERN, 'must be 1 to 63 of lowercase letters, digits and "-"');
/** Stages of a rollout: each bakes on every region (predict's small tiers add two in front). */
const MAX_STAGES = 20;

export const DEFAULT_WEIGHTS = [1, 5, 25, 50, 100] as const;

/** Synthetic requests per second, live or simulated (predict's load profiles share it). */
export const MAX_RPS = 10_000;
export const MAX_RPS_RULE =
  `must be at most ${MAX_RPS} (about what one machine's load generator sends; ` +
  'above it the gate measures itself, not the service)';

const stageSchema = z.strictObject({
  weight: z
    .number()
    .gt(0, 'must be greater than 0 (percent of traffic)')
    .lte(100, 'must be at most 100 (percent of traffic)'),
  bake_seconds: bake.optional(),
  max_error_rate: rate.optional(),
  max_p99_ms: positive.optional(),
});

const stagesSchema = z
  .array(stageSchema)
  .min(1, 'must list at least one stage')
  .max(MAX_STAGES, `must list at most ${MAX_STAGES} stages (each bakes on every region: more would not fit a CI run)`)
  .superRefine((stages, ctx) => {
    stages.forEach((s, i) => {
      const previous = stages[i - 1];
      if (previous && s.weight <= previous.weight) {
        ctx.addIssue({
          code: 'custom',
          path: [i, 'weight'],
          message: `must be greater than the previous stage's weight (${previous.weight}): weights strictly increase`,
        });
      }
    });
    const last = stages[stages.length - 1];
    if (last && last.weight < 100) {
      ctx.addIssue({
        code: 'custom',
        path: [stages.length - 1, 'weight'],
        message: `the last stage must have weight 100 (the candidate then takes all traffic), got ${last.weight}`,
      });
    }
  });

const regionsSchema = z
  .array(region)
  .min(1, 'must list at least one region')
  .superRefine((regions, ctx) => {
    const first = new Map<string, number>();
    regions.forEach((r, i) => {
      const at = first.get(r);
      if (at === undefined) first.set(r, i);
      // A region that breaks the pattern is reported as such, not quoted again.
      else if (REGION_PATTERN.test(r)) {
        ctx.addIssue({ code: 'custom', path: [i], message: `duplicate region "${r}" (also regions[${at}])` });
      }
    });
  });

export const rolloutSchema = z
  .strictObject({
    regions: regionsSchema.default([...DEFAULT_REGIONS]),
    strategy: z.enum(['canary', 'rolling']).default('canary'),
    bake_seconds: bake.default(4),
    limits: z.strictObject({ max_error_rate: rate.default(0.05), max_p99_ms: positive.default(500) }).prefault({}),
    stages: stagesSchema.default(DEFAULT_WEIGHTS.map((weight) => ({ weight }))),
    analysis: z
      .strictObject({
        interval_seconds: positive.default(1),
        min_samples: count.default(30),
        alpha: z
          .number()
          .gt(0, 'must be between 0 and 1 (exclusive)')
          .lt(1, 'must be between 0 and 1 (exclusive)')
          .default(0.05),
        pause_budget_seconds: z.number().min(0, 'must be 0 or more').default(10),
        stage_deadline_seconds: positive
          .max(7200, 'must be at most 7200 (two hours: a stage not passed by then will not pass)')
          .default(30),
        max_error_rate_increase: rate.default(0.01),
        max_latency_increase_ratio: z.number().min(0, 'must be 0 or more').default(0.1),
        max_latency_increase_ms: z.number().min(0, 'must be 0 or more').default(5),
        sources: z
          .array(z.enum(['synthetic', 'prometheus']))
          .min(1, 'must name at least one source')
          .refine((s) => new Set(s).size === s.length, 'must not repeat a source')
          .default(['synthetic', 'prometheus']),
      })
      .prefault({}),
    health: z
      .strictObject({
        consecutive_successes: count
          .max(1000, 'must be at most 1000 (probes every 250 ms: over four minutes)')
          .default(3),
        deadline_seconds: positive
          .max(600, 'must be at most 600 (a service not healthy 10 minutes after a deploy has failed it)')
          .default(30),
      })
      .prefault({}),
    traffic_rps: positive.max(MAX_RPS, MAX_RPS_RULE).default(40),
    // No defaults here: left out, they stay out of the plan (rollbackPolicy() fills them).
    rollback: z.enum(['all', 'region']).optional(),
    on_region_failure: z.enum(['stop', 'continue']).optional(),
  })
  .superRefine((r, ctx) => {
    if (r.on_region_failure !== undefined && r.rollback !== 'region') {
      ctx.addIssue({
        code: 'custom',
        path: ['on_region_failure'],
        message: 'applies only with rollback: region (rollback: all rolls back every touched region and stops)',
      });
    }
    const longest = Math.max(r.bake_seconds, ...r.stages.map((s) => s.bake_seconds ?? r.bake_seconds));
    if (r.analysis.stage_deadline_seconds <= longest) {
      ctx.addIssue({
        code: 'custom',
        path: ['analysis', 'stage_deadline_seconds'],
        message: `must be greater than the longest bake_seconds (${longest}), or no stage could pass`,
      });
    }
  });

export type RolloutSection = z.input<typeof rolloutSchema>;

/** The fields of the predict section that name a region. */
type RegionNaming = Pick<PredictPlan, 'dependencies'> & { preflight: Pick<PredictPlan['preflight'], 'region'> };

/**
 * rollout.regions must be regions of the stack (`known`), and the predict fields that name a
 * region regions of the rollout: found when the file is read, not after the stack is up.
 */
export function regionIssues(
  rollout: Pick<RolloutPlan, 'regions'>,
  predict: RegionNaming | undefined,
  source: string,
  known: readonly string[],
): InputIssue[] {
  const issues: InputIssue[] = [];
  const issue = (path: string, rule: string) => issues.push({ source, path, rule });
  rollout.regions.forEach((r, i) => {
    if (!known.includes(r)) issue(`rollout.regions[${i}]`, `"${r}" is not a region of the stack (${known.join(', ')})`);
  });
  const regions = rollout.regions.join(', ');
  const preflight = predict?.preflight.region;
  if (preflight !== undefined && !rollout.regions.includes(preflight)) {
    issue('predict.preflight.region', `${JSON.stringify(preflight)} must be one of rollout.regions (${regions})`);
  }
  // A dependency is configured for a region the rollout deploys to; a typo would silently keep the default.
  for (const r of Object.keys(predict?.dependencies ?? {}).filter((k) => !rollout.regions.includes(k))) {
    issue(`predict.dependencies.${r}`, `${JSON.stringify(r)} must be one of rollout.regions (${regions})`);
  }
  return issues;
}

/**
 * Validates the parsed `rollout:` section (undefined or null: all defaults) and returns the
 * plan, or throws a UsageError listing every problem with its path ("rollout.stages[2].weight").
 */
export function toRolloutPlan(input: unknown, source: string): RolloutPlan {
  const parsed = rolloutSchema.safeParse(input ?? {}, { reportInput: true });
  if (!parsed.success) throw new UsageError(zodIssues(parsed.error, source, 'rollout'));
  const r = parsed.data;
  const stages: StageConfig[] = r.stages.map((s) => ({
    weight: s.weight,
    bakeSeconds: s.bake_seconds ?? r.bake_seconds,
    limits: {
      maxErrorRate: s.max_error_rate ?? r.limits.max_error_rate,
      maxP99Ms: s.max_p99_ms ?? r.limits.max_p99_ms,
    },
  }));
  return deepFreeze({
    regions: r.regions,
    strategy: r.strategy,
    stages,
    analysis: {
      intervalSeconds: r.analysis.interval_seconds,
      minSamples: r.analysis.min_samples,
      alpha: r.analysis.alpha,
      pauseBudgetSeconds: r.analysis.pause_budget_seconds,
      stageDeadlineSeconds: r.analysis.stage_deadline_seconds,
      maxErrorRateIncrease: r.analysis.max_error_rate_increase,
      maxLatencyIncreaseRatio: r.analysis.max_latency_increase_ratio,
      maxLatencyIncreaseMs: r.analysis.max_latency_increase_ms,
      sources: r.analysis.sources,
    },
    health: { consecutiveSuccesses: r.health.consecutive_successes, deadlineSeconds: r.health.deadline_seconds },
    trafficRps: r.traffic_rps,
    ...(r.rollback === undefined ? {} : { rollback: r.rollback }),
    ...(r.on_region_failure === undefined ? {} : { onRegionFailure: r.on_region_failure }),
  });
}

/** The plan with every default. */
export function defaultRolloutPlan(): RolloutPlan {
  return toRolloutPlan(undefined, 'defaults');
}
