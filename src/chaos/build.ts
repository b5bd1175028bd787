import type { Observation } from '../analysis/observation.ts';
import { faultEffect } from './effect.ts';
import { faultParams, type Experiment } from './experiment.ts';
import { measureAll, measurements, summaries, type JudgementConfig } from './measure.ts';
import type { Recording } from './recording.ts';
import type { ExperimentResult, WindowSummary } from './result.ts';
import { formatHopErrors } from '../analysis/metrics.ts';
import { series } from './windows.ts';

// Turns what the runner recorded into the ExperimentResult every report reads. Pure.

export interface RunFacts {
  experiment: Experiment;
  targets: readonly string[];
  method: string;
  notes: readonly string[];
  /** The fault was lifted and the stack was healthy (or repaired to healthy) afterwards. */
  reverted: boolean;
  /** Why the experiment could not run or finish; makes it an ERROR. */
  error?: string;
  /** Undefined when the fault was never injected. */
  recording?: Recording;
  t0: number;
  end: number;
  observations: readonly Observation[];
}

/** Which hop the target's errors came from in each window, as the service named it (service.attribution). */
function hopNotes(windows: readonly WindowSummary[]): string[] {
  return windows
    .filter((w) => w.errorsByHop)
    .map(
      (w) =>
        `errors ${w.window === 'during' ? 'during the fault' : `${w.window} it`} by hop: ` +
        formatHopErrors(w.errorsByHop ?? []),
    );
}

export function buildResult(facts: RunFacts, judgement: JudgementConfig): ExperimentResult {
  const { experiment, recording: rec } = facts;
  const targets = new Set(facts.targets);
  const targetTraffic = facts.observations.filter((o) => targets.has(o.region));
  // The evidence that the fault took effect comes first: the thresholds below it only mean
  // something about a fault that happened.
  const effect = rec ? faultEffect(rec, experiment.fault, experiment.effect) : undefined;
  const measured = rec
    ? [...(effect ? [effect.measurement] : []), ...measurements(rec, experiment.thresholds, judgement)]
    : [];
  const values = rec ? measureAll(rec, judgement) : undefined;
  const failed = measured.some((m) => !m.pass);
  const windows = rec ? summaries(rec, targetTraffic) : [];
  const notes = [...facts.notes, ...hopNotes(windows)];
  // A fault that did not take effect says nothing of the service, good or bad: it could not run (the suite retries it).
  const noEffect = effect !== undefined && !effect.effect.tookEffect;
  const status = facts.error !== undefined || !rec || noEffect ? 'ERROR' : failed ? 'FAIL' : 'PASS';
  const error = facts.error ?? (!rec ? 'the fault was not injected' : noEffect ? effect.measurement.detail : undefined);
  return {
    name: experiment.name,
    description: experiment.description,
    fault: { kind: experiment.fault.kind, method: facts.method, params: faultParams(experiment.fault) },
    targets: [...facts.targets],
    status,
    startedAt: new Date(facts.t0).toISOString(),
    durationMs: facts.end - facts.t0,
    faultWindow: rec ? { fromMs: rec.injectAt - facts.t0, toMs: rec.revertAt - facts.t0 } : { fromMs: 0, toMs: 0 },
    windows,
    series: series(targetTraffic, facts.t0, facts.end),
    measurements: measured,
    recoveryTimeSeconds: values?.recovery_time_seconds.value ?? null,
    acknowledgedWritesLost: values?.acknowledged_writes_lost.value ?? 0,
    reverted: facts.reverted,
    ...(effect ? { faultEffect: effect.effect } : {}),
    ...(notes.length > 0 ? { notes } : {}),
    ...(error !== undefined ? { error } : {}),
  };
}
