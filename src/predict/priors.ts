import { JEFFREYS_PRIOR, type ErrorPrior } from './model.ts';
import { sig } from '../util/round.ts';
import type { HistoryMetrics, HistoryRecord } from '../history/schema.ts';

// From the run history to what the model and the risk score use. Pure.
//
// The error-rate prior is an empirical-Bayes Beta fitted to the earlier runs' error rates:
// every cohort (a region's stable traffic, a region's candidate traffic) of the last runs is
// one observed rate. Its mean is the pooled rate (all errors / all requests). Its strength
// (a + b, in pseudo-requests) comes from how much the rates differ between cohorts beyond
// the binomial noise of their sizes (method of moments: for a Beta, var = m (1 - m) /
// (a + b + 1)): cohorts that agree make a strong prior, a history with some bad candidates a
// weak one. The strength is capped (prior_weight, default 100 pseudo-requests) so that the
// pre-flight of THIS candidate, usually thousands of requests, always outweighs earlier
// versions; and Jeffreys' Beta(0.5, 0.5) is added, so a history without a single error still
// gives a proper prior.

/** Below this many cohorts the spread between runs cannot be estimated. */
export const MIN_COHORTS_FOR_SPREAD = 3;
/** Strength (pseudo-requests) of a history prior whose spread is unknown: centred, but weak. */
export const UNKNOWN_SPREAD_STRENGTH = 10;
export const DEFAULT_PRIOR_WEIGHT = 100;

/** The last `runs` records (the file is in run order). */
export function lastRuns(records: readonly HistoryRecord[], runs: number): HistoryRecord[] {
  return runs <= 0 ? [] : records.slice(-runs);
}

function cohorts(records: readonly HistoryRecord[]): HistoryMetrics[] {
  const out: HistoryMetrics[] = [];
  for (const r of records) {
    for (const region of r.regions) {
      if (region.baseline && region.baseline.count > 0) out.push(region.baseline);
      if (region.candidate && region.candidate.count > 0) out.push(region.candidate);
    }
  }
  return out;
}

/** The Beta prior of a candidate's error rate from the history (JEFFREYS_PRIOR without any). */
export function errorPriorFromHistory(records: readonly HistoryRecord[], maxWeight = DEFAULT_PRIOR_WEIGHT): ErrorPrior {
  const cs = cohorts(records);
  if (cs.length === 0 || maxWeight <= 0) return JEFFREYS_PRIOR;
  const requests = cs.reduce((s, c) => s + c.count, 0);
  const errors = cs.reduce((s, c) => s + c.errors, 0);
  const mean = errors / requests;
  let strength: number;
  let why: string;
  if (cs.length < MIN_COHORTS_FOR_SPREAD) {
    strength = Math.min(maxWeight, UNKNOWN_SPREAD_STRENGTH);
    why = `${cs.length} cohort(s), too few to measure the spread between runs`;
  } else {
    const rates = cs.map((c) => c.errors / c.count);
    const avg = rates.reduce((s, r) => s + r, 0) / rates.length;
    const observed = rates.reduce((s, r) => s + (r - avg) ** 2, 0) / (rates.length - 1);
    const noise = cs.reduce((s, c) => s + (mean * (1 - mean)) / c.count, 0) / cs.length;
    const between = observed - noise;
    const fitted = between > 0 ? (mean * (1 - mean)) / between - 1 : Number.POSITIVE_INFINITY;
    strength = Math.max(0, Math.min(maxWeight, fitted));
    why =
      between > 0
        ? `spread between cohorts ${sig(Math.sqrt(between), 3)} (strength ` +
          `${sig(fitted, 3)}${fitted > maxWeight ? `, capped at ${maxWeight}` : ''})`
        : `cohorts agree within their noise (strength capped at ${maxWeight})`;
  }
  const runs = records.filter((r) =>
    r.regions.some((g) => (g.baseline?.count ?? 0) > 0 || (g.candidate?.count ?? 0) > 0),
  ).length;
  const alpha = sig(JEFFREYS_PRIOR.alpha + mean * strength);
  const beta = sig(JEFFREYS_PRIOR.beta + (1 - mean) * strength);
  return {
    alpha,
    beta,
    source: 'history',
    runs,
    cohorts: cs.length,
    explanation:
      `history of ${runs} run(s), ${cs.length} cohort(s): ` +
      `pooled error rate ${sig(mean * 100, 3)}% (${errors} of ${requests}); ${why}: prior Beta(${alpha}, ${beta})`,
  };
}

export interface FailureHistory {
  /** Runs whose rollout ran (not NOT_RUN). */
  runs: number;
  /** ...of which rolled back or failed. */
  failed: number;
  /** Failed runs per region the failure was in. */
  byRegion: Record<string, number>;
  /** Versions that failed, latest last. */
  versions: string[];
}

/** How earlier candidates fared: the history part of the risk score. */
export function failureHistory(records: readonly HistoryRecord[]): FailureHistory {
  const ran = records.filter((r) => r.rollout !== 'NOT_RUN');
  const failed = ran.filter((r) => r.rollout === 'ROLLED_BACK' || r.rollout === 'FAILED');
  const byRegion: Record<string, number> = {};
  for (const r of failed) if (r.failed_region) byRegion[r.failed_region] = (byRegion[r.failed_region] ?? 0) + 1;
  return { runs: ran.length, failed: failed.length, byRegion, versions: failed.map((r) => r.version) };
}
