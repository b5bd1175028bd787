import type { HistoryRecord } from '../history/schema.ts';
import { historyTrends, type Trends } from '../history/trends.ts';
import type { PredictionAccuracy } from '../predict/accuracy.ts';
import type { Prediction } from '../predict/index.ts';
import type { Range } from '../predict/latency.ts';
import { compareStage, type Calibration, type StageComparison } from '../predict/tiers.ts';
import type { StageRecord } from '../rollout/result.ts';

// The report's prediction part: what the gate predicted before the rollout (risk score with
// its components and formula, failure points, action, per-stage ranges), each stage's
// predicted range beside what the rollout observed there, and the trends of the last runs.
// Pure; the pipeline hands in what it measured and read. The models' internals (posterior,
// lognormal fit) stay out: they are for recomputation, not for readers.

export interface PredictionReportInput {
  prediction: Prediction;
  preflight: { region: string; durationMs: number };
  /** The rollout's stage records, when it ran. */
  stages: readonly StageRecord[];
  accuracy: Pick<PredictionAccuracy, 'stages' | 'inside' | 'share'> | null;
  /** The history read before the run, plus this run's record when it was made. */
  history: { file: string; problems: readonly string[]; records: readonly HistoryRecord[]; lastRuns: number };
}

export interface CohortReport {
  count: number;
  errors: number;
  errorRate: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
}

export interface ObservedMetric {
  observed: number | null;
  range: Range | null;
  position: StageComparison['errorRate']['position'];
}

export interface StageObservation {
  region: string;
  /** Canary requests the stage was judged on; the range is recomputed for this many. */
  requests: number;
  errorRate: ObservedMetric;
  p99Ms: ObservedMetric;
  /** How the ranges were calibrated by the baseline beside the canary; null: the prediction's own ranges. */
  calibration: Calibration | null;
}

export interface PredictedStageReport {
  stage: number;
  weight: number;
  requests: number;
  canaryRps: number;
  errorRate: Range;
  p99Ms: Range | null;
  breachProbability: number;
  extrapolated: boolean;
  observed: StageObservation[];
}

export interface PredictionReport {
  candidate: string | null;
  baseline: string | null;
  seed: number;
  risk: Prediction['risk'] & { maxRisk: number };
  action: { action: Prediction['action']['action']; reason: string; weights: number[]; onHighRisk: string };
  preflight: {
    region: string;
    durationMs: number;
    profiles: { name: string; rps: number; writeShare: number; canary: CohortReport; baseline: CohortReport }[];
  };
  models: { errorRate: string; latency: string; prior: string };
  stages: PredictedStageReport[];
  accuracy: { stages: number; inside: number; share: number | null } | null;
  history: { file: string; problems: string[]; trends: Trends };
  notes: string[];
}

function cohort(c: Prediction['preflight']['profiles'][number]['canary']): CohortReport {
  return {
    count: c.count,
    errors: c.errors,
    errorRate: c.errorRate,
    p50Ms: c.latency?.medianMs ?? null,
    p99Ms: c.latency?.p99Ms ?? null,
  };
}

function observation(s: StageRecord, predicted: Prediction['stages'][number]): StageObservation {
  // The rollout's own comparison when it made one; the same pure comparison otherwise.
  const c = s.prediction ?? compareStage(s.canary, predicted, s.baseline);
  const metric = (m: StageComparison['errorRate']): ObservedMetric => ({
    observed: m.observed,
    range: m.range,
    position: m.position,
  });
  return {
    region: s.region,
    requests: c.requests,
    errorRate: metric(c.errorRate),
    p99Ms: metric(c.p99Ms),
    calibration: c.calibration ? { ...c.calibration } : null,
  };
}

export function predictionReport(input: PredictionReportInput): PredictionReport {
  const p = input.prediction;
  return {
    candidate: p.candidate,
    baseline: p.baseline,
    seed: p.seed,
    risk: { ...structuredClone(p.risk), maxRisk: p.action.maxRisk },
    action: {
      action: p.action.action,
      reason: p.action.reason,
      weights: [...p.action.weights],
      onHighRisk: p.action.onHighRisk,
    },
    preflight: {
      region: input.preflight.region,
      durationMs: input.preflight.durationMs,
      profiles: p.preflight.profiles.map((x) => ({
        name: x.names.join('/'),
        rps: x.rps,
        writeShare: x.writeShare,
        canary: cohort(x.canary),
        baseline: cohort(x.baseline),
      })),
    },
    models: {
      errorRate: `${p.models.errorRate.name}: ${p.models.errorRate.interval}`,
      latency: `${p.models.latency.name}: ${p.models.latency.interval} (${p.models.latency.monteCarloSamples} samples)`,
      prior: p.models.errorRate.prior.explanation,
    },
    stages: p.stages.map((s) => ({
      stage: s.stage,
      weight: s.weight,
      requests: s.requests,
      canaryRps: s.canaryRps,
      errorRate: { ...s.errorRate },
      p99Ms: s.p99Ms === null ? null : { ...s.p99Ms },
      breachProbability: Math.max(s.breach.errorRate, s.breach.p99),
      extrapolated: s.extrapolated,
      observed: input.stages
        .filter((r) => r.stage === s.stage && r.weight === s.weight && r.canary.count > 0)
        .map((r) => observation(r, s)),
    })),
    accuracy:
      input.accuracy === null
        ? null
        : { stages: input.accuracy.stages, inside: input.accuracy.inside, share: input.accuracy.share },
    history: {
      file: input.history.file,
      problems: [...input.history.problems],
      trends: historyTrends(input.history.records, input.history.lastRuns),
    },
    notes: [...p.notes],
  };
}
