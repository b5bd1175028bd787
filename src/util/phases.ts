// How long each phase of a run took (build, stack up, baseline, suite, rollout, down), for
// the report and the benchmark. The clock is injected like everywhere else.

export interface PhaseTiming {
  name: string;
  ms: number;
}

export interface PhaseTimer {
  readonly phases: PhaseTiming[];
  /** Runs fn and records its duration under name, also when it throws. */
  time<T>(name: string, fn: () => Promise<T>): Promise<T>;
}

export function phaseTimer(now: () => number): PhaseTimer {
  const phases: PhaseTiming[] = [];
  return {
    phases,
    async time(name, fn) {
      const started = now();
      try {
        return await fn();
      } finally {
        phases.push({ name, ms: Math.round(now() - started) });
      }
    },
  };
}
