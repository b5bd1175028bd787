import { z } from 'zod';
import type { RolloutPlan } from '../plan/rollout.ts';
import type { CohortModel, SimulationScenario } from '../simulate/scenario.ts';
import { UsageError, type InputIssue } from '../util/errors.ts';
import { zodIssues } from '../util/issues.ts';
import {
  MAX_ANALYSES_PER_STAGE,
  MAX_JUDGED_REQUESTS,
  MAX_ROLLOUT_REQUESTS,
  MAX_STUDY_JUDGED_REQUESTS,
} from '../util/limits.ts';
import { MAX_RPS, MAX_RPS_RULE } from './rollout.ts';
import { VERSION_PATTERN, VERSION_RULE } from './version.ts';

// The `simulation:` section of chaos-gate.yml: the stable version (baseline) and the
// candidate (canary) that `chaos-gate simulate` rolls out on simulated traffic.
// requests_per_second defaults to rollout.traffic_rps; the canary defaults to the baseline
// field by field, so a scenario states only what differs.
//
// What a rollout may cost is bounded (rolloutBudgetIssues): every analysis of a stage judges
// all of its requests so far, so the work grows with rate x stage deadline x analyses; a
// plan over the budget is refused with the number it would need, whether it is simulated
// (at requests_per_second) or run live (at rollout.traffic_rps).

const positive = z.number().gt(0, 'must be greater than 0');
const rate = z.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1');
const version = z.string().regex(VERSION_PATTERN, VERSION_RULE);

const latencySchema = z.strictObject({ median_ms: positive.optional(), p99_ms: positive.optional() });
const cohortSchema = z.strictObject({
  version: version.optional(),
  error_rate: rate.optional(),
  latency: latencySchema.optional(),
});

export const simulationSchema = z.strictObject({
  requests_per_second: positive.max(MAX_RPS, MAX_RPS_RULE).optional(),
  baseline: cohortSchema.optional(),
  canary: cohortSchema.optional(),
});

export const DEFAULT_BASELINE: CohortModel = { version: 'v1', errorRate: 0.01, latency: { medianMs: 20, p99Ms: 80 } };
const DEFAULT_CANARY_VERSION = 'v2';

type CohortInput = z.output<typeof cohortSchema>;

function cohort(input: CohortInput | undefined, fallback: CohortModel, version: string): CohortModel {
  return {
    version: input?.version ?? version,
    errorRate: input?.error_rate ?? fallback.errorRate,
    latency: {
      medianMs: input?.latency?.median_ms ?? fallback.latency.medianMs,
      p99Ms: input?.latency?.p99_ms ?? fallback.latency.p99Ms,
    },
  };
}

/**
 * Validates the parsed `simulation:` section (undefined or null: all defaults) and returns the
 * scenario, or throws a UsageError listing every problem ("simulation.canary.error_rate").
 */
export function toSimulationScenario(input: unknown, source: string): SimulationScenario {
  const parsed = simulationSchema.safeParse(input ?? {}, { reportInput: true });
  if (!parsed.success) throw new UsageError(zodIssues(parsed.error, source, 'simulation'));
  const s = parsed.data;
  const baseline = cohort(s.baseline, DEFAULT_BASELINE, DEFAULT_BASELINE.version);
  const canary = cohort(s.canary, baseline, DEFAULT_CANARY_VERSION);
  const issues: InputIssue[] = [];
  for (const [name, model] of [
    ['baseline', baseline],
    ['canary', canary],
  ] as const) {
    if (model.latency.p99Ms < model.latency.medianMs) {
      issues.push({
        source,
        path: `simulation.${name}.latency.p99_ms`,
        rule: `must be at least median_ms (${model.latency.medianMs}), got ${model.latency.p99Ms}`,
      });
    }
  }
  if (issues.length > 0) throw new UsageError(issues);
  const scenario: SimulationScenario = { baseline, canary };
  if (s.requests_per_second !== undefined) scenario.requestsPerSecond = s.requests_per_second;
  return scenario;
}

/** An upper estimate of what judging a rollout at `rps` costs. */
export interface RolloutWork {
  /** Requests sent, all stages of all regions, each stage running until its deadline. */
  requests: number;
  /** The most requests one stage sends. */
  stageRequests: number;
  /** Requests judged, summed over the analyses (each judges the stage's requests so far). */
  judged: number;
  /** Analyses of one stage, paused all along (a paused stage is analysed twice as often). */
  analysesPerStage: number;
}

export function rolloutWork(
  plan: Pick<RolloutPlan, 'regions' | 'strategy' | 'stages' | 'analysis'>,
  rps: number,
): RolloutWork {
  // A rolling rollout has no canary stages: nothing is judged (plan/rollout.ts stageCount).
  if (plan.strategy === 'rolling') return { requests: 0, stageRequests: 0, judged: 0, analysesPerStage: 0 };
  const deadline = plan.analysis.stageDeadlineSeconds;
  const analyses = Math.ceil((2 * deadline) / plan.analysis.intervalSeconds);
  let requests = 0;
  let stageRequests = 0;
  for (const s of plan.stages) {
    // Canary and baseline together: the split of rps, each cohort topped up to at most this floor (stageRates).
    const floor = Math.min((2 * plan.analysis.minSamples) / s.bakeSeconds, rps);
    const stage = (rps + floor) * deadline;
    requests += stage;
    stageRequests = Math.max(stageRequests, stage);
  }
  const regions = plan.regions.length;
  // The requests judged grow with the stage: on average half of them at each analysis.
  const all = requests * regions;
  return { requests: all, stageRequests, judged: (all * analyses) / 2, analysesPerStage: analyses };
}

const count = (n: number) => Math.ceil(n).toLocaleString('en-US');

/**
 * The rollout as `chaos-gate simulate` runs it (at requests_per_second, else traffic_rps)
 * against the work budgets of util/limits.ts; each issue names the number it would need.
 * The live rollout does the same work spread over real time: the budgets are the simulation's.
 */
export function rolloutBudgetIssues(plan: RolloutPlan, scenario: SimulationScenario, source: string): InputIssue[] {
  const rps = scenario.requestsPerSecond ?? plan.trafficRps;
  const rpsPath = scenario.requestsPerSecond === undefined ? 'rollout.traffic_rps' : 'simulation.requests_per_second';
  const work = rolloutWork(plan, rps);
  const { stageDeadlineSeconds: deadline, intervalSeconds: interval } = plan.analysis;
  const shape =
    `${plan.regions.length} region(s) x ${plan.stages.length} stage(s) at ${rps} requests per second, ` +
    `each stage up to its ${deadline} s deadline`;
  const lower =
    'lower simulation.requests_per_second (or rollout.traffic_rps), stage_deadline_seconds ' +
    'or the number of stages';
  const issues: InputIssue[] = [];
  const issue = (path: string, rule: string) => issues.push({ source, path, rule });
  const analyses = count(work.analysesPerStage);
  if (work.analysesPerStage > MAX_ANALYSES_PER_STAGE) {
    issue(
      'rollout.analysis.interval_seconds',
      `analysing every ${interval} s until the ${deadline} s stage deadline ` +
        `(twice as often while paused) is up to ${analyses} analyses per stage, more than the ` +
        `${count(MAX_ANALYSES_PER_STAGE)} a stage may have: raise interval_seconds or lower stage_deadline_seconds`,
    );
  }
  if (work.requests > MAX_ROLLOUT_REQUESTS) {
    issue(
      rpsPath,
      `a simulated rollout could send up to ${count(work.requests)} requests (${shape}), ` +
        `more than the ${count(MAX_ROLLOUT_REQUESTS)} a simulation may send: ${lower}`,
    );
  } else if (work.judged > MAX_JUDGED_REQUESTS && work.analysesPerStage <= MAX_ANALYSES_PER_STAGE) {
    issue(
      rpsPath,
      `a simulated rollout could judge up to ${count(work.judged)} requests (${shape}; ` +
        `every analysis judges the stage's requests so far, up to ${analyses} analyses a stage), more than the ` +
        `${count(MAX_JUDGED_REQUESTS)} that keep a simulation within seconds: ${lower}, ` +
        'or raise analysis.interval_seconds',
    );
  }
  return issues;
}

/**
 * A study (`simulate --study`) of `rollouts` per seed against MAX_STUDY_JUDGED_REQUESTS: every
 * rollout is within its own budget (rolloutBudgetIssues), so only their number can make it
 * hours. The issue names the flag and the most seeds this plan may have.
 */
export function studyBudgetIssues(
  plan: RolloutPlan,
  scenario: SimulationScenario,
  seeds: number,
  rolloutsPerSeed: number,
): InputIssue[] {
  const perSeed = rolloutWork(plan, scenario.requestsPerSecond ?? plan.trafficRps).judged * rolloutsPerSeed;
  if (perSeed * seeds <= MAX_STUDY_JUDGED_REQUESTS) return [];
  const most = Math.max(1, Math.floor(MAX_STUDY_JUDGED_REQUESTS / perSeed));
  const rule =
    `${count(seeds)} seeds x ${rolloutsPerSeed} candidates could judge up to ${count(perSeed * seeds)} requests, ` +
    `more than the ${count(MAX_STUDY_JUDGED_REQUESTS)} a study may: this plan allows at most ${count(most)} seeds`;
  return [{ source: '--seeds', path: '', rule }];
}
