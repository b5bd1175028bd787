import { RED_ALPHA_FACTOR } from '../analysis/judge.ts';
import { binomialUpperTail } from '../analysis/stats.ts';
import type { InputIssue } from '../util/errors.ts';
import { num } from '../util/format.ts';
import { rollbackPolicy, stageRates, type RolloutPlan } from './rollout.ts';

// The plan pre-flight: what a rollout plan can and cannot do, from its own numbers, before
// anything is deployed. Pure. The timings follow the controller's real steps:
// - a canary stage bakes from its start (rollout/policy.ts decide: paused time does not count),
//   so the bake and the collection of min_samples overlap; it passes at the first analysis
//   green after both, and whatever happens it is over at stage_deadline_seconds;
// - a rolling step measures its baseline over the last stage's bake, replaces and verifies the
//   region, then judges it at every interval until baked (decideBake), aborting once overdue;
// - a promotion and every rollback verify health within health.deadline_seconds; a rollback
//   puts its regions back in parallel (rollout/rollback.ts).
// Container starts are the stack's, not the plan's: no worst case below counts them.

/** The candidate the power figure is about: twice the allowed error rate, a clear regression and not a subtle one. */
export const RED_EFFECT_FACTOR = 2;
/** Beyond this many errors the search gives up: a plan needing more is reported as never red. */
const MAX_ERRORS_SEARCHED = 2 ** 30;
/** Tolerance of the time arithmetic (seconds), so 0.1 + 0.2 ticks do not miss an analysis. */
const EPSILON = 1e-9;

export interface StagePreflight {
  /** 0-based index in plan.stages; a rolling plan has one step, judged with the last stage's bake and limits. */
  stage: number;
  weight: number;
  bakeSeconds: number;
  /** Requests per second to each cohort (rolling: the baseline is measured before the replacement). */
  rates: { canary: number; baseline: number };
  /** Requests a verdict needs: min_samples canary; min_samples baseline for a comparison (0: none is made). */
  needs: { canary: number; baseline: number };
  /** Seconds to collect them at those rates; baseline null when it never gets them. */
  secondsToNeeds: { canary: number; baseline: number | null };
  /** Requests the bake gives each cohort. */
  bakeGives: { canary: number; baseline: number };
  /** When the stage passes if every analysis is green; null: never within the deadline. */
  passSeconds: number | null;
  /** The longest the stage can run before it passes or is aborted. */
  worstSeconds: number;
  /** Whether a verdict other than inconclusive can be reached within the stage deadline. */
  verdictInTime: boolean;
  /** Whether the baseline has min_samples by the time the stage passes green (else only the limits judge it). */
  compared: boolean;
  /** Whether a stage that spends its whole pause budget can still bake before its deadline. */
  pauseRoom: boolean;
  red: RedPower;
}

/** Requests (and seconds) the error-limit test needs to turn red at the effect; null: never (or any error). */
export interface RedPower {
  effect: number;
  requests: number | null;
  seconds: number | null;
}

export interface RegionPreflight {
  region: string;
  /** From the region's start to promoted and verified, every stage taking its longest. */
  promoteSeconds: number;
  /** From an abort to the regions put back and verified. */
  rollbackSeconds: number;
}

export interface PlanPreflight {
  strategy: RolloutPlan['strategy'];
  trafficRps: number;
  stages: StagePreflight[];
  regions: RegionPreflight[];
  /** Every region promoted, every stage taking its longest. */
  promoteAllSeconds: number;
  /** The longest run there can be, rollbacks included (the last region failing at its end). */
  worstSeconds: number;
  /** When every region passes every stage green at once. */
  greenSeconds: number | null;
}

/** The pre-flight of a plan: per stage, per region, and for the whole rollout. */
export function planPreflight(plan: RolloutPlan): PlanPreflight {
  // Stages mostly share their limits: one search per distinct max_error_rate (validation runs this per environment).
  const searched = new Map<number, RedPower>();
  const red: RedOf = (maxErrorRate, rps) => {
    const found = searched.get(maxErrorRate) ?? redPower(maxErrorRate, plan.analysis.alpha, 1);
    searched.set(maxErrorRate, found);
    return { ...found, seconds: found.requests === null ? null : found.requests / rps };
  };
  const stages =
    plan.strategy === 'rolling' ? [rollingStep(plan, red)] : plan.stages.map((_, i) => canaryStage(plan, i, red));
  const health = plan.health.deadlineSeconds;
  const staged = stages.reduce((sum, s) => sum + s.worstSeconds, 0);
  // Rolling: the baseline window, then the replacement verified, then the bake, then verified again (waves.ts).
  const last = stages[stages.length - 1] as StagePreflight;
  const promoteSeconds = plan.strategy === 'rolling' ? last.bakeSeconds + health + staged + health : staged + health;
  const regions = plan.regions.map((region) => ({ region, promoteSeconds, rollbackSeconds: health }));
  const promoteAllSeconds = promoteSeconds * regions.length;
  // After a region-only rollback the rollout may go on: every region can then fail at its end.
  const rollbacks = rollbackPolicy(plan).onRegionFailure === 'continue' ? regions.length : 1;
  const passes = stages.map((s) => s.passSeconds);
  const green = passes.every((p): p is number => p !== null) ? passes.reduce((a, b) => a + b, 0) : null;
  return {
    strategy: plan.strategy,
    trafficRps: plan.trafficRps,
    stages,
    regions,
    promoteAllSeconds,
    worstSeconds: promoteAllSeconds + rollbacks * health,
    greenSeconds: green === null ? null : green * regions.length,
  };
}

/** The red power of a stage's max_error_rate at its canary rate. */
type RedOf = (maxErrorRate: number, canaryRps: number) => RedPower;

function canaryStage(plan: RolloutPlan, i: number, red: RedOf): StagePreflight {
  const stage = plan.stages[i] as RolloutPlan['stages'][number];
  const { minSamples, intervalSeconds, stageDeadlineSeconds: deadline, pauseBudgetSeconds } = plan.analysis;
  const rates = stageRates(plan, i);
  // Every stage, the 100% one included, keeps a baseline beside the candidate (stageRates' floor).
  const needsBaseline = minSamples;
  const toCanary = minSamples / rates.canary;
  const toBaseline = needsBaseline === 0 ? 0 : rates.baseline > 0 ? needsBaseline / rates.baseline : null;
  // Analyses come every interval while inconclusive; a green one waits exactly for the end of the bake.
  const firstGreen = Math.max(stage.bakeSeconds, ticks(toCanary, intervalSeconds));
  const verdictInTime = toCanary < deadline;
  // The analysis that would come after the deadline comes at it (decide caps the wait).
  const passSeconds = Math.min(firstGreen, deadline);
  return {
    stage: i,
    weight: stage.weight,
    bakeSeconds: stage.bakeSeconds,
    rates,
    needs: { canary: minSamples, baseline: needsBaseline },
    secondsToNeeds: { canary: toCanary, baseline: toBaseline },
    bakeGives: { canary: rates.canary * stage.bakeSeconds, baseline: rates.baseline * stage.bakeSeconds },
    passSeconds: verdictInTime ? passSeconds : null,
    worstSeconds: deadline,
    verdictInTime,
    // A stage that passes before the baseline has min_samples passes on the limits alone.
    compared: needsBaseline > 0 && toBaseline !== null && toBaseline <= passSeconds + EPSILON,
    pauseRoom: stage.bakeSeconds + pauseBudgetSeconds <= deadline,
    red: red(stage.limits.maxErrorRate, rates.canary),
  };
}

/** A rolling step: the region's whole traffic, judged with the last stage's bake and limits. */
function rollingStep(plan: RolloutPlan, red: RedOf): StagePreflight {
  const i = plan.stages.length - 1;
  const stage = plan.stages[i] as RolloutPlan['stages'][number];
  const { minSamples, intervalSeconds, stageDeadlineSeconds: deadline } = plan.analysis;
  const rps = plan.trafficRps;
  const toCanary = minSamples / rps;
  // decideBake analyses at every interval and aborts at the first one past the deadline.
  const worst = ticks(deadline, intervalSeconds);
  const verdictInTime = toCanary < deadline;
  const baselineSeconds = minSamples / rps;
  return {
    stage: i,
    weight: 100,
    bakeSeconds: stage.bakeSeconds,
    rates: { canary: rps, baseline: rps },
    needs: { canary: minSamples, baseline: minSamples },
    secondsToNeeds: { canary: toCanary, baseline: baselineSeconds },
    bakeGives: { canary: rps * stage.bakeSeconds, baseline: rps * stage.bakeSeconds },
    passSeconds: verdictInTime ? Math.min(ticks(Math.max(stage.bakeSeconds, toCanary), intervalSeconds), worst) : null,
    worstSeconds: worst,
    verdictInTime,
    // The baseline window is the bake before the replacement: no more baseline comes later.
    compared: baselineSeconds <= stage.bakeSeconds + EPSILON,
    pauseRoom: true, // a rolling step never pauses
    red: red(stage.limits.maxErrorRate, rps),
  };
}

/** The first analysis at or after `seconds`, analyses coming every `interval` from the start. */
function ticks(seconds: number, interval: number): number {
  return Math.ceil(seconds / interval - EPSILON) * interval;
}

/**
 * The fewest canary requests with which a candidate erring at RED_EFFECT_FACTOR x max_error_rate
 * turns the error limit red: its expected errors (rounded down) give an exact binomial
 * p < alpha x RED_ALPHA_FACTOR (analysis/judge.ts rule 1). For k errors the fewest requests is
 * ceil(k / effect), and more requests with the same k only raise p, so the smallest k that
 * proves it gives the smallest n. That k is found by doubling then bisection (p falls as k
 * grows): a few dozen tail sums whatever the limit, so a hostile max_error_rate of 0.9999999
 * costs no more than the default. A limit of 0 makes any error red; a limit of 1 is never breached.
 */
export function redPower(maxErrorRate: number, alpha: number, canaryRps: number): RedPower {
  const effect = Math.min(1, RED_EFFECT_FACTOR * maxErrorRate);
  const none = { effect, requests: null, seconds: null };
  if (maxErrorRate <= 0 || maxErrorRate >= 1) return none;
  const redP = alpha * RED_ALPHA_FACTOR;
  const requestsFor = (k: number) => Math.ceil(k / effect - EPSILON);
  const proves = (k: number) => {
    const n = requestsFor(k);
    return k / n > maxErrorRate && binomialUpperTail(k, n, maxErrorRate) < redP;
  };
  let hi = 1;
  while (!proves(hi)) {
    if (hi >= MAX_ERRORS_SEARCHED) return none;
    hi *= 2;
  }
  let lo = hi / 2; // proves(lo) is false, or lo is below 1
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (proves(mid)) hi = mid;
    else lo = mid;
  }
  const n = requestsFor(hi);
  return { effect, requests: n, seconds: n / canaryRps };
}

/**
 * What keeps a plan from ever reaching a verdict: a stage whose canary cannot collect
 * min_samples requests before its deadline is aborted as inconclusive whatever the candidate
 * does. Weak power (a red that needs more than the bake gives) is shown, not refused.
 * stageRates gives every cohort at least 2 x min_samples per bake, up to traffic_rps, and the
 * deadline is longer than any bake: so a stage falls short only when traffic_rps itself is too
 * low, and that is the field named, once for every stage it starves.
 */
export function preflightIssues(preflight: PlanPreflight, plan: RolloutPlan, source: string): InputIssue[] {
  const starved = preflight.stages.filter((s) => !s.verdictInTime);
  const first = starved[0];
  if (!first) return [];
  const { minSamples, stageDeadlineSeconds: deadline } = plan.analysis;
  const what =
    preflight.strategy === 'rolling'
      ? 'the rolling step'
      : starved.length === preflight.stages.length
        ? 'no stage'
        : `the ${starved.map((s) => `${num(s.weight)}%`).join(', ')} stage${starved.length === 1 ? '' : 's'}`;
  const rule =
    `${what === 'no stage' ? 'no stage could' : `${what} could never`} be judged: a verdict needs ${minSamples} ` +
    `canary requests (analysis.min_samples), ${seconds(first.secondsToNeeds.canary)} at ` +
    `${num(first.rates.canary)} request/s, and a stage is aborted at analysis.stage_deadline_seconds ` +
    `${num(deadline)}: traffic_rps must be more than ${num(minSamples / deadline)} ` +
    '(or lower min_samples, or a longer stage deadline)';
  return [{ source, path: 'rollout.traffic_rps', rule }];
}

/** Seconds for a person: "7.5 s", "2 min 30 s" from two minutes on. */
export function seconds(s: number): string {
  const rounded = Number(s.toPrecision(3));
  if (rounded < 120) return `${num(rounded)} s`;
  const whole = Math.round(s);
  const rest = whole % 60;
  return `${Math.floor(whole / 60)} min${rest === 0 ? '' : ` ${rest} s`}`;
}
