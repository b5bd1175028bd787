import { isError, isTimedSuccess, type Observation } from './observation.ts';
import { binomialUpperTail } from './stats.ts';

// Absolute limits as hypothesis tests. A limit is an allowed share of bad requests: errors for
// max_error_rate, timed requests slower than max_p99_ms for the p99 limit (a p99 within the limit
// means at most 1% of requests are slower). The limit is BREACHED when the observed share is
// above it; p is the exact one-sided binomial p-value of "the true share is above it", which
// the judge turns into a verdict (judge.ts). An allowed share of 0 (max_error_rate: 0.0)
// makes every single bad request proof: p = 0.

/** Allowed share of requests slower than the p99 limit. */
export const P99_SLOW_SHARE = 0.01;

export interface LimitTest {
  /** Bad requests (errors, or successful requests slower than the limit) and the requests judged. */
  bad: number;
  total: number;
  allowedShare: number;
  /** P(at least `bad` of `total` | true share = allowedShare). */
  p: number;
  breached: boolean;
}

export function limitTest(bad: number, total: number, allowedShare: number): LimitTest {
  const breached = total > 0 && bad / total > allowedShare;
  const p = total === 0 ? 1 : binomialUpperTail(bad, total, allowedShare);
  return { bad, total, allowedShare, p, breached };
}

export function errorLimitTest(canary: readonly Observation[], maxErrorRate: number): LimitTest {
  let bad = 0;
  for (const o of canary) if (isError(o)) bad++;
  return limitTest(bad, canary.length, maxErrorRate);
}

export function latencyLimitTest(canary: readonly Observation[], maxP99Ms: number): LimitTest {
  let bad = 0;
  let total = 0;
  for (const o of canary) {
    if (!isTimedSuccess(o)) continue;
    total++;
    if (o.latencyMs > maxP99Ms) bad++;
  }
  return limitTest(bad, total, P99_SLOW_SHARE);
}

/** latencyLimitTest() from the canary's sortedSuccessLatencies(): the slow ones are the tail past a binary search. */
export function latencyLimitTestSorted(latencies: ArrayLike<number>, maxP99Ms: number): LimitTest {
  let lo = 0;
  let hi = latencies.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((latencies[mid] as number) > maxP99Ms) hi = mid;
    else lo = mid + 1;
  }
  return limitTest(latencies.length - lo, latencies.length, P99_SLOW_SHARE);
}

/** Time of the earliest canary request that counts against the given limits; null if none does. */
export function evidenceSince(
  canary: readonly Observation[],
  errorsProven: boolean,
  latencyProven: boolean,
  maxP99Ms: number,
): number | null {
  let first: number | null = null;
  for (const o of canary) {
    const error = isError(o);
    const counts = (errorsProven && error) || (latencyProven && isTimedSuccess(o) && o.latencyMs > maxP99Ms);
    if (counts && (first === null || o.at < first)) first = o.at;
  }
  return first;
}
