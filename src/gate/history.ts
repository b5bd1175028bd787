import { resolve } from 'node:path';
import type { ExperimentResult } from '../chaos/result.ts';
import type { LoadedConfig } from '../config/load.ts';
import { appendHistory, type HistoryFs } from '../history/file.ts';
import { historyRecord } from './history-record.ts';
import type { HistoryRecord } from '../history/schema.ts';
import { predictionAccuracy, type PredictionAccuracy } from '../predict/accuracy.ts';
import type { Prediction } from '../predict/index.ts';
import type { RolloutResult } from '../rollout/result.ts';
import type { Progress } from '../util/progress.ts';

// The gate run as one history record, and its append. Recording is a by-product of the run:
// a write that fails is a warning, never a reason to lose the run's verdict.

export interface GateRunFacts {
  runId: string;
  endedAt: number;
  startedAt: number;
  version: string;
  baselineVersion: string | null;
  gate: 'OPEN' | 'CLOSED';
  regions: readonly string[];
  preflightMs: number | null;
  experimentsMs: number | null;
  experiments: readonly ExperimentResult[] | null;
  rollout: RolloutResult | null;
  prediction: Prediction | null;
}

/**
 * Accuracy over the stages the rollout judged under the prediction. The comparison is
 * two-sided and made at each stage's judged sample size (predict/accuracy.ts); null when the
 * rollout did not run with a prediction.
 */
export function runAccuracy(prediction: Prediction | null, rollout: RolloutResult | null): PredictionAccuracy | null {
  if (!prediction || !rollout || rollout.stages.length === 0) return null;
  return predictionAccuracy(prediction.stages, rollout.stages);
}

export function gateHistoryRecord(run: GateRunFacts): HistoryRecord {
  const accuracy = runAccuracy(run.prediction, run.rollout);
  return historyRecord({
    runId: run.runId,
    endedAt: new Date(run.endedAt).toISOString(),
    version: run.version,
    baselineVersion: run.baselineVersion,
    gate: run.gate,
    durationsMs: {
      total: run.endedAt - run.startedAt,
      preflight: run.preflightMs,
      experiments: run.experimentsMs,
      rollout: run.rollout?.durationMs ?? null,
    },
    regions: run.regions,
    rollout: run.rollout,
    risk: run.prediction ? { score: run.prediction.risk.score, action: run.prediction.action.action } : null,
    accuracy: accuracy && { stages: accuracy.stages, inside: accuracy.inside, share: accuracy.share },
    experiments: run.experiments,
  });
}

/** Where the run history lives: predict.history.file, relative to the user's folder. */
export function historyFile(config: Pick<LoadedConfig, 'predict'>, cwd: string): string {
  return resolve(cwd, config.predict.history.file);
}

/** Appends the record; true when it is on disk. */
export async function recordRun(
  file: string,
  record: HistoryRecord,
  progress: Progress,
  fs?: HistoryFs,
): Promise<boolean> {
  try {
    await appendHistory(file, record, fs);
    progress.info(`history: run ${record.run_id} appended to ${file}`);
    return true;
  } catch (e) {
    progress.warn(`history: could not append to ${file}: ${e instanceof Error ? e.message : String(e)}`);
    return false;
  }
}

/** The run's id in the history: the Action's run and attempt when there is one, else the start time. */
export function historyRunId(startedIso: string, env: Readonly<Record<string, string | undefined>>): string {
  return env.GITHUB_RUN_ID ? `gh-${env.GITHUB_RUN_ID}-${env.GITHUB_RUN_ATTEMPT ?? '1'}` : startedIso;
}
