import { isError, isTimedSuccess, type Observation } from '../analysis/observation.ts';
import { nearestRank, summarize } from '../analysis/metrics.ts';
import type { SeriesPoint, WindowSummary } from './result.ts';

// Window statistics of an experiment. Requests belong to the window in which they were
// SENT (an answer that arrives after the fault was lifted still tells about the fault).
// Latency quantiles cover successful requests only (analysis/metrics.ts); throughput is
// successful answers per second, because at a fixed arrival rate the requests sent per
// second stay the same whatever the fault does; only what comes back ok can drop.

export interface TimeRange {
  /** Epoch ms, from inclusive, to exclusive. */
  from: number;
  to: number;
}

/** Milliseconds to the microsecond: more digits than that are noise from the timer. */
const ms = (x: number | null): number | null => (x === null ? null : Math.round(x * 1000) / 1000);

export function inRange<T extends { at: number }>(items: readonly T[], range: TimeRange): T[] {
  return items.filter((o) => o.at >= range.from && o.at < range.to);
}

/** Summary of one window; times relative to the experiment's start `t0`. */
export function windowSummary(
  window: WindowSummary['window'],
  observations: readonly Observation[],
  range: TimeRange,
  t0: number,
): WindowSummary {
  const inside = inRange(observations, range);
  const m = summarize(inside);
  const seconds = Math.max(range.to - range.from, 0) / 1000;
  return {
    window,
    fromMs: range.from - t0,
    toMs: range.to - t0,
    count: m.count,
    errors: m.errors,
    errorRate: m.errorRate,
    p50Ms: ms(m.p50Ms),
    p95Ms: ms(m.p95Ms),
    p99Ms: ms(m.p99Ms),
    throughputRps: seconds > 0 ? Math.round(((m.count - m.errors) / seconds) * 1000) / 1000 : 0,
    ...(m.errorsByHop ? { errorsByHop: m.errorsByHop } : {}),
  };
}

/** One point per second from t0 up to `end` (the last bucket may be partial). */
export function series(observations: readonly Observation[], t0: number, end: number, bucketMs = 1000): SeriesPoint[] {
  const buckets = Math.max(0, Math.ceil((end - t0) / bucketMs));
  const requests = new Array<number>(buckets).fill(0);
  const errors = new Array<number>(buckets).fill(0);
  const latencies: number[][] = Array.from({ length: buckets }, () => []);
  for (const o of observations) {
    const i = Math.floor((o.at - t0) / bucketMs);
    if (i < 0 || i >= buckets) continue;
    requests[i] = (requests[i] ?? 0) + 1;
    if (isError(o)) errors[i] = (errors[i] ?? 0) + 1;
    else if (isTimedSuccess(o)) latencies[i]?.push(o.latencyMs);
  }
  return requests.map((n, i) => {
    const sorted = (latencies[i] ?? []).sort((a, b) => a - b);
    return {
      atMs: i * bucketMs,
      requests: n,
      errors: errors[i] ?? 0,
      errorRate: n === 0 ? null : (errors[i] ?? 0) / n,
      p99Ms: sorted.length === 0 ? null : ms(sorted[nearestRank(0.99, sorted.length) - 1] ?? null),
    };
  });
}
