import type { Cohort, Observation } from '../analysis/observation.ts';
import { lognormal, type Random } from '../util/random.ts';
import type { CohortModel } from './scenario.ts';

// Simulated synthetic traffic for one cohort of one region: requests at a fixed arrival rate
// (an open model, like the live generator), each failing with the model's error rate and
// taking a lognormal latency. Virtual time only.

export interface CohortStream {
  /** Adds the requests sent in [from, to) to `into`; returns how many. */
  fill(from: number, to: number, into: Observation[]): number;
}

export function cohortStream(
  random: Random,
  region: string,
  cohort: Cohort,
  model: CohortModel,
  rps: number,
  startAt: number,
): CohortStream {
  const latency = lognormal(random, model.latency.medianMs, model.latency.p99Ms);
  const spacing = rps > 0 ? 1000 / rps : Number.POSITIVE_INFINITY;
  // A random phase, so that the canary and baseline cohorts do not fire in lockstep.
  let nextAt = startAt + random.next() * Math.min(spacing, 1000);
  return {
    fill(from, to, into) {
      let n = 0;
      while (nextAt < to) {
        if (nextAt >= from) {
          const failed = random.next() < model.errorRate;
          into.push({
            at: nextAt,
            region,
            version: model.version,
            cohort,
            route: '/simulated',
            status: failed ? 500 : 200,
            latencyMs: latency(),
          });
          n++;
        }
        nextAt += spacing;
      }
      return n;
    },
  };
}

export interface HealthCheck {
  ok: boolean;
  durationMs: number;
  probes: number;
}

/**
 * Verification after a deploy, as rollout/verify.ts does it live: /health probed every
 * `intervalMs` until `consecutive` successes in a row, or the deadline. A probe fails with
 * the model's error rate.
 */
export function simulateHealth(
  random: Random,
  model: CohortModel,
  consecutive: number,
  deadlineMs: number,
  intervalMs: number,
): HealthCheck {
  let streak = 0;
  let probes = 0;
  for (let t = 0; t < deadlineMs; t += intervalMs) {
    probes++;
    streak = random.next() < model.errorRate ? 0 : streak + 1;
    if (streak >= consecutive) return { ok: true, durationMs: t, probes };
  }
  return { ok: false, durationMs: deadlineMs, probes };
}
