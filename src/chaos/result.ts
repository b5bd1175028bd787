import type { HopErrors } from '../analysis/metrics.ts';
// What one chaos experiment produced. The chaos runner fills it; the reports (JSON, HTML,
// JUnit, step summary) and the gate verdict read it. Times in ms are relative to the
// experiment's start unless the name says otherwise.

export type ExperimentStatus = 'PASS' | 'FAIL' | 'ERROR';

/** One measured value against its threshold: a row in every report. */
export interface Measurement {
  /** snake_case, e.g. "recovery_time_seconds", "p99_latency_ms_during", "acknowledged_writes_lost". */
  name: string;
  /** null when it could not be measured (then pass is false). */
  value: number | null;
  threshold: number;
  /** How value compares with threshold for a PASS. */
  comparator: '<=' | '>=';
  unit: string;
  pass: boolean;
  detail?: string;
}

export interface WindowSummary {
  window: 'before' | 'during' | 'after';
  fromMs: number;
  toMs: number;
  count: number;
  errors: number;
  errorRate: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  throughputRps: number;
  /** Errors by the hop the service named (service.attribution); absent: none named. */
  errorsByHop?: HopErrors[];
}

/** One-second buckets of the target regions' traffic, for the charts. */
export interface SeriesPoint {
  atMs: number;
  requests: number;
  errors: number;
  errorRate: number | null;
  p99Ms: number | null;
}

/** The measured evidence that the fault took effect on one target (effect.ts). */
export interface TargetEffect {
  region: string;
  /** At least one of the checks held. */
  tookEffect: boolean;
  /** The experiment's effect floors against this target's evidence (comparator ">="). */
  checks: Measurement[];
  /** Restarts by the restart policy during the experiment; null: the container was gone. */
  restarts: number | null;
  /**
   * Docker's OOMKilled at the end. Docker clears it when the restart policy
   * starts the container again, so after a restart false proves nothing.
   */
  oomKilled: boolean | null;
  /** Resident memory: the median before the fault, the highest during it (MiB, from /metrics). */
  memoryBeforeMb: number | null;
  memoryPeakMb: number | null;
  /** Process CPU use before and during the fault, in percent of one core (from /metrics). */
  cpuBeforePercent: number | null;
  cpuDuringPercent: number | null;
}

/** Whether the fault took effect: on every target, at least one piece of evidence held. */
export interface FaultEffect {
  tookEffect: boolean;
  targets: TargetEffect[];
}

export interface ExperimentResult {
  name: string;
  description: string;
  fault: {
    kind: string;
    /**
     * How it was injected, e.g. "docker-kill", "host-kill-9",
     * "tc-netem", "fault-endpoint", "docker-network-disconnect".
     */
    method: string;
    params: Record<string, unknown>;
  };
  targets: string[];
  status: ExperimentStatus;
  startedAt: string;
  durationMs: number;
  faultWindow: { fromMs: number; toMs: number };
  windows: WindowSummary[];
  series: SeriesPoint[];
  measurements: Measurement[];
  recoveryTimeSeconds: number | null;
  acknowledgedWritesLost: number;
  /** The fault was lifted and the stack was healthy again afterwards. */
  reverted: boolean;
  /**
   * The evidence that the fault took effect; absent when the experiment asks none (or the fault was not injected). Also
   * summed up as the fault_effect measurement.
   */
  faultEffect?: FaultEffect;
  /**
   * Facts a reader needs besides the numbers: a fallback taken
   * (no netem here), a restart or OOM kill seen, a repair made.
   */
  notes?: string[];
  /** Why the experiment could not run (status ERROR). */
  error?: string;
}
