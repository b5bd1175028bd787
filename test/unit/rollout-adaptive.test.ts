import { describe, expect, it } from 'vitest';
import { defaultRolloutPlan, toRolloutPlan } from '../../src/config/rollout.ts';
import { fitProfiles, JEFFREYS_PRIOR, predictStage, stageLoads } from '../../src/predict/model.ts';
import { initialState, transition } from '../../src/rollout/machine.ts';
import { stageCount, stageRates } from '../../src/plan/rollout.ts';
import { step } from '../../src/rollout/step.ts';
import { makeWindow } from './observations.ts';
import { measurement } from './predict-fixtures.ts';

// Adaptive tiers inside step(): the same observations are judged against the limits alone,
// or also against the stage's prediction.
const plan = defaultRolloutPlan();
const started = transition(initialState(plan.regions, stageCount(plan)), { type: 'START' });
const baseline = makeWindow('baseline', { n: 200, errors: 2, latency: (i) => 15 + (i % 10) });
const timing = { startedAt: 0, pausedMs: 0 };

function predictedFrom(errors: number) {
  const profiles = fitProfiles([measurement({ profile: 'nominal', rps: 15, canary: { errors, count: 1000 } }, 3)]);
  return predictStage(profiles, JEFFREYS_PRIOR, stageLoads(plan)[0]!, 42, 500);
}

describe('step with a stage prediction', () => {
  // One error in 60 (1.7%) is within the 5% limit and not significantly worse than stable's
  // 1%, so the limits alone say green; a pre-flight of 0 errors in 1,000 predicts 0%.
  const canary = makeWindow('canary', { n: 60, errors: 1, latency: (i) => 15 + (i % 10) });

  it('without a prediction the limits alone decide: green, baking', () => {
    const r = step({ plan, state: started, timing, now: 2000, canary, baseline });
    expect(r.judgement.verdict).toBe('green');
    expect(r.event).toBeNull();
    expect(r.comparison).toBeUndefined();
  });

  it('worse than the predicted range but within the limits: yellow, PAUSE with the prediction as the reason', () => {
    const r = step({ plan, state: started, timing, now: 2000, canary, baseline, prediction: predictedFrom(0) });
    expect(r.judgement.verdict).toBe('yellow');
    expect(r.event).toMatchObject({ type: 'PAUSE' });
    expect(r.state.kind).toBe('PAUSED');
    expect(r.judgement.reasons[0]).toMatch(/^outside the prediction: error rate/);
    expect(r.comparison).toMatchObject({ stage: 0, requests: 60, errorRate: { position: 'above' } });
  });

  it('inside the predicted range and risk low: green, and the comparison is carried', () => {
    const r = step({ plan, state: started, timing, now: 4000, canary, baseline, prediction: predictedFrom(20) });
    expect(r.judgement.verdict).toBe('green');
    expect(r.event).toEqual({ type: 'STAGE_PASSED' });
    expect(r.comparison?.errorRate.position).toBe('inside');
  });

  it('a red verdict stays red whatever the prediction says', () => {
    const failing = makeWindow('canary', { n: 40, errors: 40 });
    const r = step({
      plan,
      state: started,
      timing,
      now: 1000,
      canary: failing,
      baseline,
      prediction: predictedFrom(0),
    });
    expect(r.event).toMatchObject({ type: 'ABORT' });
    expect(r.comparison?.errorRate.position).toBe('above');
  });
});

describe('stages as small as 0.1%', () => {
  it('are valid configuration and are topped up to the min_samples floor, so they are judged within the bake', () => {
    const small = toRolloutPlan({ stages: [{ weight: 0.1 }, { weight: 0.5 }, { weight: 100 }] }, 'chaos-gate.yml');
    expect(small.stages.map((s) => s.weight)).toEqual([0.1, 0.5, 100]);
    // 40 rps x 0.1% = 0.04 rps; the floor is 2 x 30 samples / 4 s bake = 15 rps.
    expect(stageRates(small, 0)).toEqual({ canary: 15, baseline: 39.96 });
    expect(stageRates(small, 0).canary * small.stages[0]!.bakeSeconds).toBeGreaterThanOrEqual(
      small.analysis.minSamples,
    );
  });
});
