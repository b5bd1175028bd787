import type { HistoryRecord } from '../../src/history/schema.ts';

// A valid history record for the history tests, any field overridable.
export function record(id: string, over: Partial<HistoryRecord> = {}): HistoryRecord {
  return {
    schema: 1,
    run_id: id,
    at: '2025-03-01T12:00:00.000Z',
    version: 'v2',
    baseline_version: 'v1',
    verdict: 'OPEN',
    rollout: 'COMPLETED',
    failed_region: null,
    rollback_reason: null,
    durations_ms: { total: 95_000, preflight: 31_000, experiments: null, rollout: 64_000 },
    regions: [
      {
        region: 'us-west',
        baseline: { count: 640, errors: 6, error_rate: 0.009375, p50_ms: 19, p95_ms: 51, p99_ms: 83 },
        candidate: { count: 420, errors: 4, error_rate: 0.00952381, p50_ms: 20, p95_ms: 49, p99_ms: 79 },
        outcome: 'promoted',
      },
    ],
    risk: { score: 3.7, action: 'proceed' },
    prediction_accuracy: { stages: 5, inside: 4, share: 0.8 },
    experiments: null,
    ...over,
  };
}
