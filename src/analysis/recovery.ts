import { isError, type Observation } from './observation.ts';

// When a side served again after a fault, read from its own requests: a liveness /health
// answers all through a dependency's outage, and both sides of a differential run are judged
// the same way whatever the fault.

/** Successes in a row that make a target serving again. */
export const SERVING_AGAIN = 5;

/** When a request's answer (or its failure) was in hand. */
export function answeredAt(p: { at: number; latencyMs: number }): number {
  return p.at + p.latencyMs;
}

/**
 * When the requests sent after `from` succeeded again, SERVING_AGAIN in a row: the answer of
 * the first of them; null when they had not by `deadline`.
 */
export function servingAgain(observations: readonly Observation[], from: number, deadline: number): number | null {
  const mine = observations.filter((o) => o.at >= from && answeredAt(o) <= deadline).sort((a, b) => a.at - b.at);
  let run = 0;
  for (const [i, o] of mine.entries()) {
    run = isError(o) ? 0 : run + 1;
    if (run === SERVING_AGAIN) return answeredAt(mine[i - SERVING_AGAIN + 1] as Observation);
  }
  return null;
}

/**
 * After a crash the outage begins with the first failed request sent after the kill (one that
 * slipped in before the process died does not count); none failed: it never went down.
 */
export function servingAgainAfterCrash(
  observations: readonly Observation[],
  killAt: number,
  deadline: number,
): number | null {
  const firstError = observations
    .filter((o) => o.at >= killAt && isError(o))
    .reduce<number | null>((m, o) => (m === null || o.at < m ? o.at : m), null);
  return firstError === null ? killAt : servingAgain(observations, firstError, deadline);
}
