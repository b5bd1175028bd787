import { beforeAll, describe, expect, it, test } from 'vitest';
import { defaultRolloutPlan, toRolloutPlan } from '../../src/config/rollout.ts';
import { toSimulationScenario } from '../../src/config/simulation.ts';
import type { RolloutPlan } from '../../src/plan/rollout.ts';
import {
  rollbackKind,
  runStudy,
  studyCandidates,
  type CandidateStudy,
  type StudyResult,
} from '../../src/simulate/study.ts';
import { wilsonInterval } from '../../src/analysis/stats.ts';

// The study of issue 13 on a small number of seeds: the same seeds against candidates derived
// from the baseline. 50 seeds keep it about a second; the README's figures are for 1,000.
const synthetic = (plan: RolloutPlan): RolloutPlan => ({
  ...plan,
  analysis: { ...plan.analysis, sources: ['synthetic'] },
});
const plan = synthetic(defaultRolloutPlan());
const scenario = toSimulationScenario(undefined, 'test');

test.each([
  // k, n, low, high: the Wilson score interval at 95% (z = 1.959964).
  [0, 10, 0, 0.2775],
  [10, 10, 0.7225, 1],
  [0, 50, 0, 0.0713],
  [25, 50, 0.3664, 0.6336],
  [1, 1000, 0.0002, 0.0056],
])('wilsonInterval(%i, %i) is %f to %f', (k, n, low, high) => {
  const w = wilsonInterval(k, n);
  expect(w.low).toBeCloseTo(low, 4);
  expect(w.high).toBeCloseTo(high, 4);
});

test('wilsonInterval of no trials says nothing: 0 to 1', () => {
  expect(wilsonInterval(0, 0)).toEqual({ low: 0, high: 1 });
});

// From the controller's own abort cause, not its wording.
test.each([
  ['verdict', 'red'],
  ['pause-budget', 'pause_budget'],
  ['deadline', 'stage_deadline'],
  ['infrastructure', 'other'],
  [null, 'other'],
] as const)('rollbackKind(%j) is %s', (cause, kind) => {
  expect(rollbackKind(cause)).toBe(kind);
});

describe('studyCandidates', () => {
  const byName = (p: RolloutPlan, s = scenario) => Object.fromEntries(studyCandidates(p, s).map((c) => [c.name, c]));

  it("sizes the candidates by the default plan's tolerances (+1 point of errors, +10% + 5 ms)", () => {
    const c = byName(plan);
    expect(Object.keys(c)).toEqual(['identical', 'errors_mild', 'errors_clear', 'latency_mild', 'latency_clear']);
    expect(c.identical?.canary).toEqual({ ...scenario.baseline, version: 'v2' });
    expect(c.errors_mild?.canary).toEqual({ ...scenario.baseline, version: 'v2', errorRate: 0.03 });
    expect(c.errors_clear?.canary.errorRate).toBe(0.11);
    // The tolerated shift of a 20 ms median is 2 + 5 = 7 ms: 2x is 34 ms, 10x is 90 ms.
    expect(c.latency_mild?.canary.latency).toEqual({ medianMs: 34, p99Ms: 136 });
    expect(c.latency_clear?.canary.latency).toEqual({ medianMs: 90, p99Ms: 360 });
    expect(c.latency_clear?.canary.errorRate).toBe(0.01);
  });

  it('puts clearly worse errors over twice the highest stage limit, and never above 1', () => {
    const loose = toRolloutPlan({ limits: { max_error_rate: 0.3 } }, 'test');
    expect(byName(loose).errors_clear?.canary.errorRate).toBe(0.6);
    const failing = toSimulationScenario({ baseline: { error_rate: 0.95 } }, 'test');
    expect(byName(plan, failing).errors_mild?.canary.errorRate).toBe(0.97);
    expect(byName(plan, failing).errors_clear?.canary.errorRate).toBe(1);
  });

  it('probes a plan that tolerates no increase with 1 point of errors and 10% of the median', () => {
    const strict = toRolloutPlan(
      { analysis: { max_error_rate_increase: 0, max_latency_increase_ratio: 0, max_latency_increase_ms: 0 } },
      'test',
    );
    const c = byName(strict);
    expect(c.errors_mild?.canary.errorRate).toBe(0.03);
    expect(c.latency_mild?.canary.latency.medianMs).toBe(24);
    // 10x 10% would be 2x: the floor of a clearly slower candidate.
    expect(c.latency_clear?.canary.latency.medianMs).toBe(40);
  });
});

describe('runStudy over 50 seeds of the default plan', { timeout: 60_000 }, () => {
  const seeds = 50;
  let study: StudyResult;
  const of = (name: string) => study.candidates.find((c) => c.name === name) as CandidateStudy;
  beforeAll(async () => {
    study = await runStudy(plan, scenario, seeds);
  });

  it('rolls back an identical candidate rarely and clearly worse ones nearly always', () => {
    expect(of('identical').rolled_back.share).toBeLessThanOrEqual(0.06);
    expect(study.false_rollback).toEqual(of('identical').rolled_back);
    for (const name of ['errors_clear', 'latency_clear', 'latency_mild']) {
      expect(of(name).rolled_back.share, name).toBeGreaterThanOrEqual(0.95);
    }
    // At twice the tolerance the plan catches some, not all: the point of showing it.
    expect(of('errors_mild').rolled_back.share).toBeGreaterThan(of('identical').rolled_back.share);
  });

  it('keeps every count consistent with the seeds', () => {
    for (const c of study.candidates) {
      const { rolled_back: back, promoted } = c;
      expect(back.count + promoted.count, c.name).toBe(seeds);
      expect(
        Object.values(c.rollback_reasons).reduce((a, b) => a + b, 0),
        c.name,
      ).toBe(back.count);
      expect(back.share).toBeCloseTo(back.count / seeds, 4);
      expect(back.low).toBeLessThanOrEqual(back.share);
      expect(back.high).toBeGreaterThanOrEqual(back.share);
      for (const s of [c.requests, c.canary_requests, c.decision_ms]) {
        expect(s.p50, c.name).not.toBeNull();
        expect(s.p50 as number).toBeLessThanOrEqual(s.p95 as number);
      }
      expect(c.canary_requests.p95 as number).toBeLessThanOrEqual(c.requests.p95 as number);
    }
  });

  it('decides a clearly bad candidate early and with few requests; an identical one goes all the way', () => {
    const identical = of('identical');
    const bad = of('errors_clear');
    expect(bad.rollback_reasons.red).toBeGreaterThan(seeds / 2);
    expect(bad.canary_requests.p50 as number).toBeLessThan((identical.canary_requests.p50 as number) / 4);
    expect(bad.decision_ms.p50 as number).toBeLessThan((identical.decision_ms.p50 as number) / 4);
    // 4 regions x 5 stages of 4 s bake each, at the least.
    expect(identical.decision_ms.p50 as number).toBeGreaterThanOrEqual(80_000);
  });

  it('is deterministic: the same inputs give the same study', async () => {
    const again = await runStudy(plan, scenario, seeds);
    expect(again).toEqual(study);
  });
});

test('runStudy refuses no seeds', async () => {
  await expect(runStudy(plan, scenario, 0)).rejects.toThrow(RangeError);
});
