import { quantileSorted } from '../analysis/metrics.ts';
import { wilsonInterval } from '../analysis/stats.ts';
import type { RolloutPlan } from '../plan/rollout.ts';
import type { AbortCause } from '../rollout/machine.ts';
import { round, type SimulationResult } from './result.ts';
import type { CohortModel, SimulationScenario } from './scenario.ts';
import { simulate } from './simulate.ts';

// A study of the plan's power (issue 13): the same seeds rolled out against candidates derived
// from the scenario's baseline, from identical to clearly worse, each counted by how often it
// was rolled back and what the decision cost. The candidates are sized by the plan's own
// tolerances, so a study reads as "how often does this plan catch what it says it refuses".
// Deterministic: seeds 1..N, the same seeds for every candidate, no clock.

export const DEFAULT_STUDY_SEEDS = 1000;

/** "Mildly worse" is twice the plan's tolerance: just beyond what it accepts. */
export const MILD_FACTOR = 2;
/** "Clearly worse" is ten times the tolerance (and, for errors, at least twice every stage's limit). */
export const CLEAR_FACTOR = 10;

export type StudyCandidateName = 'identical' | 'errors_mild' | 'errors_clear' | 'latency_mild' | 'latency_clear';

export interface StudyCandidate {
  name: StudyCandidateName;
  /** What makes it worse, for a person. */
  description: string;
  canary: CohortModel;
}

/** A count out of the seeds, with its share and a 95% Wilson interval of the share. */
export interface StudyShare {
  count: number;
  share: number;
  low: number;
  high: number;
}

export type RollbackKind = 'red' | 'pause_budget' | 'stage_deadline' | 'other';

/** The nearest-rank median and 95th percentile of one number over the seeds. */
export interface StudySpread {
  p50: number | null;
  p95: number | null;
}

export interface CandidateStudy {
  name: StudyCandidateName;
  description: string;
  canary: { error_rate: number; median_ms: number; p99_ms: number };
  rolled_back: StudyShare;
  promoted: StudyShare;
  rollback_reasons: Record<RollbackKind, number>;
  /** Every request of the rollout (both cohorts, all regions) until its decision. */
  requests: StudySpread;
  /** The requests the candidate served until the decision. */
  canary_requests: StudySpread;
  /** Virtual ms from the start to the decision: the abort, or the last promotion. */
  decision_ms: StudySpread;
}

export interface StudyResult {
  seeds: number;
  baseline: { version: string; error_rate: number; median_ms: number; p99_ms: number };
  tolerances: { max_error_rate_increase: number; max_latency_increase_ratio: number; max_latency_increase_ms: number };
  /** The identical candidate rolled back: the plan's false alarms. */
  false_rollback: StudyShare;
  candidates: CandidateStudy[];
}

function share(count: number, n: number): StudyShare {
  const { low, high } = wilsonInterval(count, n);
  return { count, share: round(n === 0 ? 0 : count / n, 4), low: round(low, 4), high: round(high, 4) };
}

const scaled = (c: CohortModel, factor: number): CohortModel['latency'] => ({
  medianMs: round(c.latency.medianMs * factor, 3),
  p99Ms: round(c.latency.p99Ms * factor, 3),
});

/**
 * The candidates of a study, from the baseline and the plan's tolerances. Errors: the baseline
 * rate plus 2x (mild) and 10x (clear) the tolerated increase, the clear one at least twice the
 * highest stage limit so that it is over the limit everywhere. Latency: the whole distribution
 * scaled so the median moves by 2x and 10x the tolerated shift (ratio x median + ms), the clear
 * one at least 2x slower. A plan that tolerates no increase is probed with 1 point of errors and
 * 10% of the median.
 */
export function studyCandidates(plan: RolloutPlan, scenario: SimulationScenario): StudyCandidate[] {
  const b = scenario.baseline;
  const a = plan.analysis;
  const version = scenario.canary.version;
  const errorStep = a.maxErrorRateIncrease > 0 ? a.maxErrorRateIncrease : 0.01;
  const limit = Math.max(0, ...plan.stages.map((s) => s.limits.maxErrorRate));
  const errorsAt = (rate: number): CohortModel => ({ ...b, version, errorRate: round(Math.min(1, rate), 6) });
  const tolerated = b.latency.medianMs * a.maxLatencyIncreaseRatio + a.maxLatencyIncreaseMs;
  const shift = tolerated > 0 ? tolerated : 0.1 * b.latency.medianMs;
  const slowerBy = (factor: number): CohortModel => ({ ...b, version, latency: scaled(b, factor) });
  const mildFactor = 1 + (MILD_FACTOR * shift) / b.latency.medianMs;
  const clearFactor = Math.max(2, 1 + (CLEAR_FACTOR * shift) / b.latency.medianMs);
  return [
    { name: 'identical', description: 'the baseline itself', canary: { ...b, version } },
    {
      name: 'errors_mild',
      description: `errors +${MILD_FACTOR}x the tolerated increase`,
      canary: errorsAt(b.errorRate + MILD_FACTOR * errorStep),
    },
    {
      name: 'errors_clear',
      description: `errors +${CLEAR_FACTOR}x the tolerated increase, over every stage limit`,
      canary: errorsAt(Math.max(b.errorRate + CLEAR_FACTOR * errorStep, 2 * limit)),
    },
    {
      name: 'latency_mild',
      description: `median +${MILD_FACTOR}x the tolerated shift`,
      canary: slowerBy(mildFactor),
    },
    {
      name: 'latency_clear',
      description: `median +${CLEAR_FACTOR}x the tolerated shift, at least 2x`,
      canary: slowerBy(clearFactor),
    },
  ];
}

const KIND_OF_CAUSE: Partial<Record<AbortCause, RollbackKind>> = {
  verdict: 'red',
  'pause-budget': 'pause_budget',
  deadline: 'stage_deadline',
};

/** Why a rollout was rolled back, from the controller's abort cause. */
export function rollbackKind(cause: AbortCause | null): RollbackKind {
  return (cause === null ? undefined : KIND_OF_CAUSE[cause]) ?? 'other';
}

function spread(values: readonly number[]): StudySpread {
  const sorted = [...values].sort((x, y) => x - y);
  return { p50: quantileSorted(sorted, 0.5), p95: quantileSorted(sorted, 0.95) };
}

/** What a study keeps of one rollout: a whole SimulationResult per seed would hold every stage. */
export interface StudyOutcome {
  rolledBack: boolean;
  promoted: boolean;
  cause: AbortCause | null;
  requests: number;
  canaryRequests: number;
  /** When the rollout was decided: its abort, else its end (the last region promoted). */
  decisionMs: number;
}

export function studyOutcome(r: SimulationResult): StudyOutcome {
  return {
    rolledBack: r.rollback_triggered,
    promoted: r.final_state === 'COMPLETED',
    cause: r.rollback_cause,
    requests: r.requests_used,
    canaryRequests: r.canary_requests,
    decisionMs: r.timeline.find((e) => e.event === 'ABORT')?.at_ms ?? r.duration_ms,
  };
}

/** Summarises the rollouts of one candidate, one per seed. */
export function candidateStudy(candidate: StudyCandidate, outcomes: readonly StudyOutcome[]): CandidateStudy {
  const n = outcomes.length;
  const reasons: Record<RollbackKind, number> = { red: 0, pause_budget: 0, stage_deadline: 0, other: 0 };
  const rolledBack = outcomes.filter((o) => o.rolledBack);
  for (const o of rolledBack) reasons[rollbackKind(o.cause)]++;
  const { canary } = candidate;
  return {
    name: candidate.name,
    description: candidate.description,
    canary: { error_rate: canary.errorRate, median_ms: canary.latency.medianMs, p99_ms: canary.latency.p99Ms },
    rolled_back: share(rolledBack.length, n),
    promoted: share(outcomes.filter((o) => o.promoted).length, n),
    rollback_reasons: reasons,
    requests: spread(outcomes.map((o) => o.requests)),
    canary_requests: spread(outcomes.map((o) => o.canaryRequests)),
    decision_ms: spread(outcomes.map((o) => o.decisionMs)),
  };
}

/** Called after each candidate, for progress; the study does not depend on it. */
export type StudyProgress = (done: CandidateStudy, index: number, of: number) => void;

/**
 * Rolls the plan out over seeds 1..`seeds` for every candidate of studyCandidates. The plan is
 * used as given (the CLI judges on synthetic traffic only). Same inputs, same result.
 */
export async function runStudy(
  plan: RolloutPlan,
  scenario: SimulationScenario,
  seeds: number = DEFAULT_STUDY_SEEDS,
  progress: StudyProgress = () => {},
): Promise<StudyResult> {
  if (!Number.isInteger(seeds) || seeds < 1) throw new RangeError(`a study needs 1 or more seeds, got ${seeds}`);
  const candidates = studyCandidates(plan, scenario);
  const studies: CandidateStudy[] = [];
  for (const [i, candidate] of candidates.entries()) {
    const s: SimulationScenario = { ...scenario, canary: candidate.canary };
    const outcomes: StudyOutcome[] = [];
    for (let seed = 1; seed <= seeds; seed++) outcomes.push(studyOutcome(await simulate(plan, s, seed)));
    const study = candidateStudy(candidate, outcomes);
    studies.push(study);
    progress(study, i, candidates.length);
  }
  const b = scenario.baseline;
  const a = plan.analysis;
  return {
    seeds,
    baseline: { version: b.version, error_rate: b.errorRate, median_ms: b.latency.medianMs, p99_ms: b.latency.p99Ms },
    tolerances: {
      max_error_rate_increase: a.maxErrorRateIncrease,
      max_latency_increase_ratio: a.maxLatencyIncreaseRatio,
      max_latency_increase_ms: a.maxLatencyIncreaseMs,
    },
    false_rollback: (studies[0] as CandidateStudy).rolled_back,
    candidates: studies,
  };
}
