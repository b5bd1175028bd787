import { z } from 'zod';
import { unknownThresholdRule } from '../chaos/catalogue.ts';
import { thresholdsSchema } from '../chaos/schema.ts';
import { differentialSchema, toDifferentialPlan, type DifferentialPlan } from './differential.ts';
import { UsageError, type InputIssue } from '../util/errors.ts';
import { formatPath, zodIssues } from '../util/issues.ts';
import { MAX_EXPERIMENT_FILES } from '../util/limits.ts';
import { deepFreeze } from '../util/freeze.ts';
import { EXPERIMENT_NAME_PATTERN } from '../chaos/experiment-list.ts';

// The `gate:` and `experiments:` sections of chaos-gate.yml (every field and its default:
// README.md, "Configuration reference"; experiments.differential: differential.ts).

const name = z.string().regex(EXPERIMENT_NAME_PATTERN, 'must be an experiment name: lowercase letters, digits and "-"');
/** A suite has at most MAX_EXPERIMENT_FILES experiments: no list of them needs more names. */
const AT_MOST = `must name at most ${MAX_EXPERIMENT_FILES} experiments (a suite has no more)`;
const names = z.array(name).max(MAX_EXPERIMENT_FILES, AT_MOST);

export const experimentsSchema = z.strictObject({
  dir: z.string().min(1, 'must not be empty').optional(),
  only: names.min(1, 'must name at least one experiment (leave it out to run all)').optional(),
  // The same keys and ranges as an experiment file's `thresholds:` (chaos/schema.ts), so an
  // override is held to the rules of the value it replaces, and a typo is caught with its
  // line when the file is read rather than when the suite is loaded.
  thresholds: z
    .record(name, thresholdsSchema)
    .refine((t) => Object.keys(t).length <= MAX_EXPERIMENT_FILES, AT_MOST)
    .default({}),
  differential: differentialSchema.prefault({}),
});

export const gateSchema = z.strictObject({
  fail_on_experiment: z.boolean().default(true),
  fail_on_rollback: z.boolean().default(true),
  required_experiments: names.default([]),
  rollout_after_failed_experiments: z.boolean().default(true),
  controls: z
    .strictObject({
      enabled: z.boolean().default(true),
      region: z.string().optional(),
      rollback_under_fire: z.boolean().default(true),
    })
    .prefault({}),
});

/** Where a list of names was written: a problem found with one later names its file and line. */
export interface ListOrigin {
  source: string;
  /** The list's path, e.g. "experiments.only" or "environments.ci.experiments.only". */
  path: string;
  /** The line of each entry, in order. */
  lines: readonly (number | undefined)[];
}

/** Where one field was written, so that a problem found with its value later names its line. */
export interface FieldOrigin {
  source: string;
  path: string;
  line?: number;
}

export interface ExperimentsPlan {
  /** Relative to the config file's folder when set; undefined: the project's chaos/. */
  dir: string | undefined;
  only: readonly string[] | undefined;
  /** Where `only` was written (set by config/load.ts when the file has one), for selectExperiments. */
  onlyOrigin?: ListOrigin;
  /** Where `dir` was written (set by config/load.ts), for the suite loader's messages. */
  dirOrigin?: FieldOrigin;
  thresholds: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Chaos on the candidate beside the baseline during the rollout. */
  differential: DifferentialPlan;
}

export interface GatePolicy {
  failOnExperiment: boolean;
  failOnRollback: boolean;
  requiredExperiments: readonly string[];
  rolloutAfterFailedExperiments: boolean;
  controls: ControlsPlan;
}

/** The controls run before the candidate (gate/controls.ts). */
export interface ControlsPlan {
  enabled: boolean;
  /** undefined: the rollout's first region. */
  region: string | undefined;
  rollbackUnderFire: boolean;
}

/** A controls region outside the rollout's regions. */
export function controlsIssues(plan: ControlsPlan, regions: readonly string[], source: string): InputIssue[] {
  if (!plan.enabled || plan.region === undefined || regions.includes(plan.region)) return [];
  return [
    {
      source,
      path: 'gate.controls.region',
      rule: `${JSON.stringify(plan.region)} must be one of rollout.regions (${regions.join(', ')})`,
    },
  ];
}

export function toExperimentsPlan(input: unknown, source: string): ExperimentsPlan {
  const parsed = experimentsSchema.safeParse(input ?? {}, { reportInput: true });
  if (!parsed.success) throw new UsageError(experimentsIssues(parsed.error, source));
  const thresholds: Record<string, Record<string, number>> = {};
  for (const [experiment, set] of Object.entries(parsed.data.thresholds)) {
    thresholds[experiment] = Object.fromEntries(
      Object.entries(set).filter((kv): kv is [string, number] => kv[1] !== undefined),
    );
  }
  return deepFreeze({
    dir: parsed.data.dir,
    only: parsed.data.only,
    thresholds,
    differential: toDifferentialPlan(parsed.data.differential),
  });
}

/** zod's issues in words; a non-finite number and an unknown threshold key get their own. */
function experimentsIssues(error: z.ZodError, source: string): InputIssue[] {
  const unknownThreshold = (i: InputIssue) =>
    /^experiments\.thresholds\.[^.]+\.[^.]+$/.test(i.path) && i.rule.startsWith('unknown field');
  return error.issues.flatMap((issue) => {
    // util/issues.ts words a wrong type itself (and would quote .inf as null): keep ours.
    if (issue.code === 'invalid_type' && typeof issue.input === 'number')
      return [{ source, path: formatPath('experiments', issue.path), rule: issue.message }];
    return zodIssues(new z.ZodError([issue]), source, 'experiments').map((i) =>
      unknownThreshold(i) ? { ...i, rule: unknownThresholdRule() } : i,
    );
  });
}

export function toGatePolicy(input: unknown, source: string): GatePolicy {
  const parsed = gateSchema.safeParse(input ?? {}, { reportInput: true });
  if (!parsed.success) throw new UsageError(zodIssues(parsed.error, source, 'gate'));
  const g = parsed.data;
  return deepFreeze({
    failOnExperiment: g.fail_on_experiment,
    failOnRollback: g.fail_on_rollback,
    requiredExperiments: g.required_experiments,
    rolloutAfterFailedExperiments: g.rollout_after_failed_experiments,
    controls: {
      enabled: g.controls.enabled,
      region: g.controls.region,
      rollbackUnderFire: g.controls.rollback_under_fire,
    },
  });
}
