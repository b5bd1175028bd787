import { describe, expect, it } from 'vitest';
import type { Observation } from '../../src/analysis/observation.ts';
import { runDifferential, type DifferentialStage } from '../../src/chaos/differential.ts';
import type { Experiment } from '../../src/chaos/experiment.ts';
import type { ContainerControl } from '../../src/stack/docker-control.ts';
import type { ContainerFacts } from '../../src/stack/inspect.ts';
import type { Stack } from '../../src/stack/stack.ts';
import { defaultStackTarget } from '../../src/stack/target.ts';
import type { TrafficStream } from '../../src/traffic/generator.ts';
import { ObservationStore } from '../../src/traffic/store.ts';

// The differential runner on an in-memory stack and virtual time: the same fault on both
// sides of the region, both lifted whatever happens, and a fault that cannot be injected is
// "could not run", never a verdict on the candidate.

const target = defaultStackTarget('/nowhere');
const region = target.regions[0] as (typeof target.regions)[number];
const facts = (service: string, restarts: number): ContainerFacts => ({
  id: service,
  name: service,
  service,
  state: 'running',
  health: 'healthy',
  restartCount: restarts,
  pid: 100,
  exitCode: 0,
  oomKilled: false,
  env: {},
  labels: {},
  image: '',
  networks: [],
});

const experiment = (fault: Experiment['fault']): Experiment => ({
  name: 'candidate-x',
  description: 'd',
  source: 'built-in',
  target: { regions: ['us-west'] },
  fault,
  load: { rps: 20, writeShare: 0, readShare: 0, otherRegionsRps: 0, timeoutMs: 2000 },
  windows: { beforeSeconds: 2, afterSeconds: 2, recoveryDeadlineSeconds: 20 },
  thresholds: [],
  effect: [],
});

/** A stage whose traffic answers from `answer(slot, at)` every 50 ms of virtual time, and a stack whose containers restart after a crash. */
function setup(answer: (cohort: 'baseline' | 'canary', at: number) => number, control: Partial<ContainerControl> = {}) {
  let now = 1_000_000;
  let streams: readonly TrafficStream[] = [];
  const streamLog: number[] = [];
  const calls: string[] = [];
  let restarts = 0;
  const store = new ObservationStore();
  const clock = {
    now: () => now,
    async sleep(ms: number) {
      for (const end = now + ms; now < end; now += 50) {
        for (const s of streams)
          store.add({
            at: now,
            region: s.region,
            version: s.version,
            cohort: s.cohort,
            route: '/',
            status: answer(s.cohort, now),
            latencyMs: 5,
          } satisfies Observation);
      }
    },
  };
  const stack = {
    target,
    containers: async () => [facts(region.service, restarts), facts(region.canaryService, restarts)],
  } as unknown as Stack;
  const fake = {
    crash: async (pid: number) => {
      calls.push(`crash ${pid}`);
      restarts = 1;
      return 'host-kill-9';
    },
    ...control,
  } as unknown as ContainerControl;
  const stage: DifferentialStage = {
    region,
    stage: 0,
    baseline: { version: 'v1', failureRate: 0 },
    candidate: { version: 'v2', failureRate: 0 },
    traffic: {
      setStreams: (s) => {
        streams = s;
        streamLog.push(s.length);
      },
    },
    store,
    clock,
    signal: new AbortController().signal,
  };
  const env = {
    stack,
    control: fake,
    progress: { step: () => undefined, info: () => undefined, warn: () => undefined },
    token: '',
    rps: 20,
    tolerance: {
      alpha: 0.05,
      minSamples: 30,
      maxErrorRateIncrease: 0.05,
      maxLatencyIncreaseRatio: 0.5,
      maxLatencyIncreaseMs: 50,
      maxRecoveryIncreaseSeconds: 3,
    },
  };
  return { stage, env, calls, streamLog, start: now };
}

describe('runDifferential', () => {
  it('crashes both sides at once and finds the one that stays down 10 s longer', async () => {
    const s = setup((cohort, at) =>
      at >= s.start + 2000 && at < s.start + 2000 + (cohort === 'canary' ? 11_000 : 1000) ? 0 : 200,
    );
    const r = await runDifferential(experiment({ kind: 'kill' }), s.stage, s.env);
    expect(s.calls).toEqual(['crash 100', 'crash 100']);
    expect(r.verdict, r.reasons.join('\n')).toBe('regression');
    expect(r.headline).toMatch(
      /^under a crash \(SIGKILL of the main process\), the candidate served again after 11\.\d s, the baseline after 1\.\d s \(tolerated \+3 s\)$/,
    );
    expect([r.candidate.restarts, r.baseline.restarts]).toEqual([1, 1]);
    expect(s.streamLog).toEqual([2, 0]);
  });

  it('passes a candidate that comes back with the baseline', async () => {
    const s = setup((_cohort, at) => (at >= s.start + 2000 && at < s.start + 3000 ? 0 : 200));
    const r = await runDifferential(experiment({ kind: 'kill' }), s.stage, s.env);
    expect(r.verdict, r.reasons.join('\n')).toBe('pass');
    expect(r.fault).toMatchObject({ kind: 'kill', method: 'host-kill-9' });
  });

  it('a fault that cannot be injected could not run: nothing judged, the load taken off', async () => {
    const s = setup(() => 200, {
      crash: async () => {
        throw new Error('the kill experiment needs root');
      },
    });
    const r = await runDifferential(experiment({ kind: 'kill' }), s.stage, s.env);
    expect([r.verdict, r.fault.method]).toEqual(['could_not_run', 'not injected']);
    expect(r.headline).toBe(
      'under a crash (SIGKILL of the main process): could not run: the kill experiment needs root',
    );
    expect(s.streamLog).toEqual([2, 0]);
  });

  it('a dependency fault is lifted even when the run fails after injecting it', async () => {
    const states = new Map([['postgres', 'running']]);
    const userTarget = {
      ...target,
      service: {
        dependencies: [{ name: 'postgres', image: undefined, dependsOn: [], perRegion: false, definition: undefined }],
      },
    } as unknown as Stack['target'];
    const s = setup(() => 200, {
      pause: async () => {
        s.calls.push('pause');
        states.set('postgres', 'paused');
      },
      unpause: async () => {
        s.calls.push('unpause');
        states.set('postgres', 'running');
      },
    });
    const stack = {
      target: userTarget,
      containers: async () => [
        facts(region.service, 0),
        facts(region.canaryService, 0),
        { ...facts('postgres', 0), state: states.get('postgres') ?? 'running' },
      ],
    } as unknown as Stack;
    // The before window passes; the clock breaks while the fault is held.
    let sleeps = 0;
    const failing = {
      ...s.stage,
      clock: {
        now: s.stage.clock.now,
        sleep: async (ms: number) => {
          if (++sleeps > 1) throw new Error('clock broke');
          await s.stage.clock.sleep(ms);
        },
      },
    };
    const r = await runDifferential(
      experiment({ kind: 'dependency', durationSeconds: 5, service: 'postgres', mode: 'pause' }),
      failing,
      { ...s.env, stack },
    );
    expect([r.verdict, r.headline]).toEqual([
      'could_not_run',
      'under postgres frozen (docker pause) for 5 s: could not run: clock broke',
    ]);
    expect(s.calls).toEqual(['pause', 'unpause']);
    expect(states.get('postgres')).toBe('running');
  });
});
