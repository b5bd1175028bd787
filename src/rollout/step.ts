import { combineJudgement, type CheckRecord, type CombinedJudgement } from '../analysis/combine.ts';
import { judge, type JudgeOptions, type SortedLatencies } from '../analysis/judge.ts';
import type { Observation } from '../analysis/observation.ts';
import type { StagePrediction } from '../predict/model.ts';
import type { StageComparison } from '../predict/tiers.ts';
import { classifyStage } from './classify.ts';
import { transition, type RolloutEvent, type RolloutState } from './machine.ts';
import type { AnalysisConfig, RolloutPlan, StageConfig } from '../plan/rollout.ts';
import { decide, type Decision } from './policy.ts';

// One analysis of a canary stage: judge -> decide -> transition. The controller (waves.ts)
// calls it with the observations the traffic recorded, on the clock it is given (virtual in
// tests and simulations), then acts on the new state (set the next stage's weight, promote,
// roll back) and calls it again after `decision.nextAnalysisInMs`. The rolling bake is judged
// by the same judgeStage() and decided by decideBake() (policy.ts).

/** Clock readings of the current stage that outlive one analysis. */
export interface StageTiming {
  /** When the stage began taking traffic (its analysis window starts here). */
  startedAt: number;
  /** Time spent in pauses of this stage that have ended (an ongoing pause is in the state). */
  pausedMs: number;
}

export interface StepInput {
  plan: RolloutPlan;
  /** CANARY or PAUSED. */
  state: RolloutState;
  timing: StageTiming;
  now: number;
  /** The state's region, canary cohort, observations from timing.startedAt to now. */
  canary: readonly Observation[];
  /** Same region and time range, baseline cohort. */
  baseline: readonly Observation[];
  /** Their successLatencies(), when the caller keeps them between analyses (sortWindow). */
  latencies?: SortedLatencies;
  /** Requests per second the stage sends each cohort (stageRates()): "not enough data" says how long it waits. */
  rates?: JudgeOptions['rates'];
  /** The Prometheus checks evaluated for this analysis (none in simulations). */
  prometheus?: readonly CheckRecord[];
  /**
   * The stage's prediction: when given, the judgement is held to its ranges (classifyStage),
   * so a green outside the predicted range, or at a stage the prediction calls risky, is yellow.
   */
  prediction?: StagePrediction;
}

export interface StepResult {
  judgement: CombinedJudgement;
  /** Predicted range against observed value, when the step had a prediction. */
  comparison?: StageComparison;
  decision: Decision;
  /** The event sent to the machine, or null when waiting. */
  event: RolloutEvent | null;
  /** The state after the event (the same object when waiting). */
  state: RolloutState;
  /** Timing for the next analysis: a new stage after STAGE_PASSED, pause time added on RESUME. */
  timing: StageTiming;
}

export function judgeOptions(analysis: AnalysisConfig): JudgeOptions {
  return {
    minSamples: analysis.minSamples,
    alpha: analysis.alpha,
    maxErrorRateIncrease: analysis.maxErrorRateIncrease,
    maxLatencyIncreaseRatio: analysis.maxLatencyIncreaseRatio,
    maxLatencyIncreaseMs: analysis.maxLatencyIncreaseMs,
  };
}

export interface StageJudgementInput {
  plan: RolloutPlan;
  stage: StageConfig;
  canary: readonly Observation[];
  baseline: readonly Observation[];
  latencies?: SortedLatencies;
  rates?: JudgeOptions['rates'];
  prometheus?: readonly CheckRecord[];
  prediction?: StagePrediction;
}

/**
 * The judgement of a stage's window, one for canary stages and the rolling bake alike: the
 * synthetic traffic judged (judge.ts), combined with the Prometheus checks (combine.ts), and,
 * with a prediction, held to its ranges (classifyStage).
 */
export function judgeStage(input: StageJudgementInput): { judgement: CombinedJudgement; comparison?: StageComparison } {
  const { plan, stage } = input;
  const options = { ...judgeOptions(plan.analysis), ...(input.rates ? { rates: input.rates } : {}) };
  const synthetic = judge(input.canary, input.baseline, stage.limits, options, input.latencies);
  const combined = combineJudgement(
    synthetic,
    stage.limits,
    input.prometheus ?? [],
    plan.analysis.sources,
    input.canary,
  );
  const predicted = input.prediction ? classifyStage(combined, input.prediction) : undefined;
  return predicted ? { judgement: predicted, comparison: predicted.prediction } : { judgement: combined };
}

export function step(input: StepInput): StepResult {
  const { plan, state, timing, now } = input;
  if (state.kind !== 'CANARY' && state.kind !== 'PAUSED') {
    throw new Error(`step() analyses a canary stage, but the rollout is ${state.kind}`);
  }
  const stage = plan.stages[state.stage];
  if (!stage) throw new RangeError(`no stage ${state.stage} in the plan`);
  const { judgement, comparison: predicted } = judgeStage({ ...input, stage });
  const comparison = predicted ? { comparison: predicted } : {};
  const ongoingPause = state.kind === 'PAUSED' ? now - state.pausedAt : 0;
  const decision = decide({
    paused: state.kind === 'PAUSED',
    judgement,
    stage,
    analysis: plan.analysis,
    clock: { stageStartedAt: timing.startedAt, now, pausedMs: timing.pausedMs + ongoingPause },
  });
  if (decision.event === 'wait') return { judgement, ...comparison, decision, event: null, state, timing };
  const event = decision.event;
  const next = transition(state, event);
  let nextTiming = timing;
  if (event.type === 'RESUME') nextTiming = { startedAt: timing.startedAt, pausedMs: timing.pausedMs + ongoingPause };
  if (event.type === 'STAGE_PASSED') nextTiming = { startedAt: now, pausedMs: 0 };
  return { judgement, ...comparison, decision, event, state: next, timing: nextTiming };
}
