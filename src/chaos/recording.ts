import type { Observation } from '../analysis/observation.ts';
import type { FaultKind } from './experiment.ts';

// What the runner records during one experiment: the raw facts every measurement is computed
// from (measure.ts, pure). All times are epoch ms.

/** One GET /health of a target, sent at `at`, answered (or given up on) latencyMs later. */
export interface HealthProbe {
  region: string;
  at: number;
  latencyMs: number;
  ok: boolean;
  status: number;
}

/** One reading of Prometheus's `up` for a target; null when Prometheus gave no value. */
export interface UpSample {
  region: string;
  at: number;
  up: number | null;
}

/** One reading of a target's own process metrics (GET /metrics), taken when it answered; null: not in the answer. */
export interface ProcessSample {
  region: string;
  at: number;
  rssBytes: number | null;
  /** Process CPU time, user + system (a counter: it starts again from 0 in a restarted process). */
  cpuSeconds: number | null;
}

/** A target's container at the end of the experiment against its start (docker inspect). */
export interface ContainerOutcome {
  region: string;
  /** Restarts by the restart policy since the start; null: the container was gone (replaced by a repair). */
  restarts: number | null;
  /** Docker's OOMKilled at the end; Docker clears it when the restart policy starts the container again. */
  oomKilled: boolean | null;
}

export interface ReadBack {
  /** Acknowledged writes read back at the end. */
  checked: number;
  /** Answered 404, or with another item than the one written. */
  missing: number;
  /** No clean answer within the read-back deadline: counted as lost, since it cannot be read back. */
  unverified: number;
}

export interface Recording {
  kind: FaultKind;
  targets: readonly string[];
  /** Experiment start. */
  t0: number;
  /** The injection began: the fault was certainly not active before (the before window ends here)... */
  injectStart: number;
  /** ...and certainly active from here (the injection had returned)... */
  injectAt: number;
  /** ...until here (the revert had not started). For a kill: when the target answered again. */
  revertAt: number;
  /** A recovery later than this does not count (the runner repaired the stack after it). */
  recoveryDeadline: number;
  /** The after window starts here: every target answered again (by itself or repaired). */
  afterFrom: number;
  end: number;
  /** Every request of the run, targets and other regions. */
  observations: readonly Observation[];
  probes: readonly HealthProbe[];
  up: readonly UpSample[];
  samples: readonly ProcessSample[];
  containers: readonly ContainerOutcome[];
  /** The target's process died (the kill, or an OOM kill): recovery counts from the injection. */
  crashed: boolean;
  readBack: ReadBack;
  /** Facts for the recovery row: restarts, OOM kills, repairs. */
  notes: readonly string[];
}
