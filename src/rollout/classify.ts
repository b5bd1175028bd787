import type { CombinedJudgement } from '../analysis/combine.ts';
import type { Verdict } from '../analysis/judge.ts';
import type { StagePrediction } from '../predict/model.ts';
import { calibrationNotes, compareStage, type StageComparison } from '../predict/tiers.ts';
import { ms, pct } from '../util/format.ts';
import { prob } from '../util/round.ts';

// Each analysis of a stage is held to the stage's prediction as well as to the limits:
//
//   red     a limit is breached (the existing judgement is red): roll back at once
//   yellow  outside the prediction but within the limits: pause, warn, analyse more often
//           (the policy already halves the interval while yellow or paused)
//   green   inside the predicted ranges and the stage's risk low: bake, then the next tier
//
// "Outside" is one-sided: only WORSE than the predicted range counts. A candidate that does
// better than predicted is never a reason to stop, as the judge's tests are one-sided too; it
// is noted in the reasons (and counted as a miss by the prediction accuracy, predict/accuracy.ts,
// which measures calibration, both ways).
//
// The ranges are recomputed for the number of requests the analysis actually judged (and
// the p99 range for its successful ones, predict/tiers.ts compareStage): an early analysis of
// 35 requests has a wider range than the stage's final window, so one early error does not
// look like a surprise. They are also calibrated to the window's conditions by the baseline
// judged beside the canary (tiers.ts calibrate): a host busier than during the pre-flight slows
// both versions alike. "Risk low" is predict/tiers.ts's STAGE_RISK_HIGH.

export interface PredictedJudgement extends CombinedJudgement {
  /** The verdict of the limits and tests alone, before the prediction was applied. */
  judgedVerdict: Verdict;
  prediction: StageComparison;
}

function describe(c: StageComparison, prediction: StagePrediction): { above: string[]; notes: string[] } {
  const above: string[] = [];
  const notes: string[] = [];
  const calibrated = calibrationNotes(c.calibration);
  const why = (note: string | null) => (note === null ? '' : ` (${note})`);
  const e = c.errorRate;
  if (e.range && e.observed !== null) {
    const words = `error rate ${pct(e.observed)} of ${c.requests} requests`;
    const range = `the predicted ${pct(e.range.low)} to ${pct(e.range.high)}${why(calibrated.errorRate)}`;
    if (e.position === 'above')
      above.push(`${words} is above ${range}, within the limit ${pct(prediction.limits.maxErrorRate)}`);
    else if (e.position === 'below') notes.push(`${words} is below ${range} (better than predicted)`);
    else notes.push(`${words} is inside ${range}`);
  }
  const l = c.p99Ms;
  if (l.range && l.observed !== null) {
    const words = `p99 ${ms(l.observed)}`;
    const range = `the predicted ${ms(l.range.low)} to ${ms(l.range.high)}${why(calibrated.p99Ms)}`;
    if (l.position === 'above')
      above.push(`${words} is above ${range}, within the limit ${ms(prediction.limits.maxP99Ms)}`);
    else if (l.position === 'below') notes.push(`${words} is below ${range} (better than predicted)`);
    else notes.push(`${words} is inside ${range}`);
  }
  return { above, notes };
}

/**
 * The judgement of one analysis held to the prediction (see the header). A red, yellow or
 * inconclusive judgement keeps its verdict and gains the comparison as reasons; a green one
 * turns yellow when a metric is worse than predicted or the stage's risk is not low. The
 * reason that decides comes first: the policy uses reasons[0] as the pause reason.
 */
export function classifyStage(judgement: CombinedJudgement, prediction: StagePrediction): PredictedJudgement {
  const c = compareStage(judgement.canary, prediction, judgement.baseline);
  const { above, notes } = describe(c, prediction);
  const comparison = [...above, ...notes];
  const base = { ...judgement, judgedVerdict: judgement.verdict, prediction: c };
  if (judgement.verdict !== 'green') return { ...base, reasons: [...judgement.reasons, ...comparison] };
  if (above.length > 0) {
    return {
      ...base,
      verdict: 'yellow',
      reasons: [`outside the prediction: ${above.join('; ')}`, ...notes, ...judgement.reasons],
    };
  }
  if (!c.riskLow) {
    const why =
      `the prediction expects stage ${c.stage + 1} to breach a limit (P = ${prob(c.breachProbability)}): ` +
      'risk not low, looking more often';
    return { ...base, verdict: 'yellow', reasons: [why, ...comparison, ...judgement.reasons] };
  }
  return { ...base, reasons: [...judgement.reasons, ...comparison] };
}
