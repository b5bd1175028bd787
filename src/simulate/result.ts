import type { Judgement, Verdict } from '../analysis/judge.ts';
import type { WindowMetrics } from '../analysis/metrics.ts';
import type { StateKind } from '../rollout/machine.ts';

// The JSON a simulation prints (snake_case, like the rest of the machine-readable output).
// Times are virtual milliseconds since the rollout started, rounded to whole ms; metrics are
// rounded to 3 decimals so that the text is stable and readable.

export interface MetricsJson {
  count: number;
  errors: number;
  error_rate: number | null;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
}

export interface StageJson {
  region: string;
  stage: number;
  weight: number;
  started_at_ms: number;
  ended_at_ms: number;
  outcome: 'passed' | 'aborted';
  analyses: number;
  verdict_counts: Record<Verdict, number>;
  /** The last judgement of the stage, the one that decided it. */
  verdict: Verdict;
  reasons: string[];
  canary: MetricsJson;
  baseline: MetricsJson;
  tests: {
    error_limit_p: number;
    latency_limit_p: number;
    errors: { z: number; p: number } | null;
    latency: { u: number; z: number; p: number } | null;
  };
}

export interface TransitionJson {
  at_ms: number;
  event: string;
  from: StateKind;
  to: StateKind;
  region: string | null;
  stage: number | null;
  reason?: string;
}

export interface SimulationResult {
  seed: number;
  strategy: 'canary' | 'rolling';
  final_state: StateKind;
  stages_completed: number;
  rollback_triggered: boolean;
  rollback_reason: string | null;
  failed_region: string | null;
  /** First evidence (first bad canary request of a proven limit, or the first pause) to the abort. */
  time_to_detect_ms: number | null;
  /** The abort to every touched region verified on the stable version (or the rollback failing). */
  time_to_rollback_ms: number | null;
  duration_ms: number;
  requests_used: number;
  canary_requests: number;
  health_probes: number;
  final_versions: Record<string, string>;
  /** Regions whose last deploy could not be verified (only when the rollback failed). */
  unverified_regions: string[];
  stages: StageJson[];
  timeline: TransitionJson[];
}

export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

const roundOrNull = (x: number | null) => (x === null ? null : round(x));

export function metricsJson(m: WindowMetrics): MetricsJson {
  return {
    count: m.count,
    errors: m.errors,
    error_rate: roundOrNull(m.errorRate),
    p50_ms: roundOrNull(m.p50Ms),
    p95_ms: roundOrNull(m.p95Ms),
    p99_ms: roundOrNull(m.p99Ms),
  };
}

/** p-values keep 6 significant digits: tiny ones matter. */
const sig = (p: number) => Number(p.toPrecision(6));

export function testsJson(j: Judgement): StageJson['tests'] {
  const { errors, latency } = j.tests;
  return {
    error_limit_p: sig(j.tests.errorLimit.p),
    latency_limit_p: sig(j.tests.latencyLimit.p),
    errors: errors ? { z: round(errors.z), p: sig(errors.p) } : null,
    latency: latency ? { u: latency.u, z: round(latency.z), p: sig(latency.p) } : null,
  };
}
