// The synthetic request mix: health checks, writes and read-backs of earlier writes, so a
// bad release shows on every path the service has, not only on /health. A workload
// (workload.ts) turns each kind into a request.
export type RequestKind = 'health' | 'write' | 'read';

export interface RequestMix {
  /** Requests that neither write nor read back: the demo's health checks, a user's `traffic` entries. */
  health: number;
  /** Writes whose acknowledgement is kept: the demo's orders, a user's probe writes. */
  write: number;
  /** Reads of earlier acknowledged writes. */
  read: number;
}

export const DEFAULT_MIX: RequestMix = { health: 0.4, write: 0.3, read: 0.3 };

/** Picks the kind of the next request from a uniform draw u in [0,1); a read needs an earlier write. */
export function pickKind(mix: RequestMix, u: number, haveWrites: boolean): RequestKind {
  const total = mix.health + mix.write + mix.read;
  const x = u * total;
  if (x < mix.health) return 'health';
  if (x < mix.health + mix.write) return 'write';
  return haveWrites ? 'read' : 'write';
}

/**
 * Requests per second for each cohort of a region whose canary takes `weightPercent` of
 * its traffic. Below `floorRps` a cohort is topped up so that a 1% stage is still judged
 * within its bake time (Flagger's load tester likewise targets the canary directly). At 100%
 * the baseline still gets the floor: not traffic it serves, but a reference measured beside
 * the candidate under the same host load, for the judge's comparison and the prediction's
 * calibration (without it a loaded host looks like a slower candidate).
 */
export function cohortRates(
  totalRps: number,
  weightPercent: number,
  floorRps: number,
): { baseline: number; canary: number } {
  const canaryShare = totalRps * (weightPercent / 100);
  const baselineShare = totalRps - canaryShare;
  return {
    canary: weightPercent <= 0 ? 0 : Math.max(canaryShare, floorRps),
    baseline: Math.max(baselineShare, floorRps),
  };
}
