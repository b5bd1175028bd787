import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../util/poll.ts';

// The clock a rollout runs on. Its waits (bake times, analysis intervals, health-check
// intervals) end early with the signal's reason when the run is interrupted, so SIGINT goes
// straight to the rollback. Rollout code reads the time only through the clock it is given
// (RolloutDeps.clock), so tests and the simulator drive a whole rollout on virtual time;
// systemRolloutClock below is the one place in rollout/ that reads the system time. The
// default traffic generator, which times real requests, keeps its own clock.

export interface RolloutClock extends Clock {
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /**
   * Runs tasks at the same time (a rollback's regions); Promise.all when absent. A virtual
   * clock may run them one after another from the same instant, ending at the latest end.
   */
  concurrently?<T>(tasks: readonly (() => Promise<T>)[]): Promise<T[]>;
}

export const systemRolloutClock: RolloutClock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleep(ms, undefined, signal ? { signal } : {}),
};

/** Runs tasks at the same time on `clock`. */
export function concurrently<T>(
  clock: Pick<RolloutClock, 'concurrently'>,
  tasks: readonly (() => Promise<T>)[],
): Promise<T[]> {
  return clock.concurrently ? clock.concurrently(tasks) : Promise.all(tasks.map((task) => task()));
}
