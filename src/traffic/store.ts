import type { Observation } from '../analysis/observation.ts';

// In-memory record of every observation and every acknowledged write of a run; analysis
// and reports read it. Appends are O(1); reads filter a time range.
export interface AcknowledgedWrite {
  /** The id the write answered: the demo's are numbers, a user's may be strings (a uuid). */
  id: string | number;
  region: string;
  cohort: Observation['cohort'];
  version: string;
  at: number;
  /** The demo's order item, which its read must answer. */
  item?: string;
  /** The uuids a user's probe write carried in its body, which its read-back must answer. */
  uuids?: readonly string[];
}

export interface ObservationFilter {
  region?: string;
  cohort?: Observation['cohort'];
  from?: number;
  to?: number;
}

export class ObservationStore {
  private readonly items: Observation[] = [];
  private readonly writes: AcknowledgedWrite[] = [];

  add(observation: Observation): void {
    this.items.push(observation);
  }

  acknowledge(write: AcknowledgedWrite): void {
    this.writes.push(write);
  }

  select(filter: ObservationFilter = {}): Observation[] {
    return this.items.filter(
      (o) =>
        (filter.region === undefined || o.region === filter.region) &&
        (filter.cohort === undefined || o.cohort === filter.cohort) &&
        (filter.from === undefined || o.at >= filter.from) &&
        (filter.to === undefined || o.at < filter.to),
    );
  }

  acknowledgedWrites(region?: string): AcknowledgedWrite[] {
    return region === undefined ? [...this.writes] : this.writes.filter((w) => w.region === region);
  }

  get size(): number {
    return this.items.length;
  }
}
