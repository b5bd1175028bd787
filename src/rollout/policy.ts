import type { Judgement, Verdict } from '../analysis/judge.ts';
import type { RolloutEvent } from './machine.ts';
import type { AnalysisConfig, StageConfig } from '../plan/rollout.ts';

// What to do after one analysis of a canary stage: which event to send to the state machine
// (or to wait), and when to analyse next. Pure: the caller supplies the clock readings.
//
// - red: ABORT at once.
// - green, not paused: STAGE_PASSED once the bake time has elapsed (paused time does not
//   count as baking); otherwise wait for the rest of the bake.
// - green while paused: RESUME.
// - yellow, not paused: PAUSE (the reason goes into the timeline) and analyse twice as often.
// - yellow (or inconclusive) while paused: wait, twice as often, until the stage's pause
//   budget is spent; then ABORT.
// - inconclusive, not paused: wait, also after the bake time: the data may still come.
// - Stage deadline: a stage that has not passed stage_deadline_seconds after it started is
//   aborted whatever the verdict ("not enough data" when it was inconclusive): a candidate
//   that cannot show it is healthy in time does not go further. Only STAGE_PASSED and ABORT
//   are never overridden.
// - A yellow from the prediction alone (limits and baseline comparison green: judgedVerdict)
//   buys scrutiny, not a veto: it pauses like any yellow, but once the pause budget is spent
//   the stage goes on as green (a healthy candidate misses a 90% range one analysis in ten);
//   the limits, the tests and the red verdict still stand guard.

export interface StageClock {
  stageStartedAt: number;
  now: number;
  /** Time this stage has spent paused so far, an ongoing pause included. */
  pausedMs: number;
}

export interface PolicyInput {
  paused: boolean;
  /** judgedVerdict: the verdict before the prediction was applied (rollout/classify.ts classifyStage). */
  judgement: Pick<Judgement, 'verdict' | 'reasons'> & { judgedVerdict?: Verdict };
  stage: Pick<StageConfig, 'bakeSeconds'>;
  analysis: Pick<AnalysisConfig, 'intervalSeconds' | 'pauseBudgetSeconds' | 'stageDeadlineSeconds'>;
  clock: StageClock;
}

export interface Decision {
  event: RolloutEvent | 'wait';
  /** When to analyse again (0 after an ABORT: nothing more to analyse). */
  nextAnalysisInMs: number;
  /** Why, for a person. */
  why: string;
}

/** While paused or yellow the stage is analysed this much more often. */
export const PAUSED_INTERVAL_FACTOR = 0.5;

export function decide(input: PolicyInput): Decision {
  const { judgement, analysis, clock } = input;
  const intervalMs = analysis.intervalSeconds * 1000;
  const fastMs = Math.max(1, intervalMs * PAUSED_INTERVAL_FACTOR);
  const elapsedMs = clock.now - clock.stageStartedAt;
  const bakedMs = elapsedMs - clock.pausedMs;
  const bakeMs = input.stage.bakeSeconds * 1000;
  const deadlineMs = analysis.stageDeadlineSeconds * 1000;
  const budgetMs = analysis.pauseBudgetSeconds * 1000;
  const first = judgement.reasons[0] ?? judgement.verdict;
  const untilDeadline = Math.max(1, deadlineMs - elapsedMs);
  const overPrediction =
    judgement.verdict === 'yellow' && judgement.judgedVerdict === 'green' && clock.pausedMs >= budgetMs;
  const verdict = overPrediction ? 'green' : judgement.verdict;
  const note = overPrediction
    ? ` (still outside the prediction after the ${analysis.pauseBudgetSeconds} s pause budget, ` +
      `but within the limits and no worse than the baseline: going on: ${first})`
    : '';

  let decision: Decision;
  if (verdict === 'red') {
    return {
      event: { type: 'ABORT', reason: `red verdict: ${first}`, cause: 'verdict' },
      nextAnalysisInMs: 0,
      why: judgement.reasons.join('; '),
    };
  } else if (input.paused) {
    if (verdict === 'green') {
      decision = {
        event: { type: 'RESUME' },
        nextAnalysisInMs: Math.min(intervalMs, Math.max(1, bakeMs - bakedMs)),
        why: `green again${note}`,
      };
    } else if (clock.pausedMs >= budgetMs) {
      const reason = `pause budget of ${analysis.pauseBudgetSeconds} s spent and still ${judgement.verdict}: ${first}`;
      return { event: { type: 'ABORT', reason, cause: 'pause-budget' }, nextAnalysisInMs: 0, why: reason };
    } else {
      decision = {
        event: 'wait',
        nextAnalysisInMs: Math.min(fastMs, Math.max(1, budgetMs - clock.pausedMs)),
        why: `paused, still ${judgement.verdict}`,
      };
    }
  } else if (verdict === 'green') {
    if (bakedMs >= bakeMs)
      return {
        event: { type: 'STAGE_PASSED' },
        nextAnalysisInMs: intervalMs,
        why: `green after baking ${(bakedMs / 1000).toFixed(1)} s${note}`,
      };
    decision = { event: 'wait', nextAnalysisInMs: Math.min(intervalMs, bakeMs - bakedMs), why: `green, baking${note}` };
  } else if (verdict === 'yellow') {
    decision = {
      event: { type: 'PAUSE', reason: first, at: clock.now },
      nextAnalysisInMs: fastMs,
      why: `yellow: ${first}`,
    };
  } else {
    decision = { event: 'wait', nextAnalysisInMs: Math.min(intervalMs, untilDeadline), why: first };
  }

  if (elapsedMs >= deadlineMs) {
    const what = verdict === 'inconclusive' ? first : `still ${verdict}`;
    const reason = `stage deadline of ${analysis.stageDeadlineSeconds} s passed: ${what}`;
    return { event: { type: 'ABORT', reason, cause: 'deadline' }, nextAnalysisInMs: 0, why: reason };
  }
  // At least 1 ms, so a caller's loop always moves its clock forward.
  return { ...decision, nextAnalysisInMs: Math.max(1, Math.min(decision.nextAnalysisInMs, untilDeadline)) };
}

/**
 * What a rolling step's bake does after one analysis (a rolling rollout has no canary stage,
 * so no pause: the region already runs the candidate alone):
 * - red: ABORT at once.
 * - once baked, or at the stage deadline: green passes; yellow passes with a warning (within
 *   the limits); inconclusive at the deadline aborts ("not enough data").
 * - otherwise: analyse again after the interval.
 */
export type BakeDecision =
  | { kind: 'abort'; event: Extract<RolloutEvent, { type: 'ABORT' }> }
  | { kind: 'pass'; warning?: string }
  | { kind: 'wait'; nextAnalysisInMs: number };

export interface BakeInput {
  judgement: Pick<Judgement, 'verdict' | 'reasons'>;
  bakeSeconds: number;
  analysis: Pick<AnalysisConfig, 'intervalSeconds' | 'stageDeadlineSeconds'>;
  /** Time since the bake began. */
  elapsedMs: number;
}

export function decideBake(input: BakeInput): BakeDecision {
  const { judgement: j, analysis, elapsedMs } = input;
  const first = j.reasons[0];
  if (j.verdict === 'red')
    return { kind: 'abort', event: { type: 'ABORT', reason: `red verdict: ${first ?? ''}`, cause: 'verdict' } };
  const baked = elapsedMs >= input.bakeSeconds * 1000;
  const overdue = elapsedMs >= analysis.stageDeadlineSeconds * 1000;
  if (!(baked && j.verdict !== 'inconclusive') && !overdue)
    return { kind: 'wait', nextAnalysisInMs: analysis.intervalSeconds * 1000 };
  if (j.verdict === 'inconclusive') {
    const reason = `not enough data by the stage deadline: ${first ?? ''}`;
    return { kind: 'abort', event: { type: 'ABORT', reason, cause: 'deadline' } };
  }
  return j.verdict === 'yellow'
    ? { kind: 'pass', warning: `${first ?? 'yellow'}; within limits, going on` }
    : { kind: 'pass' };
}
