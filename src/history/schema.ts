import { z } from 'zod';

// One line of the history file: one gate run. JSON Lines, snake_case like the rest of the
// machine-readable output; docs/prediction.md documents every field.
//
// Versioning: `schema` is the record format's version. Adding a field does not change it
// (readers ignore fields they do not know, so an older chaos-gate reads a newer file); a
// change that breaks old readers (a field renamed, removed or given another meaning) bumps
// it, and a reader skips, and reports, records of a version it does not know.

export const HISTORY_SCHEMA_VERSION = 1;

const count = z.number().int('must be a whole number').min(0, 'must be 0 or more');
const ms = z.number().min(0, 'must be 0 or more');
const share = z.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1');
const nonEmpty = z.string().min(1, 'must not be empty');

export const metricsSchema = z
  .object({
    count,
    errors: count,
    error_rate: share.nullable(),
    p50_ms: ms.nullable(),
    p95_ms: ms.nullable(),
    p99_ms: ms.nullable(),
  })
  .refine((m) => m.errors <= m.count, { message: 'errors must not exceed count', path: ['errors'] });

export const regionSchema = z.object({
  region: nonEmpty,
  /** The stable version's traffic during the run (canary stages' baseline cohorts). */
  baseline: metricsSchema.nullable(),
  /** The candidate's traffic (canary cohorts); null when the candidate never reached the region. */
  candidate: metricsSchema.nullable(),
  /** What became of the region: the candidate promoted, rolled back, or never touched. */
  outcome: z.enum(['promoted', 'rolled_back', 'untouched']),
});

export const historyRecordSchema = z.object({
  schema: z.literal(HISTORY_SCHEMA_VERSION),
  run_id: nonEmpty,
  /** When the run ended (ISO 8601). */
  at: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' }),
  version: nonEmpty,
  baseline_version: nonEmpty.nullable(),
  /** The gate's verdict. */
  verdict: z.enum(['OPEN', 'CLOSED']),
  /** The rollout's final state; NOT_RUN when the gate closed before it (e.g. on the risk score). */
  rollout: z.enum(['COMPLETED', 'ROLLED_BACK', 'FAILED', 'NOT_RUN']),
  failed_region: nonEmpty.nullable(),
  rollback_reason: z.string().nullable(),
  durations_ms: z.object({
    total: ms,
    preflight: ms.nullable(),
    experiments: ms.nullable(),
    rollout: ms.nullable(),
  }),
  regions: z.array(regionSchema),
  risk: z.object({ score: z.number().min(0).max(100), action: z.enum(['proceed', 'small-tiers', 'close']) }).nullable(),
  /** Share of judged stages whose observed values fell inside the predicted ranges. */
  prediction_accuracy: z.object({ stages: count, inside: count, share: share.nullable() }).nullable(),
  experiments: z.object({ total: count, failed: count, failed_names: z.array(z.string()) }).nullable(),
});

export type HistoryRecord = z.output<typeof historyRecordSchema>;
export type HistoryMetrics = z.output<typeof metricsSchema>;
export type HistoryRegion = z.output<typeof regionSchema>;
