// Time and randomness come in from outside so tests can pin them; only main.ts wires the
// real ones.

/** Returns a number in [0, 1), like Math.random. */
export type Rng = () => number;

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs fn once after ms; the returned function cancels it. */
  setTimer(ms: number, fn: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    // Unref'd: a pending fault expiry or delayed chunk must never keep a finished process alive.
    const t = setTimeout(fn, ms);
    t.unref();
    return () => clearTimeout(t);
  },
};

export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => {
    clock.setTimer(ms, resolve);
  });
}
