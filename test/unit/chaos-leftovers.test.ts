import { describe, expect, it } from 'vitest';
import { liftLeftovers, processAlive } from '../../src/chaos/leftovers.ts';
import type { ContainerControl } from '../../src/stack/docker-control.ts';
import type { ContainerFacts } from '../../src/stack/inspect.ts';
import type { Stack } from '../../src/stack/stack.ts';
import { defaultStackTarget } from '../../src/stack/target.ts';
import type { FaultRecord, WardenFacts } from '../../src/stack/warden-args.ts';
import type { Wardens } from '../../src/stack/warden.ts';

// What the next command does with faults a dead run left: fire a waiting warden, report one
// that already fired, leave alone what a live run holds, and find unrecorded ones by state.

const target = defaultStackTarget('/nowhere');
const record = (pid: number): FaultRecord => ({
  experiment: 'network-partition',
  fault: 'partition',
  regions: ['eu-west'],
  expiresAt: Date.UTC(2026, 0, 1, 12, 0, 5),
  owner: { pid, host: 'runner' },
  undo: [],
});
const warden = (id: string, running: boolean, exitCode = 0, pid = 42): WardenFacts => ({
  id,
  name: `w-${id}`,
  running,
  exitCode,
  finishedAt: running ? undefined : '2026-01-01T12:00:06Z',
  record: record(pid),
});

function fakes(list: WardenFacts[], containers: ContainerFacts[] = []) {
  const calls: string[] = [];
  const wardens: Wardens = {
    arm: () => Promise.reject(new Error('not here')),
    list: async () => list,
    fire: async (id) => {
      calls.push(`fire ${id}`);
      return { exitCode: id === 'bad' ? 1 : 0, log: 'warden: 1 step(s)\ncould not undo reconnect: boom' };
    },
    log: async () => 'could not undo reconnect: engine gone',
    remove: async (id) => void calls.push(`remove ${id}`),
  };
  const stack = { target, containers: async () => containers } as unknown as Stack;
  const control = {
    connect: async (id: string, network: string, aliases: readonly string[]) =>
      void calls.push(`connect ${id} ${network} ${aliases.join(',')}`),
    restoreCpu: async (id: string, original: { cpuQuota: number }) =>
      void calls.push(`restore-cpu ${id} ${original.cpuQuota}`),
    restoreMemory: async (id: string, original: { memory: number }, lowered: number) =>
      void calls.push(`restore-memory ${id} ${original.memory >> 20} from ${lowered >> 20}`),
  } as unknown as ContainerControl;
  const warned: string[] = [];
  const progress = { step: () => undefined, info: () => undefined, warn: (m: string) => void warned.push(m) };
  return {
    calls,
    warned,
    deps: { stack, wardens, control, progress, ownerAlive: (o: FaultRecord['owner']) => o.pid === 7 },
  };
}

const region = (service: string, networks: string[]): ContainerFacts => ({
  id: `id-${service}`,
  name: service,
  service,
  state: 'running',
  health: 'healthy',
  restartCount: 0,
  pid: 100,
  exitCode: 0,
  oomKilled: false,
  env: {},
  labels: {},
  image: '',
  networks,
});

describe('liftLeftovers', () => {
  it('fires a warden still waiting, reports one that fired and one that failed, and removes them all', async () => {
    const f = fakes([warden('a', true), warden('b', false), warden('c', false, 1)]);
    const lines = await liftLeftovers(f.deps);
    expect(f.calls).toEqual(['fire a', 'remove a', 'remove b', 'remove c']);
    expect(lines).toEqual([
      'lifted network-partition (partition) on eu-west, expiring 12:00:05 UTC, set by pid 42 on runner: the run that set it ended without lifting it',
      'network-partition (partition) on eu-west, expiring 12:00:05 UTC, set by pid 42 on runner was lifted by its warden at 2026-01-01T12:00:06Z: the run that set it had died',
      'the warden of network-partition (partition) on eu-west, expiring 12:00:05 UTC, set by pid 42 on runner failed: could not undo reconnect: engine gone',
    ]);
    expect(f.warned).toEqual(lines.map((l) => `left by an earlier run: ${l}`));
  });

  it('says so when a fired warden could not lift its fault', async () => {
    const f = fakes([warden('bad', true)]);
    expect(await liftLeftovers(f.deps)).toEqual([
      expect.stringMatching(/^could not lift network-partition .*: could not undo reconnect: boom$/),
    ]);
  });

  it('leaves a fault of a run that is still going alone, and then touches nothing else', async () => {
    const f = fakes([warden('a', true, 0, 7)], [region('region-eu-west', [])]);
    expect(await liftLeftovers(f.deps)).toEqual([
      expect.stringMatching(/^left alone: .*: the run that set it is still going$/),
    ]);
    expect(f.calls).toEqual([]);
  });

  it('reconnects a region container on no network though no record says why', async () => {
    const f = fakes(
      [],
      [region('region-eu-west', []), region('region-us-west', ['chaos-gate_stack']), region('prometheus', [])],
    );
    expect(await liftLeftovers(f.deps)).toEqual([
      'region-eu-west was on no network (a partition with no record): reconnected',
    ]);
    expect(f.calls).toEqual(['connect id-region-eu-west chaos-gate_stack region-eu-west']);
  });

  it("lifts a CPU quota from a region container (Compose gives them none), and leaves a dependency's own", async () => {
    const f = fakes(
      [],
      [
        { ...region('region-us-west', ['chaos-gate_stack']), cpuQuota: 10_000 },
        { ...region('postgres', ['chaos-gate_stack']), cpuQuota: 50_000 },
      ],
    );
    expect(await liftLeftovers(f.deps)).toEqual([
      'region-us-west was held to a CPU quota of 10000 µs per period (a cgroup fault with no record): lifted',
    ]);
    expect(f.calls).toEqual(['restore-cpu id-region-us-west 0']);
  });

  it("lifts a memory limit with no swap beyond it (a fault's mark) back to docker-compose.yml's, and leaves others", async () => {
    const MiB = 2 ** 20;
    const f = fakes(
      [],
      [
        { ...region('region-us-west', ['chaos-gate_stack']), memory: 40 * MiB, memorySwap: 40 * MiB },
        { ...region('region-eu-west', ['chaos-gate_stack']), memory: 256 * MiB, memorySwap: 512 * MiB },
        { ...region('postgres', ['chaos-gate_stack']), memory: 64 * MiB, memorySwap: 64 * MiB },
      ],
    );
    expect(await liftLeftovers(f.deps)).toEqual([
      'region-us-west was held to 40 MiB of memory (a cgroup fault with no record): lifted',
    ]);
    expect(f.calls).toEqual(['restore-memory id-region-us-west 256 from 40']);
  });

  it('finds nothing on a clean stack, or on none', async () => {
    expect(await liftLeftovers(fakes([], [region('region-us-west', ['chaos-gate_stack'])]).deps)).toEqual([]);
    expect(await liftLeftovers(fakes([]).deps)).toEqual([]);
  });
});

describe('processAlive', () => {
  it.each([
    ['this process', { pid: process.pid, host: 'h' }, false],
    ['another host', { pid: process.ppid, host: 'elsewhere' }, false],
    ['a live process here', { pid: process.ppid, host: 'h' }, true],
    ['a pid no process has', { pid: 2 ** 22 + 1, host: 'h' }, false],
  ])('%s', (_name, owner, alive) => {
    expect(processAlive(owner, 'h')).toBe(alive);
  });
});
