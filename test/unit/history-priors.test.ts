import { describe, expect, it } from 'vitest';
import type { WindowMetrics } from '../../src/analysis/metrics.ts';
import type { ExperimentResult } from '../../src/chaos/result.ts';
import { errorPriorFromHistory, failureHistory, lastRuns } from '../../src/predict/priors.ts';
import { historyRecord, type RunSummary } from '../../src/gate/history-record.ts';
import { historyRecordSchema, type HistoryRecord } from '../../src/history/schema.ts';
import { historyTrends } from '../../src/history/trends.ts';
import { JEFFREYS_PRIOR } from '../../src/predict/model.ts';
import type { RolloutResult, StageRecord } from '../../src/rollout/result.ts';
import { record } from './history-fixtures.ts';

const metrics = (count: number, errors: number) => ({
  count,
  errors,
  error_rate: count === 0 ? null : errors / count,
  p50_ms: 20,
  p95_ms: 50,
  p99_ms: 80,
});
const withRates = (id: string, cohorts: [number, number][]): HistoryRecord =>
  record(id, {
    regions: cohorts.map(([count, errors], i) => ({
      region: `r${i}`,
      baseline: metrics(count, errors),
      candidate: null,
      outcome: 'untouched' as const,
    })),
  });

describe('error prior from the history', () => {
  it('no history: Jeffreys', () => {
    expect(errorPriorFromHistory([])).toBe(JEFFREYS_PRIOR);
  });

  it('runs that agree make a strong prior, capped at prior_weight pseudo-requests', () => {
    // 5 runs x (640 requests, 6 errors + 420 requests, 4 errors): pooled 50 / 5300
    const p = errorPriorFromHistory(
      ['a', 'b', 'c', 'd', 'e'].map((id) => record(id)),
      100,
    );
    expect(p).toMatchObject({ source: 'history', runs: 5, cohorts: 10, alpha: 1.4434, beta: 99.5566 });
    expect(p.explanation).toMatch(
      /pooled error rate 0\.943% \(50 of 5300\); cohorts agree within their noise \(strength capped at 100\)/,
    );
  });

  it('runs that differ (some bad candidates) make a weak prior', () => {
    const p = errorPriorFromHistory(
      [
        withRates('a', [
          [1000, 10],
          [1000, 500],
          [1000, 12],
          [1000, 9],
        ]),
      ],
      100,
    );
    expect(p.alpha + p.beta - 1).toBeLessThan(5);
    expect(p.explanation).toMatch(/spread between cohorts/);
  });

  it('too few cohorts to see the spread: centred but weak (10 pseudo-requests)', () => {
    const p = errorPriorFromHistory([record('a')], 100);
    expect(p.alpha + p.beta).toBeCloseTo(11, 3);
    expect(p.alpha).toBe(0.59434);
  });

  it('prior_weight 0 turns the history prior off', () => {
    expect(errorPriorFromHistory([record('a')], 0)).toBe(JEFFREYS_PRIOR);
  });

  it('lastRuns keeps the last N', () => {
    const rs = ['a', 'b', 'c'].map((id) => record(id));
    expect(lastRuns(rs, 2).map((r) => r.run_id)).toEqual(['b', 'c']);
    expect(lastRuns(rs, 0)).toEqual([]);
  });
});

describe('failure history and trends', () => {
  const runs = [
    record('a'),
    record('b', {
      verdict: 'CLOSED',
      rollout: 'ROLLED_BACK',
      failed_region: 'eu-west',
      version: 'v3',
      risk: { score: 64, action: 'small-tiers' },
    }),
    record('c', {
      verdict: 'CLOSED',
      rollout: 'NOT_RUN',
      risk: { score: 100, action: 'close' },
      prediction_accuracy: null,
    }),
    record('d', { verdict: 'CLOSED', rollout: 'FAILED', failed_region: null, version: 'v5' }),
  ];

  it('counts the rollouts that ran and the ones that failed, by region', () => {
    expect(failureHistory(runs)).toEqual({ runs: 3, failed: 2, byRegion: { 'eu-west': 1 }, versions: ['v3', 'v5'] });
  });

  it('one trend point per run, oldest first, and a summary', () => {
    const t = historyTrends(runs, 3);
    expect(t.points.map((p) => p.runId)).toEqual(['b', 'c', 'd']);
    expect(t.points[0]).toMatchObject({
      verdict: 'CLOSED',
      rollout: 'ROLLED_BACK',
      riskScore: 64,
      accuracy: 0.8,
      baselineErrorRate: 0.009375,
      candidateErrorRate: 0.00952381,
      candidateP99Ms: 79,
    });
    expect(t).toMatchObject({ runs: 3, openShare: 0, rolledBack: 2, meanRisk: 55.9 });
  });
});

describe('a run as its history record', () => {
  const w = (count: number, errors: number, p99Ms: number): WindowMetrics => ({
    count,
    errors,
    errorRate: errors / count,
    p50Ms: 20,
    p95Ms: 50,
    p99Ms,
  });
  const stage = (region: string, i: number, canary: WindowMetrics, baseline: WindowMetrics): StageRecord => ({
    region,
    stage: i,
    weight: [1, 100][i] ?? 1,
    startedAt: '2025-01-01T00:00:00.000Z',
    analyses: 4,
    verdict: 'green',
    reasons: [],
    canary,
    baseline,
    tests: {
      errorLimit: { bad: 0, total: 0, allowedShare: 0.05, p: 1, breached: false },
      latencyLimit: { bad: 0, total: 0, allowedShare: 0.01, p: 1, breached: false },
      errors: null,
      latency: null,
    },
    checks: [],
  });
  const rollout = {
    version: 'v2',
    failureRate: 0,
    strategy: 'canary',
    finalState: 'ROLLED_BACK',
    startedAt: '',
    endedAt: '',
    durationMs: 64_000,
    regions: [
      { region: 'us-west', previous: { version: 'v1', failureRate: 0 }, finalVersion: 'v1' },
      { region: 'us-east', previous: { version: 'v1', failureRate: 0 }, finalVersion: 'v1' },
      { region: 'eu-west', previous: { version: 'v1', failureRate: 0 }, finalVersion: 'v1' },
    ],
    timeline: [],
    stages: [
      stage('us-west', 0, w(60, 0, 70), w(160, 2, 90)),
      stage('us-west', 1, w(160, 1, 85), w(0, 0, 0)),
      stage('us-east', 0, w(60, 30, 60), w(160, 1, 80)),
    ],
    rollback: {
      triggered: true,
      reason: 'red verdict: error rate 50%',
      failedRegion: 'us-east',
      verifications: [],
      problems: [],
    },
    timeToDetectMs: 1000,
    timeToRollbackMs: 2000,
    traffic: { sent: 0, skipped: 0, acknowledgedWrites: 0, missingReads: 0, untimed: 0, maxClientStallMs: 0 },
  } as unknown as RolloutResult;
  const experiments = [
    { name: 'service-kill', status: 'PASS' },
    { name: 'database-failure', status: 'FAIL' },
  ] as unknown as ExperimentResult[];
  const run: RunSummary = {
    runId: 'gh-123-1',
    endedAt: '2025-03-01T12:00:00.000Z',
    version: 'v2',
    baselineVersion: 'v1',
    gate: 'CLOSED',
    durationsMs: { total: 95_000.4, preflight: 31_000, experiments: null, rollout: 64_000 },
    regions: ['us-west', 'us-east', 'eu-west'],
    rollout,
    risk: { score: 12.5, action: 'proceed' },
    accuracy: { stages: 3, inside: 2, share: 0.6667 },
    experiments,
  };

  it("sums each region's requests and errors, keeps the largest window's quantiles, and is a valid record", () => {
    const r = historyRecord(run);
    expect(historyRecordSchema.parse(r)).toEqual(r);
    expect(r).toMatchObject({
      schema: 1,
      run_id: 'gh-123-1',
      verdict: 'CLOSED',
      rollout: 'ROLLED_BACK',
      failed_region: 'us-east',
      rollback_reason: 'red verdict: error rate 50%',
    });
    expect(r.durations_ms.total).toBe(95_000);
    expect(r.regions).toEqual([
      {
        region: 'us-west',
        candidate: { count: 220, errors: 1, error_rate: 0.00454545, p50_ms: 20, p95_ms: 50, p99_ms: 85 },
        baseline: { count: 160, errors: 2, error_rate: 0.0125, p50_ms: 20, p95_ms: 50, p99_ms: 90 },
        outcome: 'rolled_back',
      },
      {
        region: 'us-east',
        candidate: { count: 60, errors: 30, error_rate: 0.5, p50_ms: 20, p95_ms: 50, p99_ms: 60 },
        baseline: { count: 160, errors: 1, error_rate: 0.00625, p50_ms: 20, p95_ms: 50, p99_ms: 80 },
        outcome: 'rolled_back',
      },
      { region: 'eu-west', candidate: null, baseline: null, outcome: 'untouched' },
    ]);
    expect(r.experiments).toEqual({ total: 2, failed: 1, failed_names: ['database-failure'] });
  });

  it('a gate closed before the rollout: NOT_RUN, every region untouched', () => {
    const r = historyRecord({
      ...run,
      rollout: null,
      risk: { score: 100, action: 'close' },
      accuracy: null,
      experiments: null,
    });
    expect(r).toMatchObject({
      rollout: 'NOT_RUN',
      failed_region: null,
      prediction_accuracy: null,
      experiments: null,
      risk: { score: 100, action: 'close' },
    });
    expect(r.regions.every((g) => g.outcome === 'untouched')).toBe(true);
  });
});
