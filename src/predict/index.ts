import type { ExperimentResult } from '../chaos/result.ts';
import { defaultPredictPlan, type PredictPlan } from './config.ts';
import { errorPriorFromHistory, failureHistory, lastRuns } from './priors.ts';
import type { HistoryRecord } from '../history/schema.ts';
import type { RolloutPlan } from '../plan/rollout.ts';
import { dependencyGraph, sharedDependencies, type DependencyGraph } from './dependencies.ts';
import { Z99, type LogFit } from './latency.ts';
import {
  fitProfiles,
  predictStage,
  stageLoads,
  type CohortFit,
  type ErrorPrior,
  type ProfileFit,
  type StagePrediction,
} from './model.ts';
import type { PreflightMeasurement } from './preflight.ts';
import { assessRisk, type RiskAssessment } from './risk.ts';
import { sig } from '../util/round.ts';
import { applyTiers, recommendAction, type ActionRecommendation } from './tiers.ts';

// predict(): before any real traffic reaches the candidate, what the rollout will most likely
// see stage by stage, how risky it is, where it would fail, and what to do about it. Pure and
// seeded: the same input and seed give the same Prediction, byte for byte as JSON.
// docs/prediction.md explains the models and the score.

export { cohortMeasurement, type CohortMeasurement, type PreflightMeasurement } from './preflight.ts';
export {
  rangesAt,
  stageLoads,
  JEFFREYS_PRIOR,
  type StagePrediction,
  type StageModel,
  type BaselineModel,
  type ErrorPrior,
} from './model.ts';
export type { Range, LogFit } from './latency.ts';
export {
  assessRisk,
  RISK_FORMULA,
  RISK_WEIGHTS,
  FAILURE_CLASSES,
  type RiskAssessment,
  type RiskComponent,
  type FailurePoint,
} from './risk.ts';
export {
  applyTiers,
  calibrate,
  calibrationNotes,
  CALIBRATION_MIN_REQUESTS,
  compareStage,
  recommendAction,
  STAGE_RISK_HIGH,
  type Action,
  type ActionRecommendation,
  type Calibration,
  type StageComparison,
} from './tiers.ts';
export { predictionAccuracy, type ObservedStage, type PredictionAccuracy } from './accuracy.ts';
export { formatPrediction } from './format.ts';
export {
  correlatedRegions,
  dependencyGraph,
  ownDatabase,
  sharedDependencies,
  DEPENDENCY_FAULTS,
  type CorrelatedRegion,
  type DependencyGraph,
} from './dependencies.ts';

export const PREDICTION_SCHEMA_VERSION = 1;

export type PredictConfig = Pick<PredictPlan, 'maxRisk' | 'onHighRisk' | 'smallTiers' | 'monteCarloSamples'> & {
  history: Pick<PredictPlan['history'], 'runs' | 'priorWeight'>;
};

export interface PredictInput {
  /** The rollout as configured (before any small tiers). */
  plan: RolloutPlan;
  preflight: readonly PreflightMeasurement[];
  /** The whole history as read; the last config.history.runs records are used. */
  history: readonly HistoryRecord[];
  /** Chaos experiments run before the prediction, if any. */
  experiments?: readonly ExperimentResult[];
  seed: number;
  /** The `predict:` section; its defaults when absent. */
  config?: PredictConfig;
  /**
   * The stack's dependency model as configured (`predict.dependencies`): region -> what it
   * depends on. Regions of the plan not named depend on their own database (db-<region>).
   */
  dependencies?: DependencyGraph;
}

export interface CohortSummary {
  version: string | null;
  count: number;
  errors: number;
  errorRate: number | null;
  /** The lognormal fit and the median and p99 it implies; null without latencies. */
  latency: (LogFit & { medianMs: number; p99Ms: number }) | null;
}

export interface ProfileSummary {
  names: string[];
  regions: string[];
  rps: number;
  writeShare: number;
  canary: CohortSummary;
  baseline: CohortSummary;
}

export interface Prediction {
  schema: number;
  seed: number;
  candidate: string | null;
  baseline: string | null;
  preflight: { regions: string[]; profiles: ProfileSummary[] };
  models: {
    errorRate: { name: 'beta-binomial'; interval: string; prior: ErrorPrior };
    latency: { name: 'lognormal'; fit: string; loadScaling: string; interval: string; monteCarloSamples: number };
  };
  /** One per stage the rollout will run (with the small tiers, when the action adds them). */
  stages: StagePrediction[];
  /** The dependency model the risk used: every region's dependencies, and those shared. */
  dependencies: { graph: DependencyGraph; shared: { dependency: string; regions: string[] }[] };
  risk: RiskAssessment;
  action: ActionRecommendation;
  /** History problems are the caller's (readHistory); these are the model's own remarks. */
  notes: string[];
}

function summary(c: CohortFit, version: string | null): CohortSummary {
  const latency =
    c.latency === null
      ? null
      : {
          mu: sig(c.latency.mu),
          sigma: sig(c.latency.sigma),
          m: sig(c.latency.m),
          method: c.latency.method,
          medianMs: sig(Math.exp(c.latency.mu)),
          p99Ms: sig(Math.exp(c.latency.mu + Z99 * c.latency.sigma)),
        };
  return {
    version,
    count: c.count,
    errors: c.errors,
    errorRate: c.count === 0 ? null : sig(c.errors / c.count),
    latency,
  };
}

function profileSummary(p: ProfileFit, candidate: string | null, baseline: string | null): ProfileSummary {
  return {
    names: p.names,
    regions: p.regions,
    rps: p.rps,
    writeShare: sig(p.writeShare),
    canary: summary(p.canary, candidate),
    baseline: summary(p.baseline, baseline),
  };
}

export function predict(input: PredictInput): Prediction {
  const config: PredictConfig = input.config ?? defaultPredictPlan();
  const recent = lastRuns(input.history, config.history.runs);
  const prior = errorPriorFromHistory(recent, config.history.priorWeight);
  const profiles = fitProfiles(input.preflight);
  const samples = config.monteCarloSamples;
  const planned = stageLoads(input.plan).map((load) => predictStage(profiles, prior, load, input.seed, samples));
  const preflightRegions = [...new Set(input.preflight.map((m) => m.region))];
  const graph = dependencyGraph(input.plan.regions, input.dependencies);
  const risk = assessRisk({
    analysis: input.plan.analysis,
    regions: input.plan.regions,
    profiles,
    prior,
    stages: planned,
    preflightRegions,
    history: failureHistory(recent),
    experiments: input.experiments ?? [],
    dependencies: graph,
    maxRisk: config.maxRisk,
  });
  const action = recommendAction(risk.score, input.plan, config);
  const runPlan = applyTiers(input.plan, action);
  const stages =
    runPlan === input.plan
      ? planned
      : stageLoads(runPlan).map((load) => predictStage(profiles, prior, load, input.seed, samples));

  const notes: string[] = [];
  if (input.preflight.length === 0)
    notes.push('no pre-flight measurement: the ranges rest on the prior alone and are wide');
  else if (profiles.every((p) => p.canary.latency === null))
    notes.push('no successful candidate request in the pre-flight: latency is not predicted');
  const extrapolated = stages.filter((s) => s.extrapolated && input.preflight.length > 0);
  if (extrapolated.length > 0)
    notes.push(
      `stage(s) ${extrapolated.map((s) => s.stage + 1).join(', ')} run at loads outside the measured profiles: ` +
        `the nearest profile stands in (${extrapolated.map((s) => s.basis).join('; ')})`,
    );
  const candidate = input.preflight[0]?.canary.version ?? null;
  const baseline = input.preflight[0]?.baseline.version ?? null;
  return {
    schema: PREDICTION_SCHEMA_VERSION,
    seed: input.seed,
    candidate,
    baseline,
    preflight: { regions: preflightRegions, profiles: profiles.map((p) => profileSummary(p, candidate, baseline)) },
    models: {
      errorRate: {
        name: 'beta-binomial',
        interval: 'central 90% (5th to 95th percentile) of the posterior predictive',
        prior,
      },
      latency: {
        name: 'lognormal',
        fit:
          'maximum likelihood on log latencies, sigma raised to the measured p99 from 100 latencies; ' +
          'p50 and p99 without raw latencies',
        loadScaling:
          'mu, sigma and the error evidence interpolated linearly in rps between the two profiles ' +
          "around a stage's canary rate; the nearest profile outside them",
        interval:
          "central 90% of the nearest-rank p99 of the stage's successful requests, " +
          'seeded Monte Carlo with parameter uncertainty',
        monteCarloSamples: samples,
      },
    },
    stages,
    dependencies: { graph, shared: sharedDependencies(graph) },
    risk,
    action,
    notes,
  };
}

/** The plan the rollout runs after the prediction: with the small tiers in front when the action adds them. */
export function predictedPlan(plan: RolloutPlan, prediction: Pick<Prediction, 'action'>): RolloutPlan {
  return applyTiers(plan, prediction.action);
}
