import { sig } from '../util/round.ts';
import type { HistoryMetrics, HistoryRecord } from './schema.ts';

// Trends over the last runs, for the HTML report's charts: one point per run, oldest first,
// and a summary of how the last runs compare with the ones before them. Pure.

export interface TrendPoint {
  runId: string;
  at: string;
  version: string;
  verdict: 'OPEN' | 'CLOSED';
  rollout: HistoryRecord['rollout'];
  riskScore: number | null;
  accuracy: number | null;
  durationMs: number;
  /** Pooled over the run's regions. */
  baselineErrorRate: number | null;
  candidateErrorRate: number | null;
  /** The highest p99 among the run's regions (the one a limit would catch). */
  baselineP99Ms: number | null;
  candidateP99Ms: number | null;
}

export interface Trends {
  runs: number;
  points: TrendPoint[];
  openShare: number | null;
  rolledBack: number;
  meanRisk: number | null;
  meanAccuracy: number | null;
}

function pooled(ms: readonly (HistoryMetrics | null)[]): { errorRate: number | null; p99: number | null } {
  const seen = ms.filter((m): m is HistoryMetrics => m !== null && m.count > 0);
  if (seen.length === 0) return { errorRate: null, p99: null };
  const count = seen.reduce((s, m) => s + m.count, 0);
  const errors = seen.reduce((s, m) => s + m.errors, 0);
  const p99s = seen.map((m) => m.p99_ms).filter((x): x is number => x !== null);
  return { errorRate: sig(errors / count), p99: p99s.length === 0 ? null : Math.max(...p99s) };
}

const mean = (xs: readonly number[]) => (xs.length === 0 ? null : sig(xs.reduce((s, x) => s + x, 0) / xs.length, 4));

export function historyTrends(records: readonly HistoryRecord[], lastN: number): Trends {
  const recent = lastN <= 0 ? [] : records.slice(-lastN);
  const points = recent.map((r): TrendPoint => {
    const b = pooled(r.regions.map((g) => g.baseline));
    const c = pooled(r.regions.map((g) => g.candidate));
    return {
      runId: r.run_id,
      at: r.at,
      version: r.version,
      verdict: r.verdict,
      rollout: r.rollout,
      riskScore: r.risk?.score ?? null,
      accuracy: r.prediction_accuracy?.share ?? null,
      durationMs: r.durations_ms.total,
      baselineErrorRate: b.errorRate,
      candidateErrorRate: c.errorRate,
      baselineP99Ms: b.p99,
      candidateP99Ms: c.p99,
    };
  });
  return {
    runs: points.length,
    points,
    openShare: points.length === 0 ? null : sig(points.filter((p) => p.verdict === 'OPEN').length / points.length, 4),
    rolledBack: points.filter((p) => p.rollout === 'ROLLED_BACK' || p.rollout === 'FAILED').length,
    meanRisk: mean(points.flatMap((p) => (p.riskScore === null ? [] : [p.riskScore]))),
    meanAccuracy: mean(points.flatMap((p) => (p.accuracy === null ? [] : [p.accuracy]))),
  };
}
