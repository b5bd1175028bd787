import { successLatencies, summarize, type WindowMetrics } from '../analysis/metrics.ts';
import type { Observation } from '../analysis/observation.ts';

// What the pre-flight measured: the candidate and the stable version side by side in one
// region, under synthetic load at several load profiles (low, nominal, peak arrival rates,
// each with its share of writes). The live pre-flight fills one PreflightMeasurement per
// profile (and region, if it measures more than one) from the observation store:
//
//   const window = { region, from, to };
//   const m: PreflightMeasurement = {
//     region, profile: 'nominal', rps: 40, writeShare: 0.3, durationMs: to - from,
//     canary: cohortMeasurement(candidateVersion, store.select({ ...window, cohort: 'canary' })),
//     baseline: cohortMeasurement(stableVersion, store.select({ ...window, cohort: 'baseline' })),
//   };
//
// The model reads counts and errors for the error rate and the successful requests'
// latencies for the latency fit; without raw latencies it falls back to p50 and p99.

/** One cohort (candidate or stable) during one load profile: WindowMetrics plus, ideally, the raw latencies. */
export interface CohortMeasurement extends WindowMetrics {
  version: string;
  /**
   * Latencies (ms) of the successful requests, any order. Optional: without them the
   * lognormal is fitted to p50Ms and p99Ms, a coarser fit (see docs/prediction.md).
   */
  latenciesMs?: readonly number[];
}

export interface PreflightMeasurement {
  region: string;
  /** The load profile's name, e.g. "low", "nominal", "peak". */
  profile: string;
  /**
   * Requests per second sent to the candidate (and the same to the stable version) during
   * this profile: the load the candidate itself carried. Stages are matched to profiles on
   * this number (a stage's canary rate, see model.ts).
   */
  rps: number;
  /** Share of writes in the profile's request mix, in [0, 1]. */
  writeShare: number;
  durationMs: number;
  canary: CohortMeasurement;
  baseline: CohortMeasurement;
}

/** A cohort's measurement from its observations: summarize() plus the successful latencies. */
export function cohortMeasurement(
  version: string,
  observations: readonly Observation[],
  keepLatencies = true,
): CohortMeasurement {
  const m = summarize(observations);
  return keepLatencies ? { ...m, version, latenciesMs: successLatencies(observations) } : { ...m, version };
}
