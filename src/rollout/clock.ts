import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../util/poll.ts';

// The clock a live rollout runs on. Its waits (bake times, analysis intervals, health-check
// intervals) end early with the signal's reason when the run is interrupted, so SIGINT goes
// straight to the rollback. Passed in, so that tests drive a whole rollout on virtual time
// without waiting. The I/O edges (traffic, the chaos runner and monitor) read Date.now()
// themselves: they time real requests against a real stack.

export interface RolloutClock extends Clock {
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemRolloutClock: RolloutClock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleep(ms, undefined, signal ? { signal } : {}),
};
