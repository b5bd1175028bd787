import type { RolloutClock } from '../rollout/clock.ts';

// Virtual time for a simulated rollout, in ms since it started. Sleeping moves time on at
// once and lets the simulated traffic send what it would have sent meanwhile. Tasks run
// "at the same time" (a rollback's regions) run one after another from the same instant, and
// time then stands at the latest of their ends, as it would on a real clock.

export class SimulatedClock implements RolloutClock {
  private t = 0;
  private listener: ((from: number, to: number) => void) | undefined;

  now(): number {
    return this.t;
  }

  /** Called with every stretch of time that passes (the traffic fills it). */
  onAdvance(listener: (from: number, to: number) => void): void {
    this.listener = listener;
  }

  advance(ms: number): void {
    const from = this.t;
    this.t += ms;
    this.listener?.(from, this.t);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.advance(ms);
    return Promise.resolve();
  }

  async concurrently<T>(tasks: readonly (() => Promise<T>)[]): Promise<T[]> {
    const start = this.t;
    let end = start;
    const results: T[] = [];
    for (const task of tasks) {
      this.t = start;
      results.push(await task());
      end = Math.max(end, this.t);
    }
    this.t = end;
    return results;
  }
}
