// One synthetic request as the traffic generator saw it. Everything the judgement and the
// reports compute starts from these.
export type Cohort = 'baseline' | 'canary';

export interface Observation {
  /** When the request was sent, ms since the epoch (or virtual ms in simulations). */
  at: number;
  region: string;
  version: string;
  cohort: Cohort;
  route: string;
  /** HTTP status; 0 for a network error or a time-out. */
  status: number;
  latencyMs: number;
  /**
   * The load generator's own event loop stalled while this request was in flight, so
   * latencyMs holds the client's delay as well as the service's. Its status still counts;
   * its latency is left out of every latency statistic.
   */
  untimed?: boolean;
  /**
   * An answer outside the statuses a user's request expects (its `expect_status`): an error
   * whatever its status. The demo's traffic never sets it.
   */
  unexpected?: true;
  /** For an error: the hop the service named as its cause (service.attribution); absent: none named. */
  hop?: string;
}

/** A successful request whose latency is the service's: what latency statistics use. */
export function isTimedSuccess(o: Pick<Observation, 'status' | 'untimed' | 'unexpected'>): boolean {
  return !isError(o) && o.untimed !== true;
}

/** An error is a failed exchange: no answer at all, a 5xx, or an answer the request did not expect. */
export function isError(o: Pick<Observation, 'status' | 'unexpected'>): boolean {
  return o.status === 0 || o.status >= 500 || o.unexpected === true;
}
