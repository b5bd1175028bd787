import { describe, expect, it } from 'vitest';
import { historyTrends } from '../../src/history/trends.ts';
import { predictionView } from '../../src/report/prediction-view.ts';
import { riskTrendChart } from '../../src/report/trend-chart.ts';
import { historyOf, predictionFixture } from '../fixtures/report/prediction.ts';
import { rolloutFixture } from '../fixtures/report/rollout.ts';

describe('the prediction in the report', () => {
  it('puts every stage that ran beside its predicted range, recomputed for the requests judged', () => {
    const rollout = rolloutFixture({ version: 'v2', weights: [1, 5, 25, 50, 100], regions: ['us-west', 'us-east'] });
    const p = predictionFixture({ rollout });
    expect(p.stages.map((s) => s.observed.map((o) => o.region))).toEqual(Array(5).fill(['us-west', 'us-east']));
    const first = p.stages[0]?.observed[0];
    const record = rollout.stages.find((s) => s.region === 'us-west' && s.stage === 0);
    expect(first?.requests).toBe(record?.canary.count);
    expect(first?.errorRate.observed).toBe(record?.canary.errorRate);
    expect(first?.errorRate.position).toBe('inside');
  });

  it('says beside a range when the baseline beside the canary calibrated it', () => {
    const rollout = rolloutFixture({ version: 'v2', weights: [1, 5, 25, 50, 100], regions: ['us-west'] });
    const p = predictionFixture({ rollout });
    const [first, , , , last] = p.stages;
    // The fixture's baseline is as fast as the pre-flight's: calibrated, but nothing moved.
    expect(first?.observed[0]?.calibration).toMatchObject({ latencyBasis: 'median', p99Factor: 1 });
    expect(last?.observed[0]?.calibration).toMatchObject({ baselineRequests: 0, latencyBasis: null });
    const o = first!.observed[0]!;
    o.calibration = { ...o.calibration!, p99Factor: 2.5, errorRateShift: 0.012 };
    const row = predictionView(p).stages[0]?.observed[0];
    expect(row?.p99Range).toMatch(/ ms to .* ms \(calibrated x2\.5\)$/);
    expect(row?.errorRange).toMatch(/% to .*% \(calibrated \+1\.2%\)$/);
    expect(predictionView(p).stages[1]?.observed[0]?.p99Range).not.toMatch(/calibrated/);
  });

  it('leaves a stage of another plan (other weight) unobserved rather than compared with the wrong range', () => {
    const rollout = rolloutFixture({ version: 'v2', weights: [10, 100] });
    expect(predictionFixture({ rollout }).stages.every((s) => s.observed.length === 0)).toBe(true);
  });

  it('formats probabilities for people, never as 1e-90%', () => {
    const view = predictionView(predictionFixture());
    expect(view.stages.map((s) => s.breach).every((b) => /^(<0\.01%|0%|\d+(\.\d+)?%|>99\.99%|100%)$/.test(b))).toBe(
      true,
    );
    expect(view.components.every((c) => !/e-/.test(c.value))).toBe(true);
  });
});

describe('riskTrendChart', () => {
  it('is null without history, so the page says so in words', () => {
    expect(riskTrendChart([], 50)).toBeNull();
    expect(predictionView(predictionFixture({ history: [] })).trend).toBeNull();
  });

  it('draws one bar per scored run, red when the gate closed, and the max_risk line', () => {
    const points = historyTrends(historyOf(5), 20).points;
    const chart = riskTrendChart([...points, { ...(points[0] as (typeof points)[number]), riskScore: null }], 50);
    expect(chart?.bars).toHaveLength(5);
    expect(chart?.missing).toHaveLength(1);
    expect(chart?.bars.map((b) => b.tone)).toEqual(['pass', 'pass', 'fail', 'pass', 'pass']);
    const [low, , high] = chart?.bars ?? [];
    expect(high && low && high.height > low.height).toBe(true); // 64 vs 3.7
    const bottom = (chart?.plot.y ?? 0) + (chart?.plot.height ?? 0);
    expect(chart?.threshold.y).toBeCloseTo(bottom - (chart?.plot.height ?? 0) / 2, 1);
  });
});
