import { describe, expect, it } from 'vitest';
import type { Observation } from '../../src/analysis/observation.ts';
import { unverifiedLines } from '../../src/cli/commands/deploy.ts';
import { rolloutExitCode } from '../../src/gate/exit.ts';
import { defaultRolloutPlan } from '../../src/config/rollout.ts';
import type { Annotation, Annotator } from '../../src/grafana/annotations.ts';
import type { RolloutClock } from '../../src/rollout/clock.ts';
import { runRollout, type RolloutTraffic } from '../../src/rollout/controller.ts';
import type { RolloutPlan } from '../../src/plan/rollout.ts';
import type { RolloutResult } from '../../src/rollout/result.ts';
import { rollBack } from '../../src/rollout/rollback.ts';
import { verifyRegion, type RegionProbes } from '../../src/rollout/verify.ts';
import type { ContainerFacts } from '../../src/stack/inspect.ts';
import type { ContainerStatus, Stack, StackStatus } from '../../src/stack/stack.ts';
import {
  defaultStackTarget,
  regionUrl,
  type Deployment,
  type RegionTarget,
  type Slot,
} from '../../src/stack/target.ts';
import type { TrafficStream } from '../../src/traffic/generator.ts';
import { ObservationStore } from '../../src/traffic/store.ts';
import type { Progress } from '../../src/util/progress.ts';

// The live rollout (controller.ts, waves.ts, rollback.ts, verify.ts) against an in-memory
// world: a fake Stack whose containers answer requests and health probes as each test says,
// synthetic traffic that records what they answer, all on a virtual clock. A whole four-region
// rollout runs in milliseconds. Sleeping advances the clock by the time slept; when two
// regions are rolled back in parallel both sleeps advance it, so there virtual time runs
// faster than real time would (no assertion here depends on that).

const START = Date.parse('2026-01-01T00:00:00.000Z');

class VirtualClock implements RolloutClock {
  t = START;
  private readonly listeners: ((to: number) => void)[] = [];
  now(): number {
    return this.t;
  }
  onAdvance(listener: (to: number) => void): void {
    this.listeners.push(listener);
  }
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.t += ms;
    for (const l of this.listeners) l(this.t);
  }
}

interface Answer {
  status: number;
  latencyMs: number;
}

interface World {
  /** The n-th request a container running `version` in `region` answers. */
  answer?: (region: string, version: string, n: number) => Answer;
  /** Whether the n-th health probe of a container passes (n counts from its deploy). */
  health?: ((region: string, slot: Slot, version: string, n: number) => boolean) | undefined;
  /** The state a deploy leaves a container in; running unless this says otherwise. */
  stateAfterDeploy?: (region: string, slot: Slot, deployment: Deployment) => string;
}

interface Container {
  region: string;
  slot: Slot;
  deployment: Deployment;
  state: string;
  served: number;
  probes: number;
}

/** A healthy service: latencies spread over 10-29 ms, no errors. */
const healthy = (n: number): Answer => ({ status: 200, latencyMs: 10 + ((n * 7) % 20) });

class FakeStack implements Stack {
  readonly target = defaultStackTarget('/nowhere');
  /** deploy and removeCanary calls, in order, with the virtual time since START. */
  readonly calls: string[] = [];
  readonly world: World;
  readonly clock: VirtualClock;
  private readonly running = new Map<string, Container>();

  constructor(world: World, clock: VirtualClock, stable: Deployment = { version: 'v1', failureRate: 0 }) {
    this.world = world;
    this.clock = clock;
    for (const r of this.target.regions)
      this.running.set(r.service, {
        region: r.name,
        slot: 'stable',
        deployment: stable,
        state: 'running',
        served: 0,
        probes: 0,
      });
  }

  up(): never {
    throw new Error('not in these tests');
  }
  down(): never {
    throw new Error('not in these tests');
  }
  logs(): Promise<string> {
    return Promise.resolve('');
  }
  faultToken(): Promise<string> {
    return Promise.resolve('token');
  }

  async deploy(region: RegionTarget, slot: Slot, deployment: Deployment): Promise<void> {
    this.calls.push(`${this.clock.now() - START} deploy ${region.name} ${slot} ${deployment.version}`);
    const state = this.world.stateAfterDeploy?.(region.name, slot, deployment) ?? 'running';
    this.running.set(slot === 'canary' ? region.canaryService : region.service, {
      region: region.name,
      slot,
      deployment,
      state,
      served: 0,
      probes: 0,
    });
  }

  async removeCanary(region: RegionTarget): Promise<void> {
    this.calls.push(`${this.clock.now() - START} remove ${region.name} canary`);
    this.running.delete(region.canaryService);
  }

  async containers(): Promise<ContainerFacts[]> {
    return [...this.running].map(([service, c]) => ({
      id: service,
      name: service,
      service,
      state: c.state,
      health: 'none',
      restartCount: 0,
      pid: 1,
      exitCode: 0,
      oomKilled: false,
      env: {},
      labels: {},
      image: '',
      networks: [],
    }));
  }

  async deployments(): Promise<Map<string, Partial<Record<Slot, Deployment>>>> {
    const map = new Map<string, Partial<Record<Slot, Deployment>>>();
    for (const c of this.running.values()) map.set(c.region, { ...map.get(c.region), [c.slot]: c.deployment });
    return map;
  }

  async status(): Promise<StackStatus> {
    const of = (service: string, slot: Slot): ContainerStatus | undefined => {
      const c = this.running.get(service);
      return (
        c && {
          service,
          slot,
          state: c.state,
          health: 'none',
          restartCount: 0,
          deployment: c.deployment,
          reportedVersion: c.state === 'running' ? c.deployment.version : undefined,
        }
      );
    };
    return {
      regions: this.target.regions.map((r) => ({
        region: r.name,
        port: r.port,
        stable: of(r.service, 'stable'),
        canary: of(r.canaryService, 'canary'),
      })),
      prometheus: { state: 'running', ready: true },
      grafana: undefined,
    };
  }

  /** Health probes a service's current container has answered. */
  probesOf(service: string): number {
    return this.running.get(service)?.probes ?? 0;
  }

  /** The container a URL reaches, as the host ports route it. */
  at(url: string): Container | undefined {
    for (const r of this.target.regions) {
      if (url.startsWith(regionUrl(this.target, r, 'stable'))) return this.running.get(r.service);
      if (url.startsWith(regionUrl(this.target, r, 'canary'))) return this.running.get(r.canaryService);
    }
    return undefined;
  }

  readonly probes: RegionProbes = {
    version: async (url) => {
      const c = this.at(url);
      return c?.state === 'running' ? c.deployment.version : undefined;
    },
    health: async (url) => {
      const c = this.at(url);
      if (c?.state !== 'running') return false;
      return this.world.health?.(c.region, c.slot, c.deployment.version, c.probes++) ?? true;
    },
  };

  /** A request sent now: what the container behind the URL answers (status 0: nothing answers). */
  request(url: string): Answer {
    const c = this.at(url);
    if (c?.state !== 'running') return { status: 0, latencyMs: 2000 };
    const n = c.served++;
    return this.world.answer?.(c.region, c.deployment.version, n) ?? healthy(n);
  }
}

/** Sends each stream's requests evenly spaced as the virtual clock advances, and records the answers. */
class FakeTraffic implements RolloutTraffic {
  readonly stats = { sent: 0, skipped: 0, inFlight: 0, missingReads: 0, untimed: 0, maxClientStallMs: 0 };
  private streams: { stream: TrafficStream; nextAt: number }[] = [];
  private on = false;
  private readonly store: ObservationStore;
  private readonly stack: FakeStack;
  private readonly clock: VirtualClock;

  constructor(store: ObservationStore, stack: FakeStack, clock: VirtualClock) {
    this.store = store;
    this.stack = stack;
    this.clock = clock;
    clock.onAdvance((to) => this.sendUntil(to));
  }

  setStreams(streams: readonly TrafficStream[]): void {
    const old = new Map(this.streams.map((s) => [key(s.stream), s.nextAt]));
    this.streams = streams
      .filter((s) => s.rps > 0)
      .map((stream) => ({ stream, nextAt: old.get(key(stream)) ?? this.clock.now() }));
  }

  start(): void {
    this.on = true;
    for (const s of this.streams) s.nextAt = Math.max(s.nextAt, this.clock.now());
  }

  async stop(): Promise<void> {
    this.on = false;
  }

  async close(): Promise<void> {
    this.on = false;
  }

  private sendUntil(to: number): void {
    if (!this.on) return;
    for (const s of this.streams) {
      for (; s.nextAt < to; s.nextAt += 1000 / s.stream.rps) {
        const { status, latencyMs } = this.stack.request(s.stream.baseUrl);
        this.stats.sent++;
        this.store.add({
          at: s.nextAt,
          region: s.stream.region,
          version: s.stream.version,
          cohort: s.stream.cohort,
          route: '/health',
          status,
          latencyMs,
        });
      }
    }
  }
}

/** The stack with another deploy. */
function withDeploy(stack: FakeStack, deploy: Stack['deploy']): Stack {
  return {
    target: stack.target,
    deploy,
    up: () => stack.up(),
    down: () => stack.down(),
    status: () => stack.status(),
    containers: () => stack.containers(),
    deployments: () => stack.deployments(),
    removeCanary: (r) => stack.removeCanary(r),
    logs: () => stack.logs(),
    faultToken: () => stack.faultToken(),
  };
}

const key = (s: TrafficStream) => `${s.region}/${s.cohort}/${s.baseUrl}`;

function recordingProgress(): Progress & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    step: (m) => void lines.push(m),
    info: (m) => void lines.push(m),
    warn: (m) => void lines.push(`warning: ${m}`),
  };
}

interface Run {
  result: RolloutResult;
  stack: FakeStack;
  store: ObservationStore;
  clock: VirtualClock;
  progress: ReturnType<typeof recordingProgress>;
  annotations: Annotation[];
}

/** A Grafana that is up, as far as the rollout can tell: it keeps what it is sent. */
function recordingAnnotator(): Annotator & { sent: Annotation[] } {
  const sent: Annotation[] = [];
  return { sent, enabled: true, annotate: (a) => void sent.push(a), flush: async () => {} };
}

async function deploy(version: string, world: World, plan: RolloutPlan = defaultRolloutPlan()): Promise<Run> {
  const clock = new VirtualClock();
  const stack = new FakeStack(world, clock);
  const store = new ObservationStore();
  const progress = recordingProgress();
  const annotator = recordingAnnotator();
  const result = await runRollout(
    { version, failureRate: 0, plan },
    {
      stack,
      progress,
      signal: new AbortController().signal,
      random: () => 0.5,
      store,
      annotator,
      dataAdmin: null,
      clock,
      probes: stack.probes,
      traffic: new FakeTraffic(store, stack, clock),
    },
  );
  return { result, stack, store, clock, progress, annotations: annotator.sent };
}

const at = (r: RolloutResult, event: string) => {
  const entry = r.timeline.find((e) => e.event === event);
  if (!entry) throw new Error(`no ${event} in the timeline`);
  return Date.parse(entry.at);
};

function firstCanary(store: ObservationStore, region: string, counts: (o: Observation) => boolean): Observation {
  const o = store.select({ region, cohort: 'canary' }).find(counts);
  if (!o) throw new Error(`no such canary request in ${region}`);
  return o;
}

describe('runRollout on an in-memory stack', () => {
  it('completes a healthy candidate: every region promoted, verified and on it, nothing to detect', async () => {
    const { result, stack } = await deploy('v2', {});
    expect(result.finalState).toBe('COMPLETED');
    expect(result.regions.map((r) => [r.region, r.finalVersion, r.outcome])).toEqual(
      ['us-west', 'us-east', 'eu-west', 'ap-south'].map((r) => [r, 'v2', 'promoted']),
    );
    expect(result.stages).toHaveLength(20);
    expect(result.timeToDetectMs).toBeNull();
    expect((await stack.status()).regions.every((r) => r.canary === undefined)).toBe(true);
    expect(rolloutExitCode(result)).toBe(0);
  });

  it(
    'annotates every transition for Grafana, tagged with the version and region, ' + "at the transition's time",
    async () => {
      const { result, annotations } = await deploy('v4', {
        answer: (_r, version, n) => (version === 'v4' ? { status: 503, latencyMs: 5 } : healthy(n)),
      });
      expect(result.finalState).toBe('ROLLED_BACK');
      expect(annotations).toHaveLength(result.timeline.length);
      expect(annotations.map((a) => a.time)).toEqual(result.timeline.map((t) => Date.parse(t.at)));
      for (const a of annotations)
        expect(a.tags).toEqual(expect.arrayContaining(['chaos-gate', 'rollout', 'version:v4']));
      const rollback = annotations.find((a) => a.tags.includes('event:abort'));
      expect(rollback?.tags).toContain('region:us-west');
      expect(rollback?.text).toMatch(/^v4: CANARY -> ROLLING_BACK \(us-west\): red verdict: error rate/);
    },
  );

  it(
    'records every analysis of a stage as an interval: ' + 'the requests since the one before, and its verdict',
    async () => {
      const { result } = await deploy('v2', {});
      for (const s of result.stages) {
        const intervals = s.intervals ?? [];
        expect(intervals).toHaveLength(s.analyses);
        expect(s.analyses).toBeGreaterThan(0);
        // Disjoint windows that together make up the stage's window.
        expect(intervals.reduce((n, i) => n + i.canary.count, 0)).toBe(s.canary.count);
        expect(intervals.reduce((n, i) => n + i.baseline.count, 0)).toBe(s.baseline.count);
        expect(intervals.map((i) => Date.parse(i.at))).toEqual(
          intervals.map((i) => Date.parse(i.at)).sort((a, b) => a - b),
        );
        expect(intervals.at(-1)?.verdict).toBe(s.verdict);
      }
    },
  );

  // Under the old definition (the canary's first failed request) this was null: no request failed.
  it('time to detect of a p99 red without a single error: first slow canary request -> red verdict', async () => {
    const slow = (region: string, version: string, n: number): Answer =>
      version === 'v4' ? { status: 200, latencyMs: 900 } : healthy(n);
    const { result, store } = await deploy('v4', { answer: slow });
    expect(result.finalState).toBe('ROLLED_BACK');
    expect(result.rollback.reason).toMatch(/^red verdict: p99/);
    expect(result.stages[0]?.canary.errors).toBe(0);
    const firstSlow = firstCanary(store, 'us-west', (o) => o.latencyMs > 500);
    expect(result.timeToDetectMs).toBe(at(result, 'ABORT') - firstSlow.at);
    expect(result.timeToDetectMs).toBeGreaterThan(0);
  });

  // Old definition: null again (no errors). The simulation measures it from the first pause.
  it(
    "time to detect of a spent pause budget: the stage's first pause -> the abort, " + 'as the simulation records it',
    async () => {
      const slower = (region: string, version: string, n: number): Answer =>
        version === 'v5' ? { status: 200, latencyMs: 2 * healthy(n).latencyMs } : healthy(n);
      const { result } = await deploy('v5', { answer: slower });
      expect(result.finalState).toBe('ROLLED_BACK');
      expect(result.rollback.reason).toMatch(/^pause budget of 10 s spent and still yellow/);
      expect(result.timeToDetectMs).toBe(at(result, 'ABORT') - at(result, 'PAUSE'));
      expect(result.timeToDetectMs).toBeGreaterThanOrEqual(10_000);
    },
  );

  it("rolls back every touched region and verifies each one's version and health", async () => {
    // Promoted in us-west, failing in us-east: us-west must be redeployed, us-east's canary removed.
    const failsInUsEast = (region: string, version: string, n: number): Answer =>
      version === 'v3' && region === 'us-east' && n % 5 !== 0 ? { status: 500, latencyMs: 5 } : healthy(n);
    const { result, stack, store } = await deploy('v3', { answer: failsInUsEast });
    expect(result.finalState).toBe('ROLLED_BACK');
    expect(result.rollback.failedRegion).toBe('us-east');
    expect(result.rollback.regions).toEqual(['us-west', 'us-east']);
    expect(
      result.rollback.verifications.map((v) => [
        v.region,
        v.ok,
        v.expectedVersion,
        v.reportedVersion,
        v.containerState,
        v.healthChecks,
      ]),
    ).toEqual([
      ['us-west', true, 'v1', 'v1', 'running', 3],
      ['us-east', true, 'v1', 'v1', 'running', 3],
    ]);
    expect(result.rollback.problems).toEqual([]);
    const abortMs = at(result, 'ABORT') - START;
    expect(
      stack.calls
        .filter((c) => Number(c.split(' ')[0]) >= abortMs)
        .map((c) => c.replace(/^\d+ /, ''))
        .sort(),
    ).toEqual(['deploy us-west stable v1', 'remove us-east canary', 'remove us-west canary']);
    expect(result.regions.map((r) => [r.region, r.finalVersion, r.outcome])).toEqual([
      ['us-west', 'v1', 'rolled_back'],
      ['us-east', 'v1', 'rolled_back'],
      ['eu-west', 'v1', 'untouched'],
      ['ap-south', 'v1', 'untouched'],
    ]);
    expect((await stack.status()).regions.every((r) => r.canary === undefined)).toBe(true);
    expect(result.timeToRollbackMs).toBe(Date.parse(result.timeline.at(-1)?.at ?? '') - at(result, 'ABORT'));
    expect(result.timeToDetectMs).toBe(at(result, 'ABORT') - firstCanary(store, 'us-east', (o) => o.status >= 500).at);
    expect(rolloutExitCode(result)).toBe(1);
  });

  it('a rollback that cannot be verified ends FAILED, naming each region and the state it was left in', async () => {
    const { result } = await deploy('v3', {
      answer: (region, version, n) =>
        version === 'v3' && region === 'us-east' ? { status: 500, latencyMs: 5 } : healthy(n),
      // us-west's stable container does not come back; us-east's stays up but its /health fails.
      stateAfterDeploy: (region, slot, d) =>
        region === 'us-west' && slot === 'stable' && d.version === 'v1' ? 'exited' : 'running',
      health: (region, slot) => !(region === 'us-east' && slot === 'stable'),
    });
    expect(result.finalState).toBe('FAILED');
    expect(result.rollback.problems).toEqual([
      'us-west: container region-us-west is exited',
      expect.stringMatching(
        /^us-east: \/health did not pass 3 times in a row within 30 s \(\d+ checks\); left running, reporting v1$/,
      ),
    ]);
    expect(result.rollback.verifications.map((v) => [v.region, v.ok, v.containerState])).toEqual([
      ['us-west', false, 'exited'],
      ['us-east', false, 'running'],
    ]);
    expect(result.timeline.at(-1)).toMatchObject({ event: 'ROLLBACK_FAILED', to: 'FAILED' });
    expect(result.timeToRollbackMs).toBeNull();
    expect(rolloutExitCode(result)).toBe(3);
    expect(unverifiedLines(result)).toEqual([
      'ROLLBACK COULD NOT BE VERIFIED. Regions left in these states:',
      ...result.rollback.problems.map((p) => `  ${p}`),
    ]);
  });

  describe('rolling strategy: the health check after each replacement', () => {
    const rolling = (consecutiveSuccesses: number, deadlineSeconds: number): RolloutPlan => ({
      ...defaultRolloutPlan(),
      strategy: 'rolling',
      health: { consecutiveSuccesses, deadlineSeconds },
    });

    it(
      'needs N consecutive passes: one failed probe among them restarts the count, ' + 'and the rollout goes on',
      async () => {
        // The third probe after each replacement fails: 3 in a row only after 6 probes.
        const { result, stack } = await deploy(
          'v2',
          { health: (region, slot, version, n) => !(version === 'v2' && n === 2) },
          rolling(3, 5),
        );
        expect(result.finalState).toBe('COMPLETED');
        expect(result.regions.every((r) => r.finalVersion === 'v2')).toBe(true);
        expect(stack.calls.filter((c) => c.includes(' deploy '))).toHaveLength(4);
        // Six probes to replace it (pass, pass, fail, then three in a row), three more after the bake.
        expect(stack.target.regions.map((r) => stack.probesOf(r.service))).toEqual([9, 9, 9, 9]);
      },
    );

    it('a flapping /health fails at the deadline, and the region is rolled back', async () => {
      const { result, stack } = await deploy(
        'v2',
        { health: (region, slot, version, n) => version !== 'v2' || n % 2 === 0 },
        rolling(3, 5),
      );
      expect(result.finalState).toBe('ROLLED_BACK');
      expect(result.rollback.reason).toMatch(
        /^us-west not healthy on v2: \/health did not pass 3 times in a row within 5 s \(20 checks\)$/,
      );
      const deployedAt = Number(stack.calls.find((c) => c.endsWith('deploy us-west stable v2'))?.split(' ')[0]);
      expect(at(result, 'ABORT') - START - deployedAt).toBe(5000);
      expect(result.rollback.verifications).toMatchObject([{ region: 'us-west', ok: true, reportedVersion: 'v1' }]);
      expect(result.timeToDetectMs).toBeNull(); // a failed verification is no verdict
    });
  });
});

describe('verifyRegion', () => {
  const setup = (health: World['health']) => {
    const clock = new VirtualClock();
    const stack = new FakeStack({ health }, clock);
    const region = stack.target.regions[0] as RegionTarget;
    const v1: Deployment = { version: 'v1', failureRate: 0 };
    return {
      clock,
      stack,
      verify: (n: number, deadlineSeconds: number, expected = v1) =>
        verifyRegion(
          stack,
          region,
          'stable',
          expected,
          { consecutiveSuccesses: n, deadlineSeconds },
          clock,
          stack.probes,
        ),
    };
  };

  it('passes after N consecutive successes, restarting the count after a failure', async () => {
    const pattern = [true, true, false, true, true, true];
    const { clock, verify } = setup((r, s, v, n) => pattern[n] ?? false);
    const v = await verify(3, 5);
    expect(v).toMatchObject({ ok: true, reportedVersion: 'v1', healthChecks: 6, containerState: 'running' });
    expect(clock.now() - START).toBe(5 * 250); // five waits between six probes, none after the last
  });

  it('a flapping /health fails at the deadline, not before and not much after', async () => {
    const { clock, verify } = setup((r, s, v, n) => n % 3 !== 2); // two passes, one failure, forever
    const v = await verify(3, 5);
    expect(v.ok).toBe(false);
    expect(v.problem).toBe('/health did not pass 3 times in a row within 5 s (20 checks)');
    expect(clock.now() - START).toBe(5000);
  });

  it('the wrong version never counts as healthy', async () => {
    const { verify } = setup(() => true);
    const v = await verify(1, 2, { version: 'v2', failureRate: 0 });
    expect(v).toMatchObject({
      ok: false,
      reportedVersion: 'v1',
      healthChecks: 0,
      problem: 'reports version v1 instead of v2',
    });
  });

  it('a container that is not running fails at once, without probing', async () => {
    const { clock, stack, verify } = setup(() => true);
    await stack.deploy(stack.target.regions[0] as RegionTarget, 'stable', { version: 'v1', failureRate: 0 });
    stack.world.stateAfterDeploy = () => 'restarting';
    await stack.deploy(stack.target.regions[0] as RegionTarget, 'stable', { version: 'v1', failureRate: 0 });
    const v = await verify(3, 30);
    expect(v).toMatchObject({
      ok: false,
      containerState: 'restarting',
      healthChecks: 0,
      problem: 'container region-us-west is restarting',
    });
    expect(clock.now()).toBe(START);
  });
});

describe('rollBack', () => {
  const v1: Deployment = { version: 'v1', failureRate: 0 };
  const v2: Deployment = { version: 'v2', failureRate: 0 };

  it('puts every touched region back (a replaced one redeployed, every canary removed) and verifies each', async () => {
    const clock = new VirtualClock();
    const stack = new FakeStack({}, clock);
    const [west, east] = stack.target.regions as [RegionTarget, RegionTarget];
    await stack.deploy(west, 'stable', v2);
    await stack.deploy(east, 'canary', v2);
    stack.calls.length = 0;
    const outcome = await rollBack(
      stack,
      [
        { region: west, previous: v1, replaced: true },
        { region: east, previous: v1, replaced: false },
      ],
      {
        health: { consecutiveSuccesses: 2, deadlineSeconds: 5 },
        clock,
        progress: recordingProgress(),
        probes: stack.probes,
      },
    );
    expect(outcome.ok).toBe(true);
    expect(outcome.problems).toEqual([]);
    expect(outcome.verifications.map((v) => [v.region, v.ok, v.reportedVersion, v.healthChecks])).toEqual([
      ['us-west', true, 'v1', 2],
      ['us-east', true, 'v1', 2],
    ]);
    expect(stack.calls.map((c) => c.replace(/^\d+ /, ''))).toEqual([
      'remove us-west canary',
      'remove us-east canary',
      'deploy us-west stable v1',
    ]);
    expect((await stack.status()).regions.slice(0, 2).map((r) => [r.stable?.reportedVersion, r.canary])).toEqual([
      ['v1', undefined],
      ['v1', undefined],
    ]);
  });

  it("records each region's failure with the state it was left in, and still rolls back the others", async () => {
    const clock = new VirtualClock();
    const stack = new FakeStack({}, clock);
    const [west, east, eu] = stack.target.regions as [RegionTarget, RegionTarget, RegionTarget];
    await stack.deploy(west, 'stable', v2);
    // us-west's rollback deploy "succeeds" but leaves v2 running; eu-west's fails outright.
    const flaky = withDeploy(stack, (r, slot, d) =>
      r.name === 'us-west'
        ? Promise.resolve()
        : r.name === 'eu-west'
          ? Promise.reject(new Error('compose up failed'))
          : stack.deploy(r, slot, d),
    );
    const outcome = await rollBack(
      flaky,
      [
        { region: west, previous: v1, replaced: true },
        { region: east, previous: v1, replaced: false },
        { region: eu, previous: v1, replaced: true },
      ],
      {
        health: { consecutiveSuccesses: 1, deadlineSeconds: 2 },
        clock,
        progress: recordingProgress(),
        probes: stack.probes,
      },
    );
    expect(outcome.ok).toBe(false);
    expect(outcome.problems).toEqual([
      'us-west: reports version v2 instead of v1; left running, reporting v2',
      'eu-west: rollback step failed: compose up failed; container region-eu-west left running',
    ]);
    expect(outcome.verifications.map((v) => [v.region, v.ok])).toEqual([
      ['us-west', false],
      ['us-east', true],
    ]);
  });
});
