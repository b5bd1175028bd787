import type { CombinedJudgement } from '../analysis/combine.ts';
import { sortWindow, type SortedWindow } from '../analysis/metrics.ts';
import type { PrometheusPlan } from '../prometheus/config.ts';
import type { StagePrediction } from '../predict/model.ts';
import type { StageComparison } from '../predict/tiers.ts';
import { evaluateChecks } from '../prometheus/live.ts';
import type { Stack } from '../stack/stack.ts';
import { regionUrl, type Deployment, type RegionTarget } from '../stack/target.ts';
import type { TrafficGenerator, TrafficStream } from '../traffic/generator.ts';
import type { ObservationStore } from '../traffic/store.ts';
import type { Progress } from '../util/progress.ts';
import type { RolloutEvent, RolloutState } from './machine.ts';
import { stageRates, type RolloutPlan } from '../plan/rollout.ts';
import { analysisInterval, stageRecord, type AnalysisInterval, type StageRecord } from './result.ts';
import type { RolloutClock } from './clock.ts';
import { timeToDetect } from './detect.ts';
import { judgeStage, step, type StageTiming } from './step.ts';
import { decideBake } from './policy.ts';
import { verifyRegion, type RegionProbes } from './verify.ts';
import { differentialAbort, rollingDifferentialAbort, type DifferentialHook } from './differential-stage.ts';

export type { DifferentialHook, DifferentialStageInput } from './differential-stage.ts';

// One wave's work on the live stack: a canary stage (weights, analyses), a promotion, or a
// rolling replacement. Each sends its events through `send`, which records the timeline.

export interface WaveContext {
  stack: Stack;
  plan: RolloutPlan;
  candidate: Deployment;
  store: ObservationStore;
  /** Where the synthetic traffic goes; it records into `store`. */
  traffic: Pick<TrafficGenerator, 'setStreams'>;
  progress: Progress;
  signal: AbortSignal;
  clock: RolloutClock;
  probes: RegionProbes;
  send: (event: RolloutEvent) => void;
  state: () => RolloutState;
  regionTarget: (region: string) => RegionTarget;
  previous: (region: string) => Deployment;
  markReplaced: (region: string) => void;
  recordStage: (record: StageRecord) => void;
  /** Time to detect of a stage that aborted (detect.ts); the rollout keeps the first. */
  detected: (ms: number) => void;
  /** Regions with a canary container (removed at promotion or rollback). */
  canaryRunning: Set<string>;
  /** Prometheus checks to evaluate at every analysis; undefined when Prometheus does not judge. */
  prometheus: PrometheusPlan | undefined;
  prometheusUrl: string;
  /** One prediction per stage of the plan, in order; each analysis is held to its stage's. */
  prediction?: readonly StagePrediction[];
  /** Runs before the candidate first reaches a region (the database backup). */
  beforeCandidate: (region: RegionTarget) => Promise<void>;
  /** Chaos on the candidate beside the baseline, in one stage of one region; undefined: none. */
  differential?: DifferentialHook;
  /** Runs once a region's canary is up, before its stage's traffic (the gate's known-bad control). */
  afterCanaryDeploy?: (region: RegionTarget) => Promise<void>;
}

function checksFor(ctx: WaveContext, region: RegionTarget) {
  if (!ctx.prometheus) return Promise.resolve([]);
  const baseline = ctx.previous(region.name).version;
  return evaluateChecks(ctx.prometheus, ctx.prometheusUrl, {
    region: region.name,
    version: ctx.candidate.version,
    canary_version: ctx.candidate.version,
    baseline_version: baseline,
    slot: 'canary',
  });
}

type StageState = Extract<RolloutState, { kind: 'CANARY' | 'PAUSED' }>;

/** Time to detect of the judgement that aborted a stage, whichever source saw it (detect.ts). */
function recordDetection(
  ctx: WaveContext,
  judgement: CombinedJudgement,
  firstPauseAt: number | null,
  windowStart: number,
  now: number,
): void {
  const ms = timeToDetect({ judgement, firstPauseAt, windowStart, now });
  if (ms !== null) ctx.detected(ms);
}

function streams(
  ctx: WaveContext,
  region: RegionTarget,
  baselineRps: number,
  canaryRps: number,
  canaryUrl: string,
): TrafficStream[] {
  const base = ctx.previous(region.name);
  return [
    {
      region: region.name,
      cohort: 'baseline',
      version: base.version,
      baseUrl: regionUrl(ctx.stack.target, region),
      rps: baselineRps,
    },
    { region: region.name, cohort: 'canary', version: ctx.candidate.version, baseUrl: canaryUrl, rps: canaryRps },
  ];
}

/** Runs the current canary stage until it passes or is aborted (pauses and resumes stay inside). */
export async function runCanaryStage(ctx: WaveContext, entered: StageState): Promise<void> {
  const { plan, store } = ctx;
  const region = ctx.regionTarget(entered.region);
  if (!ctx.canaryRunning.has(region.name)) await deployCanary(ctx, region);
  const stageIndex = entered.stage;
  const rates = stageRates(plan, stageIndex);
  ctx.traffic.setStreams(
    streams(ctx, region, rates.baseline, rates.canary, regionUrl(ctx.stack.target, region, 'canary')),
  );
  let timing: StageTiming = { startedAt: ctx.clock.now(), pausedMs: 0 };
  let nextInMs = plan.analysis.intervalSeconds * 1000;
  let last: CombinedJudgement | undefined;
  let comparison: StageComparison | undefined;
  let firstPauseAt: number | null = null;
  const intervals: AnalysisInterval[] = [];
  let intervalFrom = timing.startedAt;
  const prediction = ctx.prediction?.[stageIndex];
  // The stage's window only grows between analyses: its latencies are sorted as it grows.
  let sorted: Record<'canary' | 'baseline', SortedWindow> | undefined;
  for (;;) {
    await ctx.clock.sleep(nextInMs, ctx.signal);
    const state = ctx.state();
    if (state.kind !== 'CANARY' && state.kind !== 'PAUSED') return;
    const prometheus = await checksFor(ctx, region);
    const now = ctx.clock.now();
    const window = { region: region.name, from: timing.startedAt, to: now };
    const canary = store.select({ ...window, cohort: 'canary' });
    const baseline = store.select({ ...window, cohort: 'baseline' });
    sorted = { canary: sortWindow(canary, sorted?.canary), baseline: sortWindow(baseline, sorted?.baseline) };
    const result = step({
      plan,
      state,
      timing,
      now,
      canary,
      baseline,
      latencies: { canary: sorted.canary.latencies, baseline: sorted.baseline.latencies },
      rates,
      prometheus,
      ...(prediction ? { prediction } : {}),
    });
    intervals.push(
      analysisInterval(
        now,
        canary.filter((o) => o.at >= intervalFrom),
        baseline.filter((o) => o.at >= intervalFrom),
        result.judgement.verdict,
      ),
    );
    intervalFrom = now;
    last = result.judgement;
    comparison = result.comparison;
    nextInMs = Math.max(50, result.decision.nextAnalysisInMs);
    if (!result.event) continue;
    if (result.event.type === 'PAUSE') firstPauseAt ??= now;
    if (result.event.type === 'ABORT') recordDetection(ctx, last, firstPauseAt, timing.startedAt, now);
    const leaving = result.event.type === 'STAGE_PASSED' || result.event.type === 'ABORT';
    if (leaving) {
      const record = stageRecord(
        region.name,
        stageIndex,
        plan.stages[stageIndex]?.weight ?? 0,
        timing.startedAt,
        last,
        intervals,
        now,
      );
      ctx.recordStage(comparison ? { ...record, prediction: comparison } : record);
    }
    if (result.event.type === 'PAUSE')
      ctx.progress.warn(`${region.name} stage ${stageIndex + 1} paused: ${result.event.reason}`);
    const event =
      result.event.type === 'STAGE_PASSED'
        ? ((await differentialAbort(ctx, region, stageIndex)) ?? result.event)
        : result.event;
    ctx.send(event);
    timing = result.timing;
    if (leaving) return;
  }
}

/** The candidate beside the region's stable version, before the region's first stage. */
async function deployCanary(ctx: WaveContext, region: RegionTarget): Promise<void> {
  await ctx.beforeCandidate(region);
  ctx.progress.info(`starting canary ${region.canaryService} on ${ctx.candidate.version}`);
  await ctx.stack.deploy(region, 'canary', ctx.candidate);
  ctx.canaryRunning.add(region.name);
  await ctx.afterCanaryDeploy?.(region);
}

/**
 * After the last canary stage the region's own service runs the candidate alone: replace
 * it, remove the canary, verify. A rolling rollout gets here straight away and replaces
 * the region after measuring a baseline, then judges it over a bake.
 */
export async function runPromotion(
  ctx: WaveContext,
  state: Extract<RolloutState, { kind: 'PROMOTED' }>,
): Promise<void> {
  const region = ctx.regionTarget(state.region);
  if (ctx.plan.strategy === 'rolling') {
    await runRollingStep(ctx, region);
    if (ctx.state().kind !== 'PROMOTED') return;
  } else {
    ctx.traffic.setStreams([]);
    ctx.progress.info(`promoting ${region.name}: ${region.service} -> ${ctx.candidate.version}`);
    ctx.markReplaced(region.name);
    await ctx.stack.deploy(region, 'stable', ctx.candidate);
    await ctx.stack.removeCanary(region);
    ctx.canaryRunning.delete(region.name);
  }
  const verification = await verifyRegion(
    ctx.stack,
    region,
    'stable',
    ctx.candidate,
    ctx.plan.health,
    ctx.clock,
    ctx.probes,
  );
  if (!verification.ok) {
    ctx.send({
      type: 'ABORT',
      reason: `${region.name} not verified on ${ctx.candidate.version}: ${verification.problem ?? ''}`,
      cause: 'verification',
    });
    return;
  }
  ctx.progress.info(`${region.name} verified on ${ctx.candidate.version} (${verification.healthChecks} health checks)`);
  ctx.send({ type: 'NEXT_REGION' });
}

/**
 * Rolling: a baseline window on the stable version, the replacement, then the new version
 * judged over the last stage's bake against that baseline (judgeStage, decideBake).
 */
async function runRollingStep(ctx: WaveContext, region: RegionTarget): Promise<void> {
  const { plan, store } = ctx;
  const last = plan.stages[plan.stages.length - 1];
  if (!last) throw new Error('a rollout needs at least one stage (its limits and bake judge a rolling step)');
  const url = regionUrl(ctx.stack.target, region);
  const baselineFrom = ctx.clock.now();
  ctx.traffic.setStreams(streams(ctx, region, plan.trafficRps, 0, url));
  await ctx.clock.sleep(last.bakeSeconds * 1000, ctx.signal);
  const baselineTo = ctx.clock.now();
  ctx.traffic.setStreams([]);
  if (!(await replaceStable(ctx, region))) return;
  const bakeFrom = ctx.clock.now();
  ctx.traffic.setStreams(streams(ctx, region, 0, plan.trafficRps, url));
  const baseline = store.select({ region: region.name, cohort: 'baseline', from: baselineFrom, to: baselineTo });
  const intervals: AnalysisInterval[] = [];
  let intervalFrom = bakeFrom;
  let nextInMs = plan.analysis.intervalSeconds * 1000;
  for (;;) {
    await ctx.clock.sleep(nextInMs, ctx.signal);
    const prometheus = await checksFor(ctx, region);
    const now = ctx.clock.now();
    const canary = store.select({ region: region.name, cohort: 'canary', from: bakeFrom, to: now });
    // The baseline was measured before the replacement: no more of it comes.
    const rates = { canary: plan.trafficRps, baseline: 0 };
    const { judgement: j } = judgeStage({ plan, stage: last, canary, baseline, rates, prometheus });
    // The baseline was measured before the replacement: every interval is held to all of it.
    intervals.push(
      analysisInterval(
        now,
        canary.filter((o) => o.at >= intervalFrom),
        baseline,
        j.verdict,
      ),
    );
    intervalFrom = now;
    const decision = decideBake({
      judgement: j,
      bakeSeconds: last.bakeSeconds,
      analysis: plan.analysis,
      elapsedMs: now - bakeFrom,
    });
    if (decision.kind === 'wait') {
      nextInMs = decision.nextAnalysisInMs;
      continue;
    }
    ctx.traffic.setStreams([]);
    ctx.recordStage(stageRecord(region.name, 0, 100, bakeFrom, j, intervals, now));
    if (decision.kind === 'abort') {
      if (j.verdict === 'red') recordDetection(ctx, j, null, bakeFrom, now);
      ctx.send(decision.event);
      return;
    }
    if (decision.warning) ctx.progress.warn(`${region.name}: ${decision.warning}`);
    const regression = await rollingDifferentialAbort(ctx, region);
    if (regression) ctx.send(regression);
    return;
  }
}

/** A rolling step's replacement of the region's stable version, verified; false: aborted. */
async function replaceStable(ctx: WaveContext, region: RegionTarget): Promise<boolean> {
  await ctx.beforeCandidate(region);
  ctx.progress.info(`replacing ${region.service} with ${ctx.candidate.version}`);
  ctx.markReplaced(region.name);
  await ctx.stack.deploy(region, 'stable', ctx.candidate);
  const health = await verifyRegion(ctx.stack, region, 'stable', ctx.candidate, ctx.plan.health, ctx.clock, ctx.probes);
  if (health.ok) return true;
  ctx.send({
    type: 'ABORT',
    reason: `${region.name} not healthy on ${ctx.candidate.version}: ${health.problem ?? ''}`,
    cause: 'verification',
  });
  return false;
}
