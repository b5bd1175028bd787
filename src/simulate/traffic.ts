import type { Cohort, Observation } from '../analysis/observation.ts';
import type { RolloutTraffic } from '../rollout/controller.ts';
import type { TrafficStream } from '../traffic/generator.ts';
import type { SimulatedClock } from './clock.ts';
import { lognormal, type Random } from '../util/random.ts';
import type { CohortModel } from './scenario.ts';
import type { SimulatedStack } from './stack.ts';
import type { SimulatedStore } from './store.ts';

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

interface Running {
  stream: CohortStream;
  into: Observation[];
  canary: boolean;
}

/**
 * The traffic a simulated rollout drives: the controller's streams, each answered as the
 * container behind its URL would answer, sent as virtual time passes and recorded in the
 * store. New streams start at the current time, the canary cohort's first.
 */
export class SimulatedTraffic implements RolloutTraffic {
  readonly stats = { sent: 0, skipped: 0, inFlight: 0, missingReads: 0, untimed: 0, maxClientStallMs: 0 };
  /** Requests sent to a canary cohort. */
  canarySent = 0;
  private streams: Running[] = [];
  private on = false;
  private readonly stack: SimulatedStack;
  private readonly store: SimulatedStore;
  private readonly clock: SimulatedClock;
  private readonly random: Random;

  constructor(stack: SimulatedStack, store: SimulatedStore, clock: SimulatedClock, random: Random) {
    this.stack = stack;
    this.store = store;
    this.clock = clock;
    this.random = random;
    clock.onAdvance((from, to) => this.send(from, to));
  }

  setStreams(streams: readonly TrafficStream[]): void {
    const ordered = [...streams.filter((s) => s.cohort === 'canary'), ...streams.filter((s) => s.cohort !== 'canary')];
    this.streams = ordered.flatMap((s) => {
      const model = this.stack.modelAt(s.baseUrl);
      if (!model) return [];
      const stream = cohortStream(this.random, s.region, s.cohort, model, s.rps, this.clock.now());
      return [{ stream, into: this.store.bucket(s.region, s.cohort), canary: s.cohort === 'canary' }];
    });
  }

  start(): void {
    this.on = true;
  }

  stop(): Promise<void> {
    this.on = false;
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.on = false;
    return Promise.resolve();
  }

  private send(from: number, to: number): void {
    if (!this.on) return;
    for (const s of this.streams) {
      const n = s.stream.fill(from, to, s.into);
      this.stats.sent += n;
      if (s.canary) this.canarySent += n;
      this.store.appended(n);
    }
  }
}
