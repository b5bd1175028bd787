import { describe, expect, it } from 'vitest';
import { gateHistoryRecord, historyRunId, recordRun, runAccuracy } from '../../src/gate/history.ts';
import { historyRecordSchema } from '../../src/history/schema.ts';
import { predict } from '../../src/predict/index.ts';
import { defaultRolloutPlan } from '../../src/config/rollout.ts';
import type { HistoryFs } from '../../src/history/file.ts';
import { rolloutFixture } from '../fixtures/report/rollout.ts';
import { preflightAt } from './predict-fixtures.ts';

const plan = defaultRolloutPlan();
const prediction = predict({
  plan,
  preflight: preflightAt(0.01),
  history: [],
  seed: 3,
  config: {
    maxRisk: 50,
    onHighRisk: 'small_tiers',
    smallTiers: [0.1, 0.5],
    monteCarloSamples: 300,
    history: { runs: 20, priorWeight: 100 },
  },
});
const facts = {
  runId: 'gh-1-1',
  startedAt: 1_000,
  endedAt: 61_000,
  version: 'v2',
  baselineVersion: 'v1',
  regions: plan.regions,
  preflightMs: 9_000,
  experimentsMs: null,
  experiments: null,
};

describe('the gate run as a history record', () => {
  it('records verdict, durations, risk and the accuracy over the stages the rollout judged', () => {
    const rollout = rolloutFixture({ version: 'v2', weights: [1, 5, 25, 50, 100] });
    const record = gateHistoryRecord({ ...facts, gate: 'OPEN', rollout, prediction });
    expect(historyRecordSchema.safeParse(record).success).toBe(true);
    expect(record).toMatchObject({
      run_id: 'gh-1-1',
      verdict: 'OPEN',
      rollout: 'COMPLETED',
      risk: { score: prediction.risk.score, action: 'proceed' },
    });
    expect(record.durations_ms).toEqual({
      total: 60_000,
      preflight: 9_000,
      experiments: null,
      rollout: rollout.durationMs,
    });
    expect(record.prediction_accuracy?.stages).toBe(rollout.stages.length);
  });

  it('records a gate closed before the rollout as NOT_RUN, with its risk and no accuracy', () => {
    const record = gateHistoryRecord({ ...facts, gate: 'CLOSED', rollout: null, prediction });
    expect(record).toMatchObject({ verdict: 'CLOSED', rollout: 'NOT_RUN', prediction_accuracy: null });
    expect(record.regions.every((r) => r.outcome === 'untouched')).toBe(true);
    expect(runAccuracy(null, rolloutFixture())).toBeNull();
  });

  it('a failed append is a warning, not a crash', async () => {
    const warnings: string[] = [];
    const fs = {
      mkdir: async () => {
        throw new Error('EROFS: read-only file system');
      },
    } as unknown as HistoryFs;
    const record = gateHistoryRecord({ ...facts, gate: 'OPEN', rollout: null, prediction: null });
    const ok = await recordRun(
      '/ro/history.jsonl',
      record,
      { step: () => {}, info: () => {}, warn: (m) => void warnings.push(m) },
      fs,
    );
    expect(ok).toBe(false);
    expect(warnings).toEqual(['history: could not append to /ro/history.jsonl: EROFS: read-only file system']);
  });

  it('names the run after the Action run and attempt when there is one', () => {
    expect(historyRunId('2026-11-22T01:00:00.000Z', { GITHUB_RUN_ID: '42', GITHUB_RUN_ATTEMPT: '3' })).toBe('gh-42-3');
    expect(historyRunId('2026-11-22T01:00:00.000Z', {})).toBe('2026-11-22T01:00:00.000Z');
  });
});
