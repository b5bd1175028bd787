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
 * Latencies of the successful, timed requests from index `from` on, sorted ascending. The
 * judge sorts each window once and hands the result to every statistic that needs it.
 */
export function successLatencies(observations: readonly Observation[], from = 0): number[] {
  const out: number[] = [];
  for (let i = from; i < observations.length; i++) {
    const o = observations[i] as Observation;
    if (isTimedSuccess(o)) out.push(o.latencyMs);
  }
  return sortNumbers(out);
}

/**
 * Sorts numbers ascending in place. A window of one analysis holds tens of requests, where an
 * insertion sort beats both a comparator and a typed array's native sort (whose set-up costs
 * more than the sort); larger ones go to the typed array. The order is the same.
 */
function sortNumbers(values: number[]): number[] {
  const n = values.length;
  if (n > 64) {
    const sorted = new Float64Array(values).sort();
    for (let i = 0; i < n; i++) values[i] = sorted[i] as number;
    return values;
  }
  for (let i = 1; i < n; i++) {
    const v = values[i] as number;
    let j = i - 1;
    while (j >= 0 && (values[j] as number) > v) {
      values[j + 1] = values[j] as number;
      j--;
    }
    values[j + 1] = v;
  }
  return values;
}

/** A window of observations with its successLatencies(). */
export interface SortedWindow {
  observations: readonly Observation[];
  latencies: readonly number[];
}

/**
 * successLatencies() of a window that grows between analyses (a stage's requests so
 * far): when the window sorted before is the start of this one, only the new requests are
 * sorted and merged in; otherwise (a live store can slip a late request in between) the
 * whole window is sorted again.
 */
export function sortWindow(observations: readonly Observation[], previous?: SortedWindow): SortedWindow {
  const known = previous?.observations ?? [];
  let prefix = previous !== undefined && known.length <= observations.length;
  for (let i = 0; prefix && i < known.length; i++) prefix = observations[i] === known[i];
  if (!previous || !prefix) return { observations, latencies: successLatencies(observations) };
  const added = successLatencies(observations, known.length);
  return { observations, latencies: added.length === 0 ? previous.latencies : mergeSorted(previous.latencies, added) };
}

/** The union of two ascending arrays, ascending. */
function mergeSorted(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length)
    out.push((a[i] as number) <= (b[j] as number) ? (a[i++] as number) : (b[j++] as number));
  while (i < a.length) out.push(a[i++] as number);
  while (j < b.length) out.push(b[j++] as number);
  return out;
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

/** `latencies`: the window's successLatencies(), when the caller has them already. */
export function summarize(
  observations: readonly Observation[],
  latencies: ArrayLike<number> = successLatencies(observations),
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
