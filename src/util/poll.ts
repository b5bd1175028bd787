// Readiness is polled against a deadline, never assumed after a fixed sleep.
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface PollOptions {
  deadlineMs: number;
  intervalMs: number;
  clock?: Clock;
}

/**
 * Calls `attempt` until it returns a value other than undefined or the deadline passes.
 * Returns the value, or undefined on time-out; the caller says what timed out.
 */
export async function pollUntil<T>(
  attempt: () => Promise<T | undefined>,
  options: PollOptions,
): Promise<T | undefined> {
  const clock = options.clock ?? systemClock;
  const end = clock.now() + options.deadlineMs;
  for (;;) {
    const value = await attempt();
    if (value !== undefined) return value;
    if (clock.now() >= end) return undefined;
    await clock.sleep(Math.min(options.intervalMs, Math.max(0, end - clock.now())));
  }
}
