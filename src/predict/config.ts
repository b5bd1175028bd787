import { isAbsolute, normalize, resolve, sep } from 'node:path';
import { z } from 'zod';
import type { HighRiskPolicy } from './tiers.ts';
import { isInside } from '../util/paths.ts';
import { UsageError, type InputIssue } from '../util/errors.ts';
import { zodIssues } from '../util/issues.ts';
import { deepFreeze } from '../util/freeze.ts';
import { REGION_PATTERN } from '../plan/rollout.ts';

// The `predict:` section of chaos-gate.yml: the pre-flight, the prediction model, and what a
// high risk score does. Every field is optional; the fields, their defaults and why those
// defaults: docs/prediction.md, "Configuration". on_high_risk defaults to small_tiers, not
// close: a model can be wrong, and small tiers let real traffic decide while exposing a
// hundredth of what the first stage would.
//
// history.file: the gate appends to it, so a configuration file must not be able to point it
// at another part of the machine (~/.bashrc, /etc/...): it resolves inside the working
// directory or the config file's folder, or is refused (historyFileIssues).

const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const name = z.string().regex(NAME_PATTERN, 'must be 1 to 32 of lowercase letters, digits, "_" and "-"');
const region = z.string().regex(REGION_PATTERN, 'must be 1 to 63 of lowercase letters, digits and "-"');
const positive = z.number().gt(0, 'must be greater than 0');
const DEPENDENCY_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const dependency = z
  .string()
  .regex(
    DEPENDENCY_PATTERN,
    'must be 1 to 63 of lowercase letters, digits, ".", "_" and "-", ' + 'starting with a letter or digit',
  );
const share = z.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1');

const profileSchema = z.strictObject({
  name,
  rps: positive.max(10_000, 'must be at most 10000'),
  write_share: share.default(0.3),
});

export const DEFAULT_PROFILES = [
  { name: 'low', rps: 10, write_share: 0.3 },
  { name: 'nominal', rps: 40, write_share: 0.3 },
  { name: 'peak', rps: 80, write_share: 0.5 },
];

/** Issues for values that do not strictly increase: "must be greater than the previous tier (0.5)". */
function notIncreasing(values: readonly number[], what: string): { index: number; message: string }[] {
  const out: { index: number; message: string }[] = [];
  values.forEach((x, i) => {
    const prev = values[i - 1];
    if (prev !== undefined && x <= prev)
      out.push({ index: i, message: `must be greater than the previous ${what} (${prev}): they strictly increase` });
  });
  return out;
}

export const predictSchema = z.strictObject({
  enabled: z.boolean().default(true),
  max_risk: z.number().min(0, 'must be between 0 and 100').max(100, 'must be between 0 and 100').default(50),
  on_high_risk: z.enum(['close', 'small_tiers']).default('small_tiers'),
  small_tiers: z
    .array(
      z.number().gt(0, 'must be greater than 0 (percent of traffic)').lt(100, 'must be below 100 (percent of traffic)'),
    )
    .max(10, 'must list at most 10 tiers (each is a stage of its own on every region)')
    .superRefine((tiers, ctx) => {
      for (const i of notIncreasing(tiers, 'tier'))
        ctx.addIssue({ code: 'custom', path: [i.index], message: i.message });
    })
    .default([0.1, 0.5]),
  monte_carlo_samples: z
    .number()
    .int('must be a whole number')
    .min(200, 'must be at least 200')
    .max(100_000, 'must be at most 100000')
    .default(2000),
  preflight: z
    .strictObject({
      region: region.optional(),
      seconds: positive.max(600, 'must be at most 600').default(10),
      profiles: z
        .array(profileSchema)
        .min(1, 'must list at least one load profile')
        .max(10, 'must list at most 10 load profiles (each runs for preflight.seconds on the live stack)')
        .superRefine((ps, ctx) => {
          for (const i of notIncreasing(
            ps.map((p) => p.rps),
            "profile's rps",
          )) {
            ctx.addIssue({ code: 'custom', path: [i.index, 'rps'], message: i.message });
          }
          const first = new Map<string, number>();
          ps.forEach((p, i) => {
            const at = first.get(p.name);
            if (at === undefined) first.set(p.name, i);
            else if (NAME_PATTERN.test(p.name)) {
              const message = `duplicate profile name "${p.name}" (also profiles[${at}])`;
              ctx.addIssue({ code: 'custom', path: [i, 'name'], message });
            }
          });
        })
        .default(DEFAULT_PROFILES),
    })
    .prefault({}),
  history: z
    .strictObject({
      file: z
        .string()
        .min(1, 'must not be empty')
        .max(4096, 'must be at most 4096 characters (a path)')
        // eslint-disable-next-line no-control-regex -- a control character in a path is a mistake or a trick
        .refine((f) => !/[\u0000-\u001f\u007f]/.test(f), 'must not contain control characters')
        .default('.chaos-gate/history.jsonl'),
      runs: z
        .number()
        .int('must be a whole number')
        .min(0, 'must be 0 or more')
        .max(10_000, 'must be at most 10000')
        .default(20),
      prior_weight: z.number().min(0, 'must be 0 or more').default(100),
    })
    .prefault({}),
  // An object with a catchall rather than z.record: its wrong-type and bad-key messages are
  // worded like every other mapping's ("must be a mapping of fields", the region rule).
  dependencies: z
    .object({})
    .catchall(
      z.array(dependency).superRefine((ds, ctx) => {
        const first = new Map<string, number>();
        ds.forEach((d, i) => {
          const at = first.get(d);
          if (at === undefined) first.set(d, i);
          else if (DEPENDENCY_PATTERN.test(d)) {
            ctx.addIssue({ code: 'custom', path: [i], message: `duplicate dependency "${d}" (also [${at}])` });
          }
        });
      }),
    )
    .superRefine((deps, ctx) => {
      for (const key of Object.keys(deps)) {
        const bad = region.safeParse(key).error?.issues[0];
        if (bad) ctx.addIssue({ code: 'custom', path: [key], message: `region name ${bad.message}` });
      }
    })
    .meta({ propertyNames: { pattern: REGION_PATTERN.source } })
    .default({}),
});

export interface LoadProfile {
  name: string;
  rps: number;
  writeShare: number;
}

export interface PredictPlan {
  enabled: boolean;
  maxRisk: number;
  onHighRisk: HighRiskPolicy;
  smallTiers: readonly number[];
  monteCarloSamples: number;
  preflight: {
    /** undefined: the first region of the rollout. */
    region: string | undefined;
    secondsPerProfile: number;
    profiles: readonly LoadProfile[];
  };
  history: {
    /** As written; relative paths are the caller's to resolve (against the working directory). */
    file: string;
    runs: number;
    priorWeight: number;
  };
  /**
   * region -> its dependencies, as configured: only the regions named. Each must be a region
   * of rollout.regions (config/load.ts checks); the others depend on their own database
   * (predict/dependencies.ts fills them in against the rollout's regions).
   */
  dependencies: Readonly<Record<string, readonly string[]>>;
}

/**
 * Validates the parsed `predict:` section (undefined or null: all defaults) and returns the
 * plan, or throws a UsageError listing every problem with its path ("predict.max_risk").
 */
export function toPredictPlan(input: unknown, source: string): PredictPlan {
  const parsed = predictSchema.safeParse(input ?? {}, { reportInput: true });
  if (!parsed.success) throw new UsageError(zodIssues(parsed.error, source, 'predict'));
  const p = parsed.data;
  return deepFreeze({
    enabled: p.enabled,
    maxRisk: p.max_risk,
    onHighRisk: p.on_high_risk,
    smallTiers: p.small_tiers,
    monteCarloSamples: p.monte_carlo_samples,
    preflight: {
      region: p.preflight.region,
      secondsPerProfile: p.preflight.seconds,
      profiles: p.preflight.profiles.map((x) => ({ name: x.name, rps: x.rps, writeShare: x.write_share })),
    },
    history: { file: p.history.file, runs: p.history.runs, priorWeight: p.history.prior_weight },
    dependencies: p.dependencies,
  });
}

export const HISTORY_FILE_RULE =
  "must stay inside the working directory or the configuration file's folder " +
  '(a relative path without ".." leading out, or an absolute path inside one of them): the gate writes to it, ' +
  'so a configuration file must not point it elsewhere on the machine';

/**
 * predict.history.file against the folders it may be in (`roots`, absolute), resolved against
 * `cwd` as the gate resolves it. Without them (a file checked on its own), only a relative
 * path that does not climb out passes.
 */
export function historyFileIssues(
  file: string,
  source: string,
  roots: readonly string[],
  cwd: string | undefined,
): InputIssue[] {
  const inside =
    roots.length > 0 && cwd !== undefined
      ? roots.some((root) => isInside(root, resolve(cwd, file)))
      : !isAbsolute(file) && !climbsOut(file);
  return inside ? [] : [{ source, path: 'predict.history.file', rule: HISTORY_FILE_RULE }];
}

function climbsOut(file: string): boolean {
  const n = normalize(file);
  return n === '..' || n.startsWith(`..${sep}`);
}

export function defaultPredictPlan(): PredictPlan {
  return toPredictPlan(undefined, 'defaults');
}
