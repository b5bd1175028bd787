import type { Judgement, Verdict } from '../analysis/judge.ts';
import type { WindowMetrics } from '../analysis/metrics.ts';
import type { AbortCause, StateKind } from '../rollout/machine.ts';
import type { RolloutResult, StageRecord, TimelineEntry } from '../rollout/result.ts';

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
  /** The controller's cause of the abort (machine.ts AbortCause); null when it did not abort. */
  rollback_cause: AbortCause | null;
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

export function testsJson(tests: Judgement['tests']): StageJson['tests'] {
  const { errors, latency } = tests;
  return {
    error_limit_p: sig(tests.errorLimit.p),
    latency_limit_p: sig(tests.latencyLimit.p),
    errors: errors ? { z: round(errors.z), p: sig(errors.p) } : null,
    latency: latency ? { u: latency.u, z: round(latency.z), p: sig(latency.p) } : null,
  };
}

/** What the simulated stack and traffic counted, which a rollout result does not hold. */
export interface SimulationCounts {
  requests: number;
  canaryRequests: number;
  healthProbes: number;
}

/** The simulation's JSON, read from the result of the rollout the controller ran. */
export function simulationResult(seed: number, r: RolloutResult, counts: SimulationCounts): SimulationResult {
  const stages = stagesJson(r);
  const aborted = r.finalState !== 'COMPLETED';
  const firstRollback = r.rollback.decisions?.[0];
  return {
    seed,
    strategy: r.strategy,
    final_state: r.finalState,
    stages_completed: stages.filter((s) => s.outcome === 'passed').length,
    rollback_triggered: aborted,
    rollback_reason: r.rollback.reason,
    rollback_cause: firstRollback?.cause ?? null,
    failed_region: aborted ? r.rollback.failedRegion : null,
    time_to_detect_ms: r.timeToDetectMs === null ? null : round(r.timeToDetectMs, 0),
    time_to_rollback_ms: firstRollback ? round(firstRollback.durationMs, 0) : null,
    duration_ms: round(r.durationMs, 0),
    requests_used: counts.requests,
    canary_requests: counts.canaryRequests,
    health_probes: counts.healthProbes,
    final_versions: Object.fromEntries(r.regions.map((x) => [x.region, x.finalVersion ?? ''])),
    unverified_regions: r.rollback.verifications.filter((v) => !v.ok).map((v) => v.region),
    stages,
    timeline: r.timeline.map(transitionJson),
  };
}

function transitionJson(e: TimelineEntry): TransitionJson {
  return {
    at_ms: round(e.atMs, 0),
    event: e.event,
    from: e.from as StateKind,
    to: e.to as StateKind,
    region: e.region ?? null,
    stage: e.stage ?? null,
    ...(e.detail === undefined ? {} : { reason: e.detail }),
  };
}

/**
 * Each stage record with its outcome. A canary stage ends with the STAGE_PASSED or ABORT the
 * controller sends right after recording it, in the same order; a rolling bake aborts on a
 * red verdict, or an inconclusive one at its deadline, and passes otherwise (policy.ts).
 */
function stagesJson(r: RolloutResult): StageJson[] {
  const ends = r.timeline.filter(
    (e) => e.event === 'STAGE_PASSED' || (e.event === 'ABORT' && (e.from === 'CANARY' || e.from === 'PAUSED')),
  );
  let next = 0;
  return r.stages.map((s) => {
    const passed =
      r.strategy === 'rolling'
        ? s.verdict !== 'red' && s.verdict !== 'inconclusive'
        : ends[next++]?.event === 'STAGE_PASSED';
    return stageJson(s, passed);
  });
}

function stageJson(s: StageRecord, passed: boolean): StageJson {
  const counts: Record<Verdict, number> = { green: 0, yellow: 0, red: 0, inconclusive: 0 };
  for (const i of s.intervals ?? []) counts[i.verdict]++;
  return {
    region: s.region,
    stage: s.stage,
    weight: s.weight,
    started_at_ms: round(Date.parse(s.startedAt), 0),
    ended_at_ms: round(s.endedAt === undefined ? Date.parse(s.startedAt) : Date.parse(s.endedAt), 0),
    outcome: passed ? 'passed' : 'aborted',
    analyses: s.analyses,
    verdict_counts: counts,
    verdict: s.verdict,
    reasons: s.reasons,
    canary: metricsJson(s.canary),
    baseline: metricsJson(s.baseline),
    tests: testsJson(s.tests),
  };
}
