import type { WindowMetrics } from '../analysis/metrics.ts';
import type { StagePrediction } from './model.ts';
import { sig } from '../util/round.ts';
import { compareStage, type StageComparison } from './tiers.ts';

// How well the prediction held: the share of judged stages whose observed values fell inside
// the predicted ranges (every metric that was both predicted and observed). Two-sided, unlike
// the stage classification: a prediction that was too pessimistic is a miss too, since this
// measures calibration. With a 90% range for each of two metrics, a calibrated model scores
// about 0.8. The history keeps it, so a drifting model shows in the trend. Each stage is
// compared at the sample size it was judged on and, like the rollout judged it, with its ranges
// calibrated by the baseline of the same window (tiers.ts compareStage).

/** What a stage record (rollout/result.ts StageRecord) holds that the accuracy needs. */
export interface ObservedStage {
  region: string;
  stage: number;
  weight: number;
  canary: WindowMetrics;
  /** The baseline of the same window, which calibrates the ranges; absent: not calibrated. */
  baseline?: WindowMetrics;
}

export interface StageAccuracy {
  region: string;
  comparison: StageComparison;
  inside: boolean;
}

export interface PredictionAccuracy {
  stages: number;
  inside: number;
  /** inside / stages; null when no stage could be compared. */
  share: number | null;
  details: StageAccuracy[];
  /** Stages that could not be compared, and why. */
  skipped: string[];
}

export function predictionAccuracy(
  predictions: readonly StagePrediction[],
  observed: readonly ObservedStage[],
): PredictionAccuracy {
  const details: StageAccuracy[] = [];
  const skipped: string[] = [];
  for (const o of observed) {
    const p = predictions.find((x) => x.stage === o.stage);
    const where = `${o.region} stage ${o.stage + 1}`;
    if (!p) {
      skipped.push(`${where}: no prediction for this stage`);
      continue;
    }
    if (p.weight !== o.weight) {
      skipped.push(`${where}: weight ${o.weight}% was predicted as ${p.weight}% (another plan)`);
      continue;
    }
    if (o.canary.count === 0) {
      skipped.push(`${where}: no canary request judged`);
      continue;
    }
    const comparison = compareStage(o.canary, p, o.baseline);
    const known = [comparison.errorRate.position, comparison.p99Ms.position].filter((x) => x !== 'unknown');
    details.push({ region: o.region, comparison, inside: known.length > 0 && known.every((x) => x === 'inside') });
  }
  const inside = details.filter((d) => d.inside).length;
  return {
    stages: details.length,
    inside,
    share: details.length === 0 ? null : sig(inside / details.length, 4),
    details,
    skipped,
  };
}
