import { describe, expect, it } from 'vitest';
import { combineJudgement, type CheckRecord } from '../../src/analysis/combine.ts';
import { judge } from '../../src/analysis/judge.ts';
import { defaultRolloutPlan } from '../../src/config/rollout.ts';
import { timeToDetect } from '../../src/rollout/detect.ts';
import { judgeOptions } from '../../src/rollout/step.ts';
import { makeWindow } from './observations.ts';

// Time to detect is "from the first breach of a limit to the verdict that aborted". Under the
// old live definition (the canary's first failed request since it started in the region) the
// p99, Prometheus and pause-budget cases below had no time to detect at all (no request failed).

const plan = defaultRolloutPlan(); // limits: 5% errors, p99 500 ms; alpha 0.05, min samples 30
const limits = plan.stages[0]!.limits;
const options = judgeOptions(plan.analysis);
const baseline = makeWindow('baseline', { n: 100, start: 10_000 });
const promRed: CheckRecord = {
  source: 'prometheus',
  name: 'latency_p99_seconds',
  query: 'histogram_quantile(0.99, ...)',
  value: 0.9,
  min: null,
  max: 0.5,
  samples: 1,
  verdict: 'red',
  reason: 'latency_p99_seconds 0.9 is above 0.5',
};

describe('timeToDetect', () => {
  it('a p99 red without errors: from the first request slower than the limit', () => {
    // 40 requests from t=10 s, one every 100 ms, all successful; from the 6th on, 900 ms.
    const canary = makeWindow('canary', { n: 40, start: 10_000, latency: (i) => (i >= 5 ? 900 : 20) });
    const j = judge(canary, baseline, limits, options);
    expect(j.verdict).toBe('red');
    expect(j.canary.errors).toBe(0);
    expect(timeToDetect({ judgement: j, firstPauseAt: null, windowStart: 10_000, now: 14_000 })).toBe(14_000 - 10_500);
  });

  it('an error red: from the first failed request of the judged window', () => {
    const canary = makeWindow('canary', { n: 40, start: 10_000, errorAt: (i) => i >= 10 });
    const j = judge(canary, baseline, limits, options);
    expect(j.verdict).toBe('red');
    expect(timeToDetect({ judgement: j, firstPauseAt: null, windowStart: 10_000, now: 14_000 })).toBe(3000);
  });

  it("a red only Prometheus saw, with canary requests: from the window's first canary request (combine.ts)", () => {
    const canary = makeWindow('canary', { n: 40, start: 10_000 });
    const j = combineJudgement(
      judge(canary, baseline, limits, options),
      limits,
      [promRed],
      ['synthetic', 'prometheus'],
      canary,
    );
    expect(j.verdict).toBe('red');
    expect(timeToDetect({ judgement: j, firstPauseAt: null, windowStart: 9_000, now: 14_000 })).toBe(4000);
  });

  it('a red only Prometheus saw, with no canary request recorded: from the start of the analysis window', () => {
    const j = combineJudgement(judge([], baseline, limits, options), limits, [promRed], ['prometheus'], []);
    expect(j.verdict).toBe('red');
    expect(j.evidenceSince).toBeNull();
    expect(timeToDetect({ judgement: j, firstPauseAt: null, windowStart: 9_000, now: 14_000 })).toBe(5000);
  });

  it("a spent pause budget: from the stage's first pause, as the simulation measures it", () => {
    const j = { verdict: 'yellow' as const, evidenceSince: null };
    expect(timeToDetect({ judgement: j, firstPauseAt: 12_000, windowStart: 10_000, now: 22_500 })).toBe(10_500);
  });

  it('nothing breached, nothing detected: inconclusive at the deadline, or yellow that never paused', () => {
    expect(
      timeToDetect({
        judgement: { verdict: 'inconclusive', evidenceSince: null },
        firstPauseAt: 12_000,
        windowStart: 0,
        now: 30_000,
      }),
    ).toBeNull();
    expect(
      timeToDetect({
        judgement: { verdict: 'yellow', evidenceSince: null },
        firstPauseAt: null,
        windowStart: 0,
        now: 30_000,
      }),
    ).toBeNull();
    expect(
      timeToDetect({
        judgement: { verdict: 'green', evidenceSince: null },
        firstPauseAt: null,
        windowStart: 0,
        now: 30_000,
      }),
    ).toBeNull();
  });
});
