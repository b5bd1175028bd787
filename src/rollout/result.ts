import type { AbortCause } from './machine.ts';
import type { DifferentialResult } from '../analysis/differential.ts';
import type { CheckRecord, CombinedJudgement } from '../analysis/combine.ts';
import type { Judgement, Verdict } from '../analysis/judge.ts';
import { summarize, type WindowMetrics } from '../analysis/metrics.ts';
import type { Observation } from '../analysis/observation.ts';
import type { Deployment } from '../stack/target.ts';
import type { StageComparison } from '../predict/tiers.ts';
import type { RollbackDecision } from './scope.ts';
import type { MitigationRecord } from './mitigation.ts';
import type { Verification } from './verify.ts';

// What every rollout records, for --json, the result file and the reports.

export interface TimelineEntry {
  at: string;
  atMs: number;
  event: string;
  from: string;
  to: string;
  region?: string;
  stage?: number;
  detail?: string;
}

/**
 * One analysis of a stage: the metrics of the requests since the analysis before it (so a
 * stage's intervals show how it moved), and the verdict that analysis gave, which is judged
 * on the whole stage so far.
 */
export interface AnalysisInterval {
  at: string;
  canary: WindowMetrics;
  baseline: WindowMetrics;
  verdict: Verdict;
}

export function analysisInterval(
  at: number,
  canary: readonly Observation[],
  baseline: readonly Observation[],
  verdict: Verdict,
): AnalysisInterval {
  return { at: new Date(at).toISOString(), canary: summarize(canary), baseline: summarize(baseline), verdict };
}

export interface StageRecord {
  region: string;
  stage: number;
  weight: number;
  startedAt: string;
  endedAt?: string;
  analyses: number;
  verdict: Verdict;
  reasons: string[];
  canary: WindowMetrics;
  baseline: WindowMetrics;
  tests: Judgement['tests'];
  /** Every check of the last analysis, from both sources: query, value, range, samples, verdict. */
  checks: CheckRecord[];
  /** Every analysis in order; absent in results written before intervals were recorded. */
  intervals?: AnalysisInterval[];
  /** Predicted range and observed value side by side, when the rollout ran with a prediction. */
  prediction?: StageComparison;
}

export interface RegionOutcome {
  region: string;
  previous: Deployment;
  /** What the region's service reports at the end (undefined: no answer). */
  finalVersion: string | undefined;
  /** promoted: left on the candidate; rolled_back: put back on `previous`; untouched: never reached. */
  outcome?: 'promoted' | 'rolled_back' | 'untouched';
}

/** One abort and its rollback: what was decided, on which evidence, and how long it took. */
export interface RollbackRecord {
  failedRegion: string;
  reason: string;
  /** Why the rollout aborted, as the abort said (machine.ts); absent in results written before it was recorded. */
  cause?: AbortCause;
  decision: RollbackDecision;
  /** Regions put back by this rollback. */
  regions: string[];
  /** Abort -> these regions verified (and their data checked). */
  durationMs: number;
  ok: boolean;
}

export interface RolloutResult {
  version: string;
  failureRate: number;
  strategy: 'canary' | 'rolling';
  finalState: 'COMPLETED' | 'ROLLED_BACK' | 'FAILED';
  startedAt: string;
  endedAt: string;
  durationMs: number;
  regions: RegionOutcome[];
  timeline: TimelineEntry[];
  stages: StageRecord[];
  /** Chaos on the candidate beside the baseline (analysis/differential.ts), in the order run. */
  differential: DifferentialResult[];
  rollback: {
    triggered: boolean;
    reason: string | null;
    failedRegion: string | null;
    verifications: Verification[];
    problems: string[];
    /**
     * all: every touched region was put back; region: only the failing one(s), the others
     * kept on the candidate (rollout.rollback: region); null: no rollback.
     */
    scope?: 'all' | 'region' | null;
    /** Every region put back on its previous version, and the touched ones left on the candidate. */
    regions?: string[];
    kept?: string[];
    /** One per abort, in order (more than one only when a region-only rollback continued). */
    decisions?: RollbackRecord[];
  };
  /**
   * Per rolled-back region: backup, integrity check, restore, writes read back. The fields
   * marked optional here are always set by runRollout; results written before granular
   * rollback and mitigation existed lack them.
   */
  mitigation?: MitigationRecord[];
  /**
   * The first breach of a limit -> the verdict that aborted (detect.ts, shared with the
   * simulation): for a red verdict, from the first canary request counting against the
   * breached limit (the start of the analysis window when no recorded request does: a red
   * Prometheus alone saw); for a spent pause budget, from the stage's first pause. null when
   * no verdict aborted (a failed verification, an interrupt) or the rollout completed.
   */
  timeToDetectMs: number | null;
  /** Red verdict (or abort) -> every touched region verified on its previous version. */
  timeToRollbackMs: number | null;
  /**
   * untimed: requests in flight while the gate's own event loop stalled (latency not used);
   * maxClientStallMs: the longest such stall.
   */
  traffic: {
    sent: number;
    skipped: number;
    acknowledgedWrites: number;
    missingReads: number;
    untimed: number;
    maxClientStallMs: number;
  };
}

export function stageRecord(
  region: string,
  stage: number,
  weight: number,
  startedAt: number,
  j: CombinedJudgement,
  intervals: readonly AnalysisInterval[],
  endedAt?: number,
): StageRecord {
  return {
    region,
    stage,
    weight,
    startedAt: new Date(startedAt).toISOString(),
    ...(endedAt === undefined ? {} : { endedAt: new Date(endedAt).toISOString() }),
    analyses: intervals.length,
    verdict: j.verdict,
    reasons: j.reasons,
    canary: j.canary,
    baseline: j.baseline,
    tests: j.tests,
    checks: j.checks,
    intervals: [...intervals],
  };
}
