import { describe, expect, it, test } from 'vitest';
import type { Verdict } from '../../src/analysis/judge.ts';
import { decide, type PolicyInput } from '../../src/rollout/policy.ts';

// bake 4 s, interval 1 s, pause budget 10 s, stage deadline 30 s; the stage started at t = 0.
const analysis = { intervalSeconds: 1, pauseBudgetSeconds: 10, stageDeadlineSeconds: 30 };
const input = (verdict: Verdict, now: number, opts: { paused?: boolean; pausedMs?: number } = {}): PolicyInput => ({
  paused: opts.paused ?? false,
  judgement: { verdict, reasons: [`${verdict} reason`, 'second reason'] },
  stage: { bakeSeconds: 4 },
  analysis,
  clock: { stageStartedAt: 0, now, pausedMs: opts.pausedMs ?? 0 },
});

describe('decide', () => {
  test.each([
    // verdict, now, paused, pausedMs, event, next analysis in ms
    ['green', 1000, false, 0, 'wait', 1000],
    ['green', 3500, false, 0, 'wait', 500], // the rest of the bake
    ['green', 4000, false, 0, 'STAGE_PASSED', 1000],
    ['green', 6000, false, 3000, 'wait', 1000], // paused time is not baking: 3 s of 4
    ['green', 7000, false, 3000, 'STAGE_PASSED', 1000],
    ['green', 5000, true, 2000, 'RESUME', 1000],
    ['green', 5000, true, 1500, 'RESUME', 500], // then the rest of the bake (3.5 s baked)
    ['yellow', 2000, false, 0, 'PAUSE', 500], // analyse twice as often
    ['yellow', 5000, true, 3000, 'wait', 500],
    ['yellow', 12_000, true, 9800, 'wait', 200], // the next look is when the budget ends
    ['yellow', 12_000, true, 10_000, 'ABORT', 0], // pause budget spent
    ['inconclusive', 12_000, true, 10_000, 'ABORT', 0],
    ['inconclusive', 1000, false, 0, 'wait', 1000],
    ['inconclusive', 8000, false, 0, 'wait', 1000], // bake over, still waiting for data
    ['inconclusive', 29_500, false, 0, 'wait', 500], // up to the deadline
    ['inconclusive', 30_000, false, 0, 'ABORT', 0], // stage deadline
    ['yellow', 30_000, false, 0, 'ABORT', 0],
    ['green', 30_000, true, 28_000, 'ABORT', 0], // deadline wins over RESUME
    ['green', 30_000, false, 0, 'STAGE_PASSED', 1000], // ... but never over a pass
    ['red', 500, false, 0, 'ABORT', 0], // red: at once, even before min data
    ['red', 5000, true, 1000, 'ABORT', 0],
  ] as const)('%s at %d ms (paused %s, %d ms) -> %s, next in %d ms', (verdict, now, paused, pausedMs, event, next) => {
    const d = decide(input(verdict, now, { paused, pausedMs }));
    expect(d.event === 'wait' ? 'wait' : d.event.type).toBe(event);
    expect(d.nextAnalysisInMs).toBe(next);
    expect(d.why.length).toBeGreaterThan(0);
  });

  it('a PAUSE carries the reason and the time', () => {
    expect(decide(input('yellow', 2000)).event).toEqual({ type: 'PAUSE', reason: 'yellow reason', at: 2000 });
  });

  it('an ABORT says why, in words and as its typed cause', () => {
    expect(decide(input('red', 500)).event).toEqual({
      type: 'ABORT',
      reason: 'red verdict: red reason',
      cause: 'verdict',
    });
    expect(decide(input('yellow', 12_000, { paused: true, pausedMs: 10_000 })).event).toEqual({
      type: 'ABORT',
      reason: 'pause budget of 10 s spent and still yellow: yellow reason',
      cause: 'pause-budget',
    });
    expect(decide(input('inconclusive', 30_000)).event).toEqual({
      type: 'ABORT',
      reason: 'stage deadline of 30 s passed: inconclusive reason',
      cause: 'deadline',
    });
    expect(decide(input('green', 30_000, { paused: true, pausedMs: 28_000 })).event).toEqual({
      type: 'ABORT',
      reason: 'stage deadline of 30 s passed: still green',
      cause: 'deadline',
    });
  });

  it('a pause budget of 0 aborts at the first analysis after the pause', () => {
    const zero = {
      ...input('yellow', 2500, { paused: true, pausedMs: 500 }),
      analysis: { ...analysis, pauseBudgetSeconds: 0 },
    };
    expect(decide(zero).event).toMatchObject({ type: 'ABORT' });
  });

  it('always moves the clock forward by at least 1 ms', () => {
    const d = decide(input('green', 3999.9999));
    expect(d.nextAnalysisInMs).toBeGreaterThanOrEqual(1);
  });
});

describe('decide: a yellow from the prediction alone', () => {
  const predicted = (now: number, paused: boolean, pausedMs: number, judgedVerdict: Verdict): PolicyInput => ({
    ...input('yellow', now, { paused, pausedMs }),
    judgement: {
      verdict: 'yellow',
      judgedVerdict,
      reasons: ['outside the prediction: p99 47 ms is above the predicted 9 ms to 21 ms'],
    },
  });

  it('pauses and analyses more often, like any yellow, while the pause budget lasts', () => {
    expect(decide(predicted(2000, false, 0, 'green')).event).toMatchObject({ type: 'PAUSE' });
    expect(decide(predicted(5000, true, 3000, 'green'))).toMatchObject({ event: 'wait', nextAnalysisInMs: 500 });
  });

  it('resumes once the budget is spent, saying why, instead of rolling back', () => {
    const d = decide(predicted(12_000, true, 10_000, 'green'));
    expect(d.event).toEqual({ type: 'RESUME' });
    expect(d.why).toContain(
      'still outside the prediction after the 10 s pause budget, but within the limits and no worse than the baseline',
    );
  });

  it('then passes the stage once baked, though still outside the prediction', () => {
    expect(decide(predicted(14_500, false, 10_000, 'green')).event).toEqual({ type: 'STAGE_PASSED' });
    expect(decide(predicted(13_000, false, 10_000, 'green')).event).toBe('wait');
  });

  it('still rolls back a yellow the limits or the baseline comparison gave, prediction or not', () => {
    expect(decide(predicted(12_000, true, 10_000, 'yellow')).event).toMatchObject({ type: 'ABORT' });
  });
});
