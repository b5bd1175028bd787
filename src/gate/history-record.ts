import type { WindowMetrics } from '../analysis/metrics.ts';
import type { ExperimentResult } from '../chaos/result.ts';
import type { PredictionAccuracy } from '../predict/accuracy.ts';
import { sig } from '../util/round.ts';
import type { Action } from '../predict/tiers.ts';
import type { RolloutResult, StageRecord } from '../rollout/result.ts';
import {
  HISTORY_SCHEMA_VERSION,
  type HistoryMetrics,
  type HistoryRecord,
  type HistoryRegion,
} from '../history/schema.ts';

// One gate run as its history record. Pure: the caller gathers the run's results and appends
// the record (file.ts).
//
// Per region, the candidate's and the stable version's metrics over the whole rollout: the
// requests and errors of every stage summed; the latency quantiles are those of the stage
// with the most requests of that cohort (quantiles of different windows cannot be merged,
// and the largest window is the most precise).

export interface RunSummary {
  runId: string;
  /** When the run ended, ISO 8601. */
  endedAt: string;
  version: string;
  baselineVersion: string | null;
  gate: 'OPEN' | 'CLOSED';
  durationsMs: { total: number; preflight: number | null; experiments: number | null; rollout: number | null };
  /** The plan's regions, in order: every one gets an entry (untouched ones too). */
  regions: readonly string[];
  rollout: RolloutResult | null;
  risk: { score: number; action: Action } | null;
  accuracy: Pick<PredictionAccuracy, 'stages' | 'inside' | 'share'> | null;
  experiments: readonly ExperimentResult[] | null;
}

function metrics(windows: readonly WindowMetrics[]): HistoryMetrics | null {
  const seen = windows.filter((w) => w.count > 0);
  if (seen.length === 0) return null;
  const count = seen.reduce((s, w) => s + w.count, 0);
  const errors = seen.reduce((s, w) => s + w.errors, 0);
  const largest = seen.reduce((a, w) => (w.count > a.count ? w : a));
  const round = (x: number | null) => (x === null ? null : sig(x));
  return {
    count,
    errors,
    error_rate: sig(errors / count),
    p50_ms: round(largest.p50Ms),
    p95_ms: round(largest.p95Ms),
    p99_ms: round(largest.p99Ms),
  };
}

function regionEntry(
  region: string,
  stages: readonly StageRecord[],
  rollout: RolloutResult | null,
  version: string,
): HistoryRegion {
  const own = stages.filter((s) => s.region === region);
  const finalVersion = rollout?.regions.find((r) => r.region === region)?.finalVersion;
  let outcome: HistoryRegion['outcome'] = 'untouched';
  if (own.length > 0)
    outcome =
      finalVersion === version || (finalVersion === undefined && !rollout?.rollback.triggered)
        ? 'promoted'
        : 'rolled_back';
  return {
    region,
    baseline: metrics(own.map((s) => s.baseline)),
    candidate: metrics(own.map((s) => s.canary)),
    outcome,
  };
}

export function historyRecord(run: RunSummary): HistoryRecord {
  const stages = run.rollout?.stages ?? [];
  const failed = run.experiments?.filter((e) => e.status !== 'PASS') ?? [];
  return {
    schema: HISTORY_SCHEMA_VERSION,
    run_id: run.runId,
    at: run.endedAt,
    version: run.version,
    baseline_version: run.baselineVersion,
    verdict: run.gate,
    rollout: run.rollout?.finalState ?? 'NOT_RUN',
    failed_region: run.rollout?.rollback.failedRegion ?? null,
    rollback_reason: run.rollout?.rollback.reason ?? null,
    durations_ms: {
      total: Math.round(run.durationsMs.total),
      preflight: run.durationsMs.preflight === null ? null : Math.round(run.durationsMs.preflight),
      experiments: run.durationsMs.experiments === null ? null : Math.round(run.durationsMs.experiments),
      rollout: run.durationsMs.rollout === null ? null : Math.round(run.durationsMs.rollout),
    },
    regions: run.regions.map((r) => regionEntry(r, stages, run.rollout, run.version)),
    risk: run.risk === null ? null : { score: run.risk.score, action: run.risk.action },
    prediction_accuracy:
      run.accuracy === null
        ? null
        : { stages: run.accuracy.stages, inside: run.accuracy.inside, share: run.accuracy.share },
    experiments:
      run.experiments === null
        ? null
        : { total: run.experiments.length, failed: failed.length, failed_names: failed.map((e) => e.name) },
  };
}
