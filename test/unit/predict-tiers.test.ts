import { describe, expect, it } from 'vitest';
import { combineJudgement, type CombinedJudgement } from '../../src/analysis/combine.ts';
import { judge } from '../../src/analysis/judge.ts';
import { defaultRolloutPlan, toRolloutPlan } from '../../src/config/rollout.ts';
import { fitProfiles, JEFFREYS_PRIOR, predictStage, rangesAt, stageLoads } from '../../src/predict/model.ts';
import { applyTiers, compareStage, recommendAction, type TierPolicy } from '../../src/predict/tiers.ts';
import { classifyStage } from '../../src/rollout/classify.ts';
import { stageRates } from '../../src/plan/rollout.ts';
import { decide } from '../../src/rollout/policy.ts';
import { judgeOptions } from '../../src/rollout/step.ts';
import { makeWindow } from './observations.ts';
import { measurement } from './predict-fixtures.ts';

const plan = defaultRolloutPlan();
const limits = plan.stages[0]!.limits; // 5%, 500 ms
const policy: TierPolicy = { maxRisk: 50, onHighRisk: 'small_tiers', smallTiers: [0.1, 0.5] };

/** Stage 1 of the default plan (60 requests) predicted from `errors` of 1,000 pre-flight requests. */
function stagePrediction(errors: number) {
  const profiles = fitProfiles([measurement({ profile: 'nominal', rps: 15, canary: { errors, count: 1000 } }, 3)]);
  return predictStage(profiles, JEFFREYS_PRIOR, stageLoads(plan)[0]!, 42, 500);
}

function judged(canary: ReturnType<typeof makeWindow>): CombinedJudgement {
  const baseline = makeWindow('baseline', { n: 200, errors: 2, latency: (i) => 15 + (i % 10) });
  return combineJudgement(
    judge(canary, baseline, limits, judgeOptions(plan.analysis)),
    limits,
    [],
    ['synthetic'],
    canary,
  );
}

describe('what the risk score does to the rollout', () => {
  it('proceeds at or below max_risk', () => {
    expect(recommendAction(50, plan, policy)).toMatchObject({ action: 'proceed', weights: [1, 5, 25, 50, 100] });
  });

  it('small_tiers: prepends 0.1% and 0.5% before the first stage', () => {
    const r = recommendAction(64.4, plan, policy);
    expect(r).toMatchObject({ action: 'small-tiers', weights: [0.1, 0.5, 1, 5, 25, 50, 100] });
    expect(r.reason).toBe(
      'risk 64.4 is above max_risk 50 and on_high_risk is small_tiers: starting with 0.1%, 0.5% before 1%',
    );
  });

  it('close: the gate closes without rolling out', () => {
    expect(recommendAction(80, plan, { ...policy, onHighRisk: 'close' })).toMatchObject({
      action: 'close',
      weights: [],
    });
  });

  it('a rolling rollout has no tiers to shrink: closes', () => {
    const rolling = toRolloutPlan({ strategy: 'rolling' }, 'x');
    expect(recommendAction(80, rolling, policy).reason).toMatch(/rolling rollout has no tiers to make smaller/);
  });

  it('only tiers below the first stage are added', () => {
    const fromHalf = toRolloutPlan({ stages: [{ weight: 0.5 }, { weight: 100 }] }, 'x');
    expect(recommendAction(80, fromHalf, policy).weights).toEqual([0.1, 0.5, 100]);
  });

  it('applyTiers: the small stages take the first stage bake and limits; the plan stays frozen and judgeable', () => {
    const run = applyTiers(plan, recommendAction(80, plan, policy));
    expect(run.stages.map((s) => s.weight)).toEqual([0.1, 0.5, 1, 5, 25, 50, 100]);
    expect(run.stages[0]).toEqual({ ...plan.stages[0], weight: 0.1 });
    expect(Object.isFrozen(run) && Object.isFrozen(run.stages) && Object.isFrozen(run.stages[0])).toBe(true);
    // A 0.1% stage still collects min_samples: the floor tops the canary up to 15 rps.
    expect(stageRates(run, 0).canary).toBe(15);
    expect(applyTiers(plan, recommendAction(10, plan, policy))).toBe(plan);
  });
});

describe('green, yellow, red against the prediction', () => {
  it('green: within the limits and inside the predicted ranges', () => {
    const p = stagePrediction(10);
    const canary = makeWindow('canary', { n: 60, latency: (i) => (i === 0 ? p.p99Ms!.expected : 15 + (i % 10)) });
    const j = classifyStage(judged(canary), p);
    expect(j.verdict).toBe('green');
    expect(j.prediction.errorRate.position).toBe('inside');
    expect(j.prediction.p99Ms.position).toBe('inside');
    expect(j.reasons.at(-1)).toMatch(/^p99 .* is inside the predicted/);
  });

  it('yellow: one error in 60 is within the 5% limit but above the predicted 0% (0 errors in 1,000 before)', () => {
    const p = stagePrediction(0);
    expect(p.errorRate.high).toBe(0);
    const canary = makeWindow('canary', {
      n: 60,
      errors: 1,
      latency: (i) => (i === 0 ? p.p99Ms!.expected : 15 + (i % 10)),
    });
    const base = judged(canary);
    expect(base.verdict).toBe('green');
    const j = classifyStage(base, p);
    expect(j.verdict).toBe('yellow');
    expect(j.judgedVerdict).toBe('green');
    expect(j.reasons[0]).toBe(
      'outside the prediction: error rate 1.7% of 60 requests is above the predicted 0% to 0%, within the limit 5%',
    );
    // The policy pauses with that reason and looks twice as often.
    const d = decide({
      paused: false,
      judgement: j,
      stage: plan.stages[0]!,
      analysis: plan.analysis,
      clock: { stageStartedAt: 0, now: 2000, pausedMs: 0 },
    });
    expect(d.event).toEqual({ type: 'PAUSE', reason: j.reasons[0], at: 2000 });
    expect(d.nextAnalysisInMs).toBe(500);
  });

  it('yellow: a slow p99 above the predicted range but under max_p99_ms', () => {
    const p = stagePrediction(10);
    const canary = makeWindow('canary', { n: 60, latency: (i) => (i === 0 ? 400 : 15 + (i % 10)) });
    const j = classifyStage(judged(canary), p);
    expect(j.verdict).toBe('yellow');
    expect(j.reasons[0]).toMatch(
      /^outside the prediction: p99 400 ms is above the predicted .* within the limit 500 ms$/,
    );
  });

  it('red: a breached limit stays red (roll back at once), with the comparison added', () => {
    const p = stagePrediction(10);
    const j = classifyStage(judged(makeWindow('canary', { n: 60, errors: 20 })), p);
    expect(j.verdict).toBe('red');
    expect(j.reasons[0]).toMatch(/^error rate 33\.3% \(20 of 60\) is above the limit 5%/);
    expect(j.reasons).toContain(
      'error rate 33.3% of 60 requests is above the predicted 0% to 3.3%, within the limit 5%',
    );
    const d = decide({
      paused: false,
      judgement: j,
      stage: plan.stages[0]!,
      analysis: plan.analysis,
      clock: { stageStartedAt: 0, now: 1000, pausedMs: 0 },
    });
    expect(d.event).toMatchObject({ type: 'ABORT' });
  });

  it('yellow: the stage risk is not low (the prediction expects a breach), even with clean traffic', () => {
    const p = stagePrediction(80); // 8% errors before: P(true rate > 5%) ~ 1
    const j = classifyStage(judged(makeWindow('canary', { n: 60, latency: (i) => 15 + (i % 10) })), p);
    expect(j.prediction.riskLow).toBe(false);
    expect(j.verdict).toBe('yellow');
    expect(j.reasons[0]).toBe(
      'the prediction expects stage 1 to breach a limit (P = >99.99%): risk not low, looking more often',
    );
    expect(j.reasons).toContain(
      'error rate 0% of 60 requests is below the predicted 3.3% to 15% (better than predicted)',
    );
  });

  it('inconclusive stays inconclusive', () => {
    const j = classifyStage(judged(makeWindow('canary', { n: 10 })), stagePrediction(10));
    expect(j.verdict).toBe('inconclusive');
  });

  it('compares at the observed sample size, not the planned one', () => {
    const p = stagePrediction(10);
    const c = compareStage({ count: 35, errors: 1, errorRate: 1 / 35, p50Ms: 20, p95Ms: 30, p99Ms: 40 }, p);
    expect(c.requests).toBe(35);
    expect(c.errorRate.range).toEqual(rangesAt(p.model, 35, 34).errorRate);
    expect(c.errorRate.position).toBe('inside'); // 1 of 35 is within what 35 requests may show
  });
});
