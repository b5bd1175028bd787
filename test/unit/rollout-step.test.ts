import { describe, expect, it } from 'vitest';
import { defaultRolloutPlan } from '../../src/config/rollout.ts';
import { currentRegion, initialState, transition, type RolloutState } from '../../src/rollout/machine.ts';
import { stageCount, stageRates } from '../../src/plan/rollout.ts';
import { judgeOptions, step } from '../../src/rollout/step.ts';
import { makeWindow } from './observations.ts';

const plan = defaultRolloutPlan(); // bake 4 s, interval 1 s, min samples 30, pause budget 10 s
const started = transition(initialState(plan.regions, stageCount(plan)), { type: 'START' });
const spread = (i: number) => 10 + ((i * 7) % 20);
const good = makeWindow('canary', { n: 60, latency: spread });
const baseline = makeWindow('baseline', { n: 160, latency: spread });
const slow = makeWindow('canary', { n: 60, latency: (i) => 2 * spread(i) });

describe('step', () => {
  it('waits while the stage bakes, and keeps state and timing', () => {
    const timing = { startedAt: 0, pausedMs: 0 };
    const r = step({ plan, state: started, timing, now: 2000, canary: good, baseline });
    expect(r.judgement.verdict).toBe('green');
    expect(r.event).toBeNull();
    expect(r.state).toBe(started);
    expect(r.timing).toBe(timing);
    expect(r.decision.nextAnalysisInMs).toBe(1000);
  });

  it('passes the stage after the bake and starts the next one now', () => {
    const r = step({ plan, state: started, timing: { startedAt: 0, pausedMs: 0 }, now: 4000, canary: good, baseline });
    expect(r.event).toEqual({ type: 'STAGE_PASSED' });
    expect(r.state).toMatchObject({ kind: 'CANARY', stage: 1 });
    expect(r.timing).toEqual({ startedAt: 4000, pausedMs: 0 });
  });

  it('pauses on yellow, counts the pause when resuming, and the pause does not count as baking', () => {
    const paused = step({
      plan,
      state: started,
      timing: { startedAt: 0, pausedMs: 0 },
      now: 2000,
      canary: slow,
      baseline,
    });
    expect(paused.judgement.verdict).toBe('yellow');
    expect(paused.state).toMatchObject({ kind: 'PAUSED', pausedAt: 2000 });
    const resumed = step({ plan, state: paused.state, timing: paused.timing, now: 3500, canary: good, baseline });
    expect(resumed.event).toEqual({ type: 'RESUME' });
    expect(resumed.timing).toEqual({ startedAt: 0, pausedMs: 1500 });
    // 5 s after the start, of which 1.5 s paused: 3.5 s baked, not yet 4.
    const later = step({ plan, state: resumed.state, timing: resumed.timing, now: 5000, canary: good, baseline });
    expect(later.event).toBeNull();
    expect(later.decision.nextAnalysisInMs).toBe(500);
  });

  it('aborts when the pause budget is spent, counting the ongoing pause', () => {
    const paused = transition(started, { type: 'PAUSE', reason: 'slow', at: 2000 });
    const r = step({ plan, state: paused, timing: { startedAt: 0, pausedMs: 0 }, now: 12_000, canary: slow, baseline });
    expect(r.event).toMatchObject({ type: 'ABORT' });
    expect(r.state).toMatchObject({ kind: 'ROLLING_BACK', failedRegion: 'us-west', touched: ['us-west'] });
  });

  it('at the deadline without enough data, the abort says how many requests were missing and how long they take', () => {
    const rates = stageRates(plan, 0);
    expect(rates.canary).toBe(15); // the floor: 2 x min_samples per bake of 4 s
    const few = makeWindow('canary', { n: 12, latency: spread });
    const timing = { startedAt: 0, pausedMs: 0 };
    const r = step({ plan, state: started, timing, now: 30_000, canary: few, baseline, rates });
    expect(r.event).toEqual({
      type: 'ABORT',
      cause: 'deadline',
      reason:
        'stage deadline of 30 s passed: not enough data: 12 of 30 canary requests; 18 more needed, ' +
        'about 1.2 s at 15 canary requests/s',
    });
  });

  it('refuses states without a canary stage', () => {
    const pending = initialState(plan.regions, 5);
    expect(() =>
      step({ plan, state: pending, timing: { startedAt: 0, pausedMs: 0 }, now: 0, canary: [], baseline: [] }),
    ).toThrow(/PENDING/);
  });

  it('passes the plan analysis settings to the judge', () => {
    expect(judgeOptions(plan.analysis)).toEqual({
      minSamples: 30,
      alpha: 0.05,
      maxErrorRateIncrease: 0.01,
      maxLatencyIncreaseRatio: 0.1,
      maxLatencyIncreaseMs: 5,
    });
  });
});

describe('stageRates', () => {
  it('splits the traffic by weight and tops the small cohort up to twice min_samples per bake', () => {
    // floor = 2 * 30 / 4 s = 15 rps
    expect(stageRates(plan, 0)).toEqual({ canary: 15, baseline: 39.6 });
    expect(stageRates(plan, 3)).toEqual({ canary: 20, baseline: 20 });
    // At 100% the baseline keeps the floor: a reference beside the candidate, not traffic it serves.
    expect(stageRates(plan, 4)).toEqual({ canary: 40, baseline: 15 });
    expect(() => stageRates(plan, 5)).toThrow(RangeError);
  });
});

describe('currentRegion', () => {
  it('names the region a state is about', () => {
    const states: [RolloutState, string | undefined][] = [
      [initialState(['a'], 1), undefined],
      [started, 'us-west'],
      [transition(started, { type: 'ABORT', reason: 'x', cause: 'other' }), 'us-west'],
    ];
    for (const [state, region] of states) expect(currentRegion(state)).toBe(region);
  });
});
