import type { Cohort, Observation } from '../analysis/observation.ts';
import { ObservationStore, type ObservationFilter } from '../traffic/store.ts';

// The observation store of a simulated rollout: the same contract as the live one, kept per
// region and cohort in time order, so that the controller's reads of one stage's window are
// a binary search rather than a scan of the whole run (a simulation runs thousands of them).

export class SimulatedStore extends ObservationStore {
  private readonly buckets = new Map<string, Observation[]>();
  private count = 0;
  private ordered = true;

  /** The list the observations of a region's cohort are appended to, in time order. */
  bucket(region: string, cohort: Cohort): Observation[] {
    const key = `${region}\u0000${cohort}`;
    let list = this.buckets.get(key);
    if (!list) {
      list = [];
      this.buckets.set(key, list);
    }
    return list;
  }

  /** Records observations appended to a bucket directly. */
  appended(n: number): void {
    this.count += n;
  }

  override add(observation: Observation): void {
    const list = this.bucket(observation.region, observation.cohort);
    const last = list.at(-1);
    if (last && observation.at < last.at) this.ordered = false;
    list.push(observation);
    this.count++;
  }

  override select(filter: ObservationFilter = {}): Observation[] {
    const { region, cohort, from, to } = filter;
    if (region === undefined || cohort === undefined || !this.ordered) {
      const all = [...this.buckets.values()].flat().sort((a, b) => a.at - b.at);
      return all.filter(
        (o) =>
          (region === undefined || o.region === region) &&
          (cohort === undefined || o.cohort === cohort) &&
          (from === undefined || o.at >= from) &&
          (to === undefined || o.at < to),
      );
    }
    const list = this.buckets.get(`${region}\u0000${cohort}`) ?? [];
    const start = from === undefined ? 0 : firstAtOrAfter(list, from);
    const end = to === undefined ? list.length : firstAtOrAfter(list, to);
    return list.slice(start, end);
  }

  override get size(): number {
    return this.count;
  }
}

/** Index of the first observation at or after `t` in a list ordered by time. */
function firstAtOrAfter(list: readonly Observation[], t: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((list[mid] as Observation).at < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
