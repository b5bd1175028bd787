import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Fault } from '../../src/chaos/experiment.ts';
import { injectionFor } from '../../src/chaos/injectors/index.ts';
import type { InjectorContext } from '../../src/chaos/injectors/injector.ts';
import { faultBody } from '../../src/chaos/injectors/service-fault.ts';
import type { ContainerControl, DelayOutcome } from '../../src/stack/docker-control.ts';
import type { ContainerFacts } from '../../src/stack/inspect.ts';

// The injectors against a fake Docker (ContainerControl) and a fake fault endpoint on
// loopback that behaves like the region service's: token, 202, GET list, DELETE lifts all.

const TOKEN = 'secret';
let server: Server;
let baseUrl = '';
let active: Record<string, unknown>[] = [];
let posts: Record<string, unknown>[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const reply = (status: number, value: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      if (req.headers.authorization !== `Bearer ${TOKEN}`) return reply(401, { error: 'unauthorized' });
      if (req.method === 'POST') {
        const fault = JSON.parse(body) as Record<string, unknown>;
        posts.push(fault);
        active.push(fault);
        return reply(202, { id: active.length });
      }
      if (req.method === 'DELETE') {
        const lifted = active.length;
        active = [];
        return reply(200, { lifted });
      }
      return reply(200, { faults: active });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const container = (id: string, pid: number): ContainerFacts => ({
  id,
  name: `c-${id}`,
  service: `region-${id}`,
  state: 'running',
  health: 'healthy',
  restartCount: 0,
  pid,
  exitCode: 0,
  oomKilled: false,
  env: {},
  labels: {},
  image: '',
  networks: ['chaos-gate_stack'],
});

/** The state of each dependency's container as the fake Docker keeps it. */
const depState = new Map<string, string>();
/** Each container's CPU limit and throttled periods, as the fake cgroup keeps them. */
const limits = new Map<string, { nanoCpus: number; cpuQuota: number; cpuPeriod: number }>();
const throttled = new Map<string, number>();
/** Each container's memory limit (bytes, 0: none) as the fake cgroup keeps it; usage 40 MiB, 30 its own. */
const memLimits = new Map<string, number>();
const MiB = 1024 * 1024;

function fakeControl(
  overrides: Partial<ContainerControl> = {},
): ContainerControl & { calls: string[]; attached: Map<string, Set<string>> } {
  const calls: string[] = [];
  const attached = new Map([
    ['a', new Set(['chaos-gate_stack'])],
    ['b', new Set(['chaos-gate_stack'])],
  ]);
  return {
    calls,
    attached,
    pause: async (id) => {
      calls.push(`pause ${id}`);
      depState.set(id, 'paused');
    },
    unpause: async (id) => {
      calls.push(`unpause ${id}`);
      depState.set(id, 'running');
    },
    stop: async (id) => {
      calls.push(`stop ${id}`);
      depState.set(id, 'exited');
    },
    crash: async (pid) => {
      calls.push(`crash ${pid}`);
      return 'host-kill-9';
    },
    addDelay: async (pid): Promise<DelayOutcome> => {
      calls.push(`delay ${pid}`);
      return { ok: false, reason: 'the kernel has no netem qdisc' };
    },
    clearDelay: async (pid) => {
      calls.push(`clear ${pid}`);
    },
    networks: async (id) => Object.fromEntries([...(attached.get(id) ?? [])].map((n) => [n, [`region-${id}`]])),
    disconnect: async (id, network) => {
      calls.push(`disconnect ${id} ${network}`);
      attached.get(id)?.delete(network);
    },
    connect: async (id, network, aliases) => {
      calls.push(`connect ${id} ${network} ${aliases.join(',')}`);
      attached.get(id)?.add(network);
    },
    start: async (id) => {
      calls.push(`start ${id}`);
      if (depState.has(id)) depState.set(id, 'running');
    },
    // A fake cgroup: a quota held back the container once per call while it was set.
    cpuLimit: async (id) => limits.get(id) ?? { nanoCpus: 0, cpuQuota: 0, cpuPeriod: 0 },
    throttleCpu: async (id, cpus) => {
      calls.push(`throttle ${id} ${cpus}`);
      limits.set(id, { nanoCpus: 0, cpuQuota: cpus * 100_000, cpuPeriod: 100_000 });
    },
    restoreCpu: async (id, original) => {
      calls.push(`restore ${id} ${original.cpuQuota}`);
      limits.set(id, original);
    },
    cpuThrottling: async (id) => {
      const held = (limits.get(id)?.cpuQuota ?? 0) > 0;
      throttled.set(id, (throttled.get(id) ?? 0) + (held ? 3 : 0));
      return { periods: 100, throttledPeriods: throttled.get(id) ?? 0, throttledNs: (throttled.get(id) ?? 0) * 1e6 };
    },
    // A fake memory cgroup: 30 MiB of the process's own and 10 of cache, squeezed to the limit.
    memoryLimit: async (id) => ({ memory: memLimits.get(id) ?? 0, memorySwap: memLimits.get(id) ?? 0 }),
    limitMemory: async (id, bytes) => {
      calls.push(`limit memory ${id} ${bytes / MiB}`);
      memLimits.set(id, bytes);
    },
    restoreMemory: async (id, original, lowered) => {
      calls.push(`restore memory ${id} ${original.memory / MiB} from ${lowered / MiB}`);
      memLimits.set(id, original.memory);
    },
    hostMemory: async () => 1024 * MiB,
    memoryUsage: async (id) => {
      const limit = memLimits.get(id) || 1024 * MiB;
      return { usage: Math.min(40 * MiB, limit), anon: 30 * MiB, limit };
    },
    ...overrides,
  };
}

function context(control: ContainerControl, regions = ['a']): InjectorContext {
  const targets = regions.map((r, i) => ({
    region: r,
    baseUrl,
    innerUrl: `http://region-${r}:8080`,
    container: container(r, 100 + i),
  }));
  return {
    control,
    token: TOKEN,
    targets,
    facts: async (region) => targets.find((t) => t.region === region)?.container,
    dependency: async (name) => {
      const state = depState.get(`dep-${name}`);
      return state === undefined ? undefined : { ...container(`dep-${name}`, 300), service: name, state };
    },
  };
}

const latency = (method: 'auto' | 'tc-netem' | 'fault-endpoint'): Fault => ({
  kind: 'latency',
  durationSeconds: 8,
  delayMs: 300,
  jitterMs: 50,
  method,
});

beforeEach(() => {
  active = [];
  posts = [];
  depState.clear();
  depState.set('dep-postgres', 'running');
});

describe('network-latency', () => {
  it('uses netem where it works, and lifts it', async () => {
    const control = fakeControl({
      addDelay: async (pid) => {
        control.calls.push(`delay ${pid}`);
        return { ok: true, method: 'tc-netem' };
      },
    });
    const injection = injectionFor(latency('auto'), context(control, ['a', 'b']));
    expect(await injection.inject()).toEqual({ method: 'tc-netem', notes: [] });
    expect(posts).toEqual([]);
    await injection.revert();
    expect(control.calls).toEqual(['delay 100', 'delay 101', 'clear 100', 'clear 101']);
  });

  it('falls back to the service fault where netem is missing, undoing a partial netem, and says so', async () => {
    let n = 0;
    const control = fakeControl({
      addDelay: async (pid) => {
        control.calls.push(`delay ${pid}`);
        return n++ === 0 ? { ok: true, method: 'tc-netem' } : { ok: false, reason: 'the kernel has no netem qdisc' };
      },
    });
    const injection = injectionFor(latency('auto'), context(control, ['a', 'b']));
    const outcome = await injection.inject();
    expect(outcome.method).toBe('fault-endpoint');
    expect(outcome.notes[0]).toContain('tc netem not available (b: the kernel has no netem qdisc)');
    expect(control.calls).toEqual(['delay 100', 'delay 101', 'clear 100']);
    expect(posts).toEqual([
      faultBody(latency('auto') as Extract<Fault, { kind: 'latency' }>),
      faultBody(latency('auto') as Extract<Fault, { kind: 'latency' }>),
    ]);
    expect(posts[0]).toEqual({ kind: 'latency', duration_ms: 13_000, delay_ms: 300, jitter_ms: 50 });
    await injection.revert();
    expect(active).toEqual([]);
  });

  it('refuses to fall back when netem is required', async () => {
    const injection = injectionFor(latency('tc-netem'), context(fakeControl()));
    await expect(injection.inject()).rejects.toThrow(
      'tc netem is required (method: tc-netem) but cannot run here: a: the kernel has no netem qdisc',
    );
    expect(posts).toEqual([]);
    await injection.revert();
  });

  it('goes straight to the endpoint when told to', async () => {
    const control = fakeControl();
    expect((await injectionFor(latency('fault-endpoint'), context(control)).inject()).method).toBe('fault-endpoint');
    expect(control.calls).toEqual([]);
  });
});

describe('service faults', () => {
  it.each([
    [
      { kind: 'cpu', durationSeconds: 8, method: 'fault-endpoint', cpus: 0.1 },
      { kind: 'cpu', duration_ms: 13_000 },
    ],
    [
      { kind: 'memory', durationSeconds: 8, mb: 240, method: 'fault-endpoint' },
      { kind: 'memory', duration_ms: 13_000, mb: 240 },
    ],
    [
      { kind: 'db_unavailable', durationSeconds: 2.5 },
      { kind: 'db_unavailable', duration_ms: 7500 },
    ],
    [
      { kind: 'failure_rate', durationSeconds: 8, rate: 0.5 },
      { kind: 'failure_rate', duration_ms: 13_000, rate: 0.5 },
    ],
  ] as const)('%j posts %j and lifts it', async (fault, body) => {
    const injection = injectionFor(fault, context(fakeControl()));
    await injection.inject();
    expect(posts).toEqual([body]);
    expect(active).toHaveLength(1);
    await injection.revert();
    await injection.revert(); // idempotent
    expect(active).toEqual([]);
  });

  it('fails an injection the service refuses, with its answer', async () => {
    const ctx = { ...context(fakeControl()), token: 'wrong' };
    await expect(
      injectionFor({ kind: 'cpu', durationSeconds: 1, method: 'fault-endpoint', cpus: 0.1 }, ctx).inject(),
    ).rejects.toThrow(/refused .*HTTP 401/);
  });

  it('takes a service that stopped answering for one whose faults died with its process', async () => {
    const ctx = context(fakeControl());
    const gone = {
      ...ctx,
      revertDeadlineMs: 300,
      targets: ctx.targets.map((t) => ({ ...t, baseUrl: 'http://127.0.0.1:9' })),
      facts: async () => container('a', 555),
    };
    await expect(
      injectionFor({ kind: 'cpu', durationSeconds: 1, method: 'fault-endpoint', cpus: 0.1 }, gone).revert(),
    ).resolves.toBeUndefined();
    const same = { ...gone, facts: async () => container('a', 100) };
    await expect(
      injectionFor({ kind: 'cpu', durationSeconds: 1, method: 'fault-endpoint', cpus: 0.1 }, same).revert(),
    ).rejects.toThrow('could not confirm that the faults on a were lifted');
  });
});

describe('network-partition', () => {
  it('cuts every network and restores them with their aliases, once', async () => {
    const control = fakeControl();
    const injection = injectionFor({ kind: 'partition', durationSeconds: 8 }, context(control, ['a', 'b']));
    expect(await injection.inject()).toEqual({ method: 'docker-network-disconnect', notes: [] });
    expect(control.attached.get('a')?.size).toBe(0);
    await injection.revert();
    await injection.revert();
    expect(control.calls).toEqual([
      'disconnect a chaos-gate_stack',
      'disconnect b chaos-gate_stack',
      'connect a chaos-gate_stack region-a',
      'connect b chaos-gate_stack region-b',
    ]);
  });

  it('reconnects what a failed injection had already cut', async () => {
    const control = fakeControl();
    const failing = {
      ...control,
      disconnect: async (id: string, network: string) => {
        if (id === 'b') throw new Error('docker said no');
        await control.disconnect(id, network);
      },
    };
    const injection = injectionFor({ kind: 'partition', durationSeconds: 8 }, context(failing, ['a', 'b']));
    await expect(injection.inject()).rejects.toThrow('docker said no');
    await injection.revert();
    expect(control.attached.get('a')).toEqual(new Set(['chaos-gate_stack']));
    expect(control.calls.filter((c) => c.startsWith('connect'))).toEqual(['connect a chaos-gate_stack region-a']);
  });
});

describe('service-kill', () => {
  it('crashes the main process of every target; nothing to lift', async () => {
    const control = fakeControl();
    const injection = injectionFor({ kind: 'kill' }, context(control, ['a', 'b']));
    expect(await injection.inject()).toEqual({ method: 'host-kill-9', notes: [] });
    await injection.revert();
    expect(control.calls).toEqual(['crash 100', 'crash 101']);
  });
});

describe('dependency', () => {
  const dependency = (mode: 'pause' | 'stop', service = 'postgres'): Fault => ({
    kind: 'dependency',
    durationSeconds: 8,
    service,
    mode,
  });

  it.each([
    ['pause', 'docker-pause', 'paused', ['pause dep-postgres', 'unpause dep-postgres']],
    ['stop', 'docker-stop', 'exited', ['stop dep-postgres', 'start dep-postgres']],
  ] as const)(
    "%s: the container's state says the fault took effect; lifted once",
    async (mode, method, state, calls) => {
      const control = fakeControl();
      const injection = injectionFor(dependency(mode), context(control));
      expect(await injection.inject()).toEqual({ method, notes: [`postgres (c-dep-postgres) ${state}`] });
      await injection.revert();
      await injection.revert();
      expect(control.calls).toEqual(calls);
      expect(depState.get('dep-postgres')).toBe('running');
    },
  );

  it('a pause that did not take effect is an error (the experiment could not run), and nothing is left to lift', async () => {
    const control = fakeControl({ pause: async () => undefined });
    const injection = injectionFor(dependency('pause'), context(control));
    await expect(injection.inject()).rejects.toThrow(
      'docker pause of postgres did not take effect: its container is running',
    );
    await injection.revert();
  });

  it('refuses a dependency that has no container, or is not running', async () => {
    const control = fakeControl();
    await expect(injectionFor(dependency('pause', 'redis'), context(control)).inject()).rejects.toThrow(
      'the dependency redis has no container in the stack',
    );
    depState.set('dep-postgres', 'exited');
    await expect(injectionFor(dependency('stop'), context(control)).inject()).rejects.toThrow(
      'the dependency postgres is exited, not running',
    );
    expect(control.calls).toEqual([]);
  });

  it('says so when it cannot be brought back', async () => {
    const control = fakeControl({ unpause: async () => undefined });
    const injection = injectionFor(dependency('pause'), context(control));
    await injection.inject();
    await expect(injection.revert()).rejects.toThrow('postgres is paused after the fault was lifted');
  });
});

describe('guard: what a warden undoes if the gate dies', () => {
  const kill: Fault = { kind: 'kill' };
  const partition: Fault = { kind: 'partition', durationSeconds: 8 };
  const cpu: Fault = { kind: 'cpu', durationSeconds: 8, method: 'fault-endpoint', cpus: 0.1 };
  it.each<[string, Fault, unknown[]]>([
    ['kill', kill, [{ kind: 'start', container: 'a' }]],
    ['partition', partition, [{ kind: 'reconnect', container: 'a', networks: { 'chaos-gate_stack': ['region-a'] } }]],
    ['cpu', cpu, [{ kind: 'lift-endpoint', url: 'http://region-a:8080/faults' }]],
    [
      'a paused dependency',
      { kind: 'dependency', durationSeconds: 8, service: 'postgres', mode: 'pause' },
      [{ kind: 'unpause', container: 'dep-postgres' }],
    ],
    [
      'a stopped dependency',
      { kind: 'dependency', durationSeconds: 8, service: 'postgres', mode: 'stop' },
      [{ kind: 'start', container: 'dep-postgres' }],
    ],
    [
      'latency by the endpoint',
      latency('fault-endpoint'),
      [{ kind: 'lift-endpoint', url: 'http://region-a:8080/faults' }],
    ],
    [
      'latency, auto',
      latency('auto'),
      [
        { kind: 'lift-endpoint', url: 'http://region-a:8080/faults' },
        { kind: 'reset-network', container: 'a', networks: { 'chaos-gate_stack': ['region-a'] } },
      ],
    ],
  ])('%s', async (_name, fault, steps) => {
    const control = fakeControl();
    expect(await injectionFor(fault, context(control)).guard()).toEqual(steps);
    expect(control.calls).toEqual([]);
  });

  it('a partition cuts exactly the networks its guard recorded, and puts them back', async () => {
    const control = fakeControl();
    const injection = injectionFor(partition, context(control));
    const [step] = await injection.guard();
    control.attached.get('a')?.add('late_network');
    await injection.inject();
    expect(control.calls).toEqual(['disconnect a chaos-gate_stack']);
    expect(step).toEqual({ kind: 'reconnect', container: 'a', networks: { 'chaos-gate_stack': ['region-a'] } });
    await injection.revert();
    expect(control.calls.at(-1)).toBe('connect a chaos-gate_stack region-a');
  });
});

describe('memory, method cgroup: a memory limit from outside', () => {
  const memory: Fault = { kind: 'memory', durationSeconds: 5, method: 'cgroup', mb: 4 };

  it("holds each target to its own memory plus mb, shows the cgroup's limit and usage, and gives each its own back", async () => {
    memLimits.clear();
    memLimits.set('b', 512 * MiB);
    const control = fakeControl();
    const injection = injectionFor(memory, context(control, ['a', 'b']));
    expect(await injection.guard()).toEqual([
      { kind: 'memory-limit', container: 'a', memory: 0, memorySwap: 0 },
      { kind: 'memory-limit', container: 'b', memory: 512 * MiB, memorySwap: 512 * MiB },
    ]);
    const outcome = await injection.inject();
    expect(outcome).toEqual({
      method: 'cgroup-memory-limit',
      notes: [
        'each target held to its own memory plus 4 MiB: a 34 MiB (30 its own, 40 in all, at most 34 MiB used); ' +
          'b 34 MiB (30 its own, 40 in all, at most 34 MiB used)',
      ],
    });
    expect(injection.evidence?.()).toBeUndefined();
    await injection.revert();
    expect(injection.evidence?.()).toMatch(/^memory limit held: a 34 MiB .*at most 34 MiB used/);
    await injection.revert();
    expect(control.calls).toEqual([
      'limit memory a 34',
      'limit memory b 34',
      'restore memory a 0 from 34',
      'restore memory b 512 from 34',
    ]);
    expect(memLimits.get('b')).toBe(512 * MiB);
  });

  it('a limit the cgroup never reports is an error (could not run), and the limit is given back', async () => {
    memLimits.clear();
    const control = fakeControl({
      // The update never reached the kernel: the cgroup still has the host's memory.
      memoryUsage: async () => ({ usage: 40 * MiB, anon: 30 * MiB, limit: 1024 * MiB }),
    });
    const injection = injectionFor(memory, context(control));
    await expect(injection.inject()).rejects.toThrow(
      'the memory limit did not take effect in 3 s: a: its cgroup does not report 34 MiB',
    );
    await injection.revert();
    expect(injection.evidence?.()).toBeUndefined();
    expect(control.calls).toEqual(['limit memory a 34', 'restore memory a 0 from 34']);
  });
});

describe('cpu, method cgroup: a CFS quota from outside', () => {
  const cpu: Fault = { kind: 'cpu', durationSeconds: 5, method: 'cgroup', cpus: 0.1 };

  it("holds each target to its quota, shows the kernel's throttling as its effect, and gives each its own limit back", async () => {
    limits.set('b', { nanoCpus: 0, cpuQuota: 50_000, cpuPeriod: 100_000 });
    const control = fakeControl();
    const injection = injectionFor(cpu, context(control, ['a', 'b']));
    expect(await injection.guard()).toEqual([
      { kind: 'cpu-limit', container: 'a', nanoCpus: 0, cpuQuota: 0 },
      { kind: 'cpu-limit', container: 'b', nanoCpus: 0, cpuQuota: 50_000 },
    ]);
    expect(await injection.inject()).toEqual({
      method: 'cgroup-cpu-quota',
      notes: ['each target keeps 0.1 of a core (CFS quota); its throttling counters rose'],
    });
    await injection.revert();
    await injection.revert();
    expect(control.calls).toEqual(['throttle a 0.1', 'throttle b 0.1', 'restore a 0', 'restore b 50000']);
    expect(limits.get('b')).toEqual({ nanoCpus: 0, cpuQuota: 50_000, cpuPeriod: 100_000 });
  });

  it('a quota the kernel never enforced is an error (could not run), and the limit is given back', async () => {
    limits.clear();
    const control = fakeControl({ cpuThrottling: async () => ({ periods: 10, throttledPeriods: 0, throttledNs: 0 }) });
    const injection = injectionFor(cpu, context(control));
    await expect(injection.inject()).rejects.toThrow(
      'the CPU quota (0.1 of a core) had no measurable effect on a: no throttled period in 3 s',
    );
    await injection.revert();
    expect(control.calls).toEqual(['throttle a 0.1', 'restore a 0']);
  });
});
