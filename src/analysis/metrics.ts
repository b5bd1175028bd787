import { isError, isTimedSuccess, type Observation } from './observation.ts';

// Summary of one window of observations (one cohort of one region over one stage or
// analysis interval): the numbers a judgement and a report show.
//
// Quantiles use the NEAREST-RANK definition: the q-quantile of n sorted values is the value
// at 1-based rank ceil(q * n). It always returns a latency that was actually observed, and
// "p99 <= limit" then means "at most 1% of requests were slower than the limit", which is
// exactly how the latency limit is tested (see judge.ts). For n < 100, p99 is the maximum.
//
// Latency quantiles cover successful requests only: errors are judged by the error rate, and
// a time-out's latency is the client's time-out, not the service's. Requests the load
// generator could not time (its event loop stalled while they were in flight) are left out
// of the latencies too; their errors still count.

export interface WindowMetrics {
  count: number;
  errors: number;
  /** errors / count; null when there were no requests. */
  errorRate: number | null;
  /** Latency quantiles of the successful requests; null when there were none. */
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  /** Errors by the hop the service named (service.attribution), most first; absent: no error named one. */
  errorsByHop?: HopErrors[];
}

export interface HopErrors {
  hop: string;
  errors: number;
}

/** Errors without an answer, and answers that named no hop. */
export const NO_ANSWER = 'no answer';
export const NOT_NAMED = 'not named';

/**
 * Which hop the errors came from, as the service said in its attribution header: an API that
 * answers 503 because its database failed names the database. Undefined when no error named
 * a hop (no attribution asked, or no errors), so the demo's windows are unchanged.
 */
export function errorsByHop(observations: readonly Observation[]): HopErrors[] | undefined {
  const counts = new Map<string, number>();
  let named = false;
  for (const o of observations) {
    if (!isError(o)) continue;
    named ||= o.hop !== undefined;
    const hop = o.hop ?? (o.status === 0 ? NO_ANSWER : NOT_NAMED);
    counts.set(hop, (counts.get(hop) ?? 0) + 1);
  }
  if (!named) return undefined;
  return [...counts]
    .map(([hop, errors]) => ({ hop, errors }))
    .sort((a, b) => b.errors - a.errors || a.hop.localeCompare(b.hop));
}

/** 1-based nearest rank of the q-quantile among n values (1 <= rank <= n for n >= 1). */
export function nearestRank(q: number, n: number): number {
  return Math.min(n, Math.max(1, Math.ceil(q * n - 1e-9)));
}

/** Nearest-rank q-quantile of values sorted ascending; null for an empty list. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[nearestRank(q, sorted.length) - 1] ?? null;
}

/**
 * Latencies of the successful, timed requests, sorted ascending, as a typed array: it sorts
 * numbers in native code, several times faster than a comparator, in the same order. The
 * judge sorts each window once and hands the result to every statistic that needs it.
 */
export function sortedSuccessLatencies(observations: readonly Observation[]): Float64Array {
  let n = 0;
  for (const o of observations) if (isTimedSuccess(o)) n++;
  const out = new Float64Array(n);
  let i = 0;
  for (const o of observations) if (isTimedSuccess(o)) out[i++] = o.latencyMs;
  return out.sort();
}

/** Latencies of the successful, timed requests, sorted ascending. */
export function successLatencies(observations: readonly Observation[]): number[] {
  return Array.from(sortedSuccessLatencies(observations));
}

/** Successful requests the load generator could not time. */
export function countUntimed(observations: readonly Observation[]): number {
  let n = 0;
  for (const o of observations) if (o.untimed === true && !isError(o)) n++;
  return n;
}

export function countErrors(observations: readonly Observation[]): number {
  let errors = 0;
  for (const o of observations) if (isError(o)) errors++;
  return errors;
}

/** "postgres 120 (92%), no answer 10 (8%)". */
export function formatHopErrors(list: readonly HopErrors[]): string {
  const total = list.reduce((n, h) => n + h.errors, 0);
  return list.map((h) => `${h.hop} ${h.errors} (${Math.round((100 * h.errors) / Math.max(1, total))}%)`).join(', ');
}

/** `latencies`: the window's sortedSuccessLatencies(), when the caller has them already. */
export function summarize(
  observations: readonly Observation[],
  latencies: ArrayLike<number> = sortedSuccessLatencies(observations),
): WindowMetrics {
  const count = observations.length;
  const errors = countErrors(observations);
  const byHop = errors > 0 ? errorsByHop(observations) : undefined;
  return {
    count,
    errors,
    errorRate: count === 0 ? null : errors / count,
    p50Ms: quantileSorted(latencies, 0.5),
    p95Ms: quantileSorted(latencies, 0.95),
    p99Ms: quantileSorted(latencies, 0.99),
    ...(byHop ? { errorsByHop: byHop } : {}),
  };
}
