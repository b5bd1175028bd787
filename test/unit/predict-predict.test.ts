import { describe, expect, it } from 'vitest';
import { defaultPredictPlan } from '../../src/predict/config.ts';
import { defaultRolloutPlan } from '../../src/config/rollout.ts';
import type { HistoryRecord } from '../../src/history/schema.ts';
import { formatPrediction, predict, predictedPlan, predictionAccuracy, rangesAt } from '../../src/predict/index.ts';
import { preflightAt } from './predict-fixtures.ts';

const plan = defaultRolloutPlan();
const config = { ...defaultPredictPlan(), monteCarloSamples: 400 };

function run(id: string, rollout: HistoryRecord['rollout'], region: string | null, candidateErrors = 4): HistoryRecord {
  return {
    schema: 1,
    run_id: id,
    at: '2025-01-01T00:00:00.000Z',
    version: `v-${id}`,
    baseline_version: 'v1',
    verdict: rollout === 'COMPLETED' ? 'OPEN' : 'CLOSED',
    rollout,
    failed_region: region,
    rollback_reason: null,
    durations_ms: { total: 60_000, preflight: 30_000, experiments: null, rollout: 30_000 },
    regions: [
      {
        region: 'us-west',
        baseline: { count: 400, errors: 4, error_rate: 0.01, p50_ms: 20, p95_ms: 50, p99_ms: 80 },
        candidate: {
          count: 400,
          errors: candidateErrors,
          error_rate: candidateErrors / 400,
          p50_ms: 20,
          p95_ms: 50,
          p99_ms: 80,
        },
        outcome: 'promoted',
      },
    ],
    risk: null,
    prediction_accuracy: null,
    experiments: null,
  };
}

describe('predict()', () => {
  it('same seed, identical JSON; another seed moves only the Monte Carlo', () => {
    const a = JSON.stringify(predict({ plan, preflight: preflightAt(0.01), history: [], seed: 7, config }));
    const b = JSON.stringify(predict({ plan, preflight: preflightAt(0.01), history: [], seed: 7, config }));
    expect(a).toBe(b);
    const c = predict({ plan, preflight: preflightAt(0.01), history: [], seed: 8, config });
    const pa = JSON.parse(a) as ReturnType<typeof predict>;
    expect(c.stages.map((s) => s.errorRate)).toEqual(pa.stages.map((s) => s.errorRate));
    expect(c.stages.map((s) => s.p99Ms)).not.toEqual(pa.stages.map((s) => s.p99Ms));
  });

  it('a healthy candidate: low risk, proceed, a range per stage', () => {
    const p = predict({ plan, preflight: preflightAt(0.01), history: [], seed: 1, config });
    expect(p.risk.score).toBeLessThan(20);
    expect(p.action.action).toBe('proceed');
    expect(p.stages.map((s) => s.weight)).toEqual([1, 5, 25, 50, 100]);
    expect(p.models.errorRate.prior.source).toBe('none');
    expect(p.candidate).toBe('v2');
    expect(p.baseline).toBe('v1');
    for (const s of p.stages) {
      expect(s.errorRate.low).toBeLessThanOrEqual(s.errorRate.high);
      expect(s.p99Ms!.low).toBeLessThan(s.p99Ms!.high);
    }
    expect(predictedPlan(plan, p)).toBe(plan);
  });

  it('a candidate failing 80% of requests: risk 100, small tiers in front, ranges for every stage run', () => {
    const p = predict({ plan, preflight: preflightAt(0.8), history: [], seed: 1, config });
    expect(p.risk.score).toBe(100);
    expect(p.action).toMatchObject({ action: 'small-tiers', weights: [0.1, 0.5, 1, 5, 25, 50, 100] });
    expect(p.stages.map((s) => s.weight)).toEqual([0.1, 0.5, 1, 5, 25, 50, 100]);
    expect(predictedPlan(plan, p).stages.map((s) => s.weight)).toEqual([0.1, 0.5, 1, 5, 25, 50, 100]);
    const closed = predict({
      plan,
      preflight: preflightAt(0.8),
      history: [],
      seed: 1,
      config: { ...config, onHighRisk: 'close' },
    });
    expect(closed.action.action).toBe('close');
  });

  it('uses the last history.runs records for the prior and the failure history', () => {
    const history = [
      run('a', 'ROLLED_BACK', 'eu-west', 200),
      ...['b', 'c', 'd'].map((id) => run(id, 'COMPLETED', null)),
    ];
    const all = predict({ plan, preflight: preflightAt(0.01), history, seed: 1, config });
    expect(all.models.errorRate.prior).toMatchObject({ source: 'history', runs: 4 });
    expect(all.risk.components.find((c) => c.name === 'history')!.value).toBe(0.25);
    const last3 = predict({
      plan,
      preflight: preflightAt(0.01),
      history,
      seed: 1,
      config: { ...config, history: { ...config.history, runs: 3 } },
    });
    expect(last3.risk.components.find((c) => c.name === 'history')!.value).toBe(0);
  });

  it('works without a pre-flight (and says so)', () => {
    const p = predict({ plan, preflight: [], history: [], seed: 1, config });
    expect(p.notes[0]).toMatch(/no pre-flight measurement/);
    expect(p.stages[0]!.p99Ms).toBeNull();
  });

  it('formats for a terminal', () => {
    const text = formatPrediction(predict({ plan, preflight: preflightAt(0.01), history: [], seed: 1, config }));
    expect(text).toMatch(/^prediction for v2 \(stable v1\), seed 1\n/);
    expect(text).toMatch(/\n {2}stage {2}weight {2}requests {2}error rate +p99 +P\(breach\)\n/);
    expect(text).toMatch(/\n {2}1 +1% +60 +0% \.\. [\d.]+% \(exp [\d.]+%\) +\d+ ms \.\. \d+ ms/);
    expect(text).toMatch(/\n {2}risk [\d.]+\/100 \(low\)\n/);
    expect(text).toMatch(/\n {2}action: proceed: risk [\d.]+ is at most max_risk 50: roll out as planned/);
  });

  it('accuracy: observed stages against the prediction, at their own sample sizes', () => {
    const p = predict({ plan, preflight: preflightAt(0.01), history: [], seed: 1, config });
    const s0 = p.stages[0]!;
    const inside = { count: 60, errors: 0, errorRate: 0, p50Ms: 20, p95Ms: 40, p99Ms: s0.p99Ms!.expected };
    const outside = { count: 60, errors: 20, errorRate: 1 / 3, p50Ms: 20, p95Ms: 40, p99Ms: s0.p99Ms!.expected };
    const acc = predictionAccuracy(p.stages, [
      { region: 'us-west', stage: 0, weight: 1, canary: inside },
      { region: 'us-west', stage: 1, weight: 5, canary: outside },
      { region: 'us-west', stage: 2, weight: 99, canary: inside },
    ]);
    expect(acc).toMatchObject({ stages: 2, inside: 1, share: 0.5 });
    expect(acc.skipped).toEqual(['us-west stage 3: weight 99% was predicted as 25% (another plan)']);
    expect(rangesAt(s0.model, 60, 60).p99Ms).toEqual(acc.details[0]!.comparison.p99Ms.range);
  });

  it('is calibrated on simulated healthy stages: most observations fall inside the ranges', async () => {
    const { createRandom, lognormal } = await import('../../src/util/random.ts');
    const { summarize } = await import('../../src/analysis/metrics.ts');
    const p = predict({ plan, preflight: preflightAt(0.01, { seed: 3 }), history: [], seed: 1, config });
    const s = p.stages[4]!; // 160 requests
    const random = createRandom(99);
    const draw = lognormal(random, 20, 80);
    const observed = Array.from({ length: 100 }, (_, i) => {
      const obs = Array.from({ length: s.requests }, (_, k) => ({
        at: k,
        region: 'us-west',
        version: 'v2',
        cohort: 'canary' as const,
        route: '/',
        status: random.next() < 0.01 ? 500 : 200,
        latencyMs: draw(),
      }));
      return { region: 'us-west', stage: 4, weight: 100, canary: summarize(obs), i };
    });
    const acc = predictionAccuracy(p.stages, observed);
    // Two central 90% ranges: about 0.8 when both are calibrated (the discrete error range covers more).
    expect(acc.share!).toBeGreaterThan(0.7);
  });
});
