import { describe, expect, it } from 'vitest';
import type { ExperimentResult } from '../../src/chaos/result.ts';
import { defaultRolloutPlan } from '../../src/config/rollout.ts';
import type { FailureHistory } from '../../src/predict/priors.ts';
import { fitProfiles, JEFFREYS_PRIOR, predictStage, stageLoads } from '../../src/predict/model.ts';
import type { PreflightMeasurement } from '../../src/predict/preflight.ts';
import { assessRisk, degradationEvidence, RISK_WEIGHTS, type RiskInput } from '../../src/predict/risk.ts';
import { measurement, preflightAt } from './predict-fixtures.ts';

const plan = defaultRolloutPlan();
const NO_HISTORY: FailureHistory = { runs: 0, failed: 0, byRegion: {}, versions: [] };

function riskOf(preflight: PreflightMeasurement[], extra: Partial<RiskInput> = {}) {
  const profiles = fitProfiles(preflight);
  const stages = stageLoads(plan).map((l) => predictStage(profiles, JEFFREYS_PRIOR, l, 42, 300));
  return assessRisk({
    analysis: plan.analysis,
    regions: plan.regions,
    profiles,
    prior: JEFFREYS_PRIOR,
    stages,
    preflightRegions: ['us-west'],
    history: NO_HISTORY,
    experiments: [],
    maxRisk: 50,
    ...extra,
  });
}

function experiment(
  name: string,
  kind: string,
  status: ExperimentResult['status'],
  targets: string[],
): ExperimentResult {
  return {
    name,
    description: '',
    fault: { kind, method: 'test', params: {} },
    targets,
    status,
    startedAt: '2025-01-01T00:00:00.000Z',
    durationMs: 1000,
    faultWindow: { fromMs: 0, toMs: 1 },
    windows: [],
    series: [],
    recoveryTimeSeconds: null,
    acknowledgedWritesLost: 0,
    reverted: true,
    measurements: [
      {
        name: 'recovery_time_seconds',
        value: status === 'FAIL' ? 22 : 3,
        threshold: 15,
        comparator: '<=',
        unit: 's',
        pass: status !== 'FAIL',
      },
    ],
  };
}

describe('risk score', () => {
  it('a healthy candidate (1% errors like stable, p99 80 ms against 500) scores low: 3.7', () => {
    const r = riskOf(preflightAt(0.01));
    expect(r.score).toBe(3.7);
    expect(r.level).toBe('low');
    expect(r.components.find((c) => c.name === 'error_limit')!.value).toBeLessThan(1e-4);
  });

  it('a candidate failing 80% of its requests scores 100, all of it the error limit at stage 1', () => {
    const r = riskOf(preflightAt(0.8));
    expect(r.score).toBe(100);
    expect(r.level).toBe('high');
    expect(r.failurePoints[0]).toMatchObject({
      component: 'error_limit',
      region: 'us-west',
      metric: 'error_rate',
      stage: 0,
      points: 100,
    });
    expect(r.failurePoints[0]!.explanation).toMatch(/would breach the limit 5% at stage 1 \(1%\) of us-west/);
  });

  it('is monotone in the candidate error rate', () => {
    const rates = [0, 0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.07, 0.1, 0.2, 0.5, 0.8];
    const scores = rates.map((rate) => riskOf(preflightAt(rate)).score);
    for (let i = 1; i < scores.length; i++) expect(scores[i]).toBeGreaterThanOrEqual(scores[i - 1] as number);
    // 3% (3x stable) is a degradation the judge would pause on; 5% sits on the limit.
    expect(scores[rates.indexOf(0.03)]).toBeGreaterThan(20);
    expect(scores[rates.indexOf(0.05)]).toBeGreaterThan(50);
  });

  it('points add up to the score, and the score is the noisy OR of the components', () => {
    const r = riskOf(preflightAt(0.03));
    const sum = r.components.reduce((s, c) => s + c.points, 0);
    expect(Math.abs(sum - r.score)).toBeLessThan(0.3); // each rounded to 0.1
    const product = r.components.reduce((p, c) => p * (1 - c.weight * c.value), 1);
    expect(r.score).toBeCloseTo(100 * (1 - product), 0);
  });

  it('a slow candidate breaches the p99 limit: latency_limit', () => {
    const r = riskOf(preflightAt(0.01, { medianMs: 200, p99Ms: 900 }));
    expect(r.components.find((c) => c.name === 'latency_limit')!.value).toBeGreaterThan(0.99);
    expect(r.failurePoints[0]).toMatchObject({ metric: 'latency_p99_ms', stage: 0 });
  });

  it('latency degradation at peak load only is found and named by its profile', () => {
    const pre = [
      measurement(
        { profile: 'low', rps: 10, canary: { errors: 1, count: 400 }, baseline: { errors: 1, count: 400 } },
        1,
      ),
      measurement(
        {
          profile: 'peak',
          rps: 80,
          canary: { errors: 1, count: 400, medianMs: 40, p99Ms: 160 },
          baseline: { errors: 1, count: 400 },
        },
        2,
      ),
    ];
    const r = riskOf(pre);
    const d = r.components.find((c) => c.name === 'degradation')!;
    expect(d.value).toBeGreaterThan(0.99);
    expect(d.explanation).toMatch(/median .* at peak \(80 rps\)/);
  });

  it('counts degradation only beyond even odds: ignorance is the uncertainty component', () => {
    expect(degradationEvidence(0.3)).toBe(0);
    expect(degradationEvidence(0.5)).toBe(0);
    expect(degradationEvidence(0.75)).toBe(0.5);
    expect(degradationEvidence(1)).toBe(1);
  });

  it('a small pre-flight raises the score through uncertainty', () => {
    const small = [
      measurement(
        { profile: 'nominal', rps: 40, canary: { errors: 0, count: 30 }, baseline: { errors: 0, count: 30 } },
        1,
      ),
    ];
    const r = riskOf(small);
    const u = r.components.find((c) => c.name === 'uncertainty')!;
    expect(u.value).toBe(1);
    expect(r.score).toBeGreaterThan(riskOf(preflightAt(0.01)).score);
  });

  it('history: failed earlier rollouts add points, by the region they failed in', () => {
    const history: FailureHistory = {
      runs: 10,
      failed: 4,
      byRegion: { 'eu-west': 3, 'us-east': 1 },
      versions: ['v7', 'v8', 'v9', 'v10'],
    };
    const r = riskOf(preflightAt(0.01), { history });
    const h = r.components.find((c) => c.name === 'history')!;
    expect(h.value).toBe(0.4);
    expect(h.explanation).toBe('4 of the last 10 rollout(s) were rolled back or failed (v8, v9, v10)');
    const points = r.failurePoints.filter((f) => f.component === 'history');
    expect(points.map((f) => f.region)).toEqual(['eu-west', 'us-east']);
    expect(points[0]!.points).toBeGreaterThan(points[1]!.points);
  });

  it('experiments: a failed one points at its region, metric and failure class; ERROR does not count', () => {
    const experiments = [
      experiment('database-failure', 'db_unavailable', 'FAIL', ['eu-west']),
      experiment('cpu-spike', 'cpu', 'PASS', ['us-east']),
      experiment('network-latency', 'latency', 'ERROR', ['us-west']),
    ];
    const r = riskOf(preflightAt(0.01), {
      experiments,
      dependencies: { 'us-west': ['us-west-data'], 'eu-west': ['eu-west-data'] },
    });
    const e = r.components.find((c) => c.name === 'experiments')!;
    expect(e.value).toBe(0.5);
    const point = r.failurePoints.find((f) => f.component === 'experiments')!;
    expect(point).toMatchObject({
      region: 'eu-west',
      metric: 'error_rate',
      experiment: 'database-failure',
      failureClass: 'database dependency',
    });
    expect(point.explanation).toMatch(/missed recovery_time_seconds 22 \(<= 15\); eu-west-data serves eu-west alone/);
  });

  it('the soft components alone stay below the default max_risk of 50', () => {
    const soft = ['uncertainty', 'history', 'experiments'] as const;
    const max = 100 * (1 - soft.reduce((p, n) => p * (1 - RISK_WEIGHTS[n]), 1));
    expect(max).toBeLessThan(50);
    // A healthy candidate after nothing but failed rollouts and failed experiments.
    const r = riskOf(preflightAt(0.01), {
      history: { runs: 2, failed: 2, byRegion: {}, versions: ['a', 'b'] },
      experiments: [experiment('service-kill', 'kill', 'FAIL', ['us-west'])],
    });
    expect(r.score).toBeLessThan(50);
  });

  it('no pre-flight at all is no evidence, and no evidence is not safe: the Jeffreys prior alone scores high', () => {
    // Beta(0.5, 0.5): P(p > 5%) = 0.856; the gate does not open wide on nothing.
    const r = riskOf([]);
    expect(r.components.find((c) => c.name === 'error_limit')!.value).toBeCloseTo(0.856, 2);
    expect(r.level).toBe('high');
  });
});
