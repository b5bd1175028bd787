import { z } from 'zod';
import type { CohortModel, SimulationScenario } from '../simulate/scenario.ts';
import { UsageError, type InputIssue } from './errors.ts';
import { zodIssues } from './issues.ts';
import { VERSION_PATTERN, VERSION_RULE } from './version.ts';

// The `simulation:` section of chaos-gate.yml: the stable version (baseline) and the
// candidate (canary) that `chaos-gate simulate` rolls out on simulated traffic.
//
//   simulation:
//     requests_per_second: 40        # optional; rollout.traffic_rps when absent
//     baseline: { version: v1, error_rate: 0.01, latency: { median_ms: 20, p99_ms: 80 } }
//     canary:   { version: v2, error_rate: 0.20 }   # any field not given is the baseline's
//
// The canary defaults to the baseline field by field, so a scenario states only what differs.

const positive = z.number().gt(0, 'must be greater than 0');
const rate = z.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1');
const version = z.string().regex(VERSION_PATTERN, VERSION_RULE);

const latencySchema = z.strictObject({ median_ms: positive.optional(), p99_ms: positive.optional() });
const cohortSchema = z.strictObject({ version: version.optional(), error_rate: rate.optional(), latency: latencySchema.optional() });

export const simulationSchema = z.strictObject({
  requests_per_second: positive.optional(),
  baseline: cohortSchema.optional(),
  canary: cohortSchema.optional(),
});

export const DEFAULT_BASELINE: CohortModel = { version: 'v1', errorRate: 0.01, latency: { medianMs: 20, p99Ms: 80 } };
const DEFAULT_CANARY_VERSION = 'v2';

type CohortInput = z.output<typeof cohortSchema>;

function cohort(input: CohortInput | undefined, fallback: CohortModel, version: string): CohortModel {
  return {
    version: input?.version ?? version,
    errorRate: input?.error_rate ?? fallback.errorRate,
    latency: { medianMs: input?.latency?.median_ms ?? fallback.latency.medianMs, p99Ms: input?.latency?.p99_ms ?? fallback.latency.p99Ms },
  };
}

/**
 * Validates the parsed `simulation:` section (undefined or null: all defaults) and returns the
 * scenario, or throws a UsageError listing every problem ("simulation.canary.error_rate").
 */
export function toSimulationScenario(input: unknown, source: string): SimulationScenario {
  const parsed = simulationSchema.safeParse(input ?? {}, { reportInput: true });
  if (!parsed.success) throw new UsageError(zodIssues(parsed.error, source, 'simulation'));
  const s = parsed.data;
  const baseline = cohort(s.baseline, DEFAULT_BASELINE, DEFAULT_BASELINE.version);
  const canary = cohort(s.canary, baseline, DEFAULT_CANARY_VERSION);
  const issues: InputIssue[] = [];
  for (const [name, model] of [['baseline', baseline], ['canary', canary]] as const) {
    if (model.latency.p99Ms < model.latency.medianMs) {
      issues.push({ source, path: `simulation.${name}.latency.p99_ms`, rule: `must be at least median_ms (${model.latency.medianMs}), got ${model.latency.p99Ms}` });
    }
  }
  if (issues.length > 0) throw new UsageError(issues);
  const scenario: SimulationScenario = { baseline, canary };
  if (s.requests_per_second !== undefined) scenario.requestsPerSecond = s.requests_per_second;
  return scenario;
}
