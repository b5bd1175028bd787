import { describe, expect, it, test } from 'vitest';
import {
  asRoot,
  killArgs,
  parseCpuLimit,
  parseThrottling,
  restoreCpuArgs,
  limitMemoryArgs,
  parseMemoryLimit,
  parseMemoryUsage,
  restoreMemoryArgs,
  throttleCpuArgs,
  netemAddArgs,
  netemDeleteArgs,
  netemUnsupported,
  networkConnectArgs,
  networkDisconnectArgs,
  nothingToDelete,
  parseNetworkAliases,
  startArgs,
} from '../../src/stack/docker-args.ts';

test.each([
  [killArgs(4242), { file: 'kill', args: ['-9', '4242'] }],
  [
    netemAddArgs(4242, 'eth0', 300, 50),
    {
      file: 'nsenter',
      args: ['-t', '4242', '-n', 'tc', 'qdisc', 'add', 'dev', 'eth0', 'root', 'netem', 'delay', '300ms', '50ms'],
    },
  ],
  [
    netemAddArgs(4242, 'eth0', 300, 0),
    {
      file: 'nsenter',
      args: ['-t', '4242', '-n', 'tc', 'qdisc', 'add', 'dev', 'eth0', 'root', 'netem', 'delay', '300ms'],
    },
  ],
  [
    netemDeleteArgs(4242, 'eth0'),
    { file: 'nsenter', args: ['-t', '4242', '-n', 'tc', 'qdisc', 'del', 'dev', 'eth0', 'root'] },
  ],
  [asRoot(killArgs(7), true), { file: 'kill', args: ['-9', '7'] }],
  [asRoot(killArgs(7), false), { file: 'sudo', args: ['-n', 'kill', '-9', '7'] }],
])('host command %#', (actual, expected) => {
  expect(actual).toEqual(expected);
});

test.each([0, 1, -5, 2.5, Number.NaN])(
  'refuses pid %s (0 is "not running"; kill -9 0 would hit our own group)',
  (pid) => {
    expect(() => killArgs(pid)).toThrow(RangeError);
    expect(() => netemAddArgs(pid, 'eth0', 1, 0)).toThrow(RangeError);
  },
);

test.each([
  [networkDisconnectArgs('chaos-gate_stack', 'abc123'), ['network', 'disconnect', 'chaos-gate_stack', 'abc123']],
  [
    networkConnectArgs('chaos-gate_stack', 'abc123', ['region-us-west']),
    ['network', 'connect', '--alias', 'region-us-west', 'chaos-gate_stack', 'abc123'],
  ],
  [networkConnectArgs('n', 'c', []), ['network', 'connect', 'n', 'c']],
  [
    networkConnectArgs('n', 'c', ['a', 'b; rm -rf /']),
    ['network', 'connect', '--alias', 'a', '--alias', 'b; rm -rf /', 'n', 'c'],
  ],
  [startArgs('abc123'), ['start', 'abc123']],
])('docker args %#', (actual, expected) => {
  expect(actual).toEqual(expected);
});

test.each([
  ['Error: Specified qdisc kind is unknown.', true],
  ['RTNETLINK answers: Operation not permitted', false],
])('netemUnsupported(%j) = %s', (stderr, expected) => {
  expect(netemUnsupported(stderr)).toBe(expected);
});

test.each([
  ['Error: Cannot delete qdisc with handle of zero.', true],
  ['RTNETLINK answers: No such file or directory', true],
  ['nsenter: cannot open /proc/99/ns/net: No such process', false],
])('nothingToDelete(%j) = %s', (stderr, expected) => {
  expect(nothingToDelete(stderr)).toBe(expected);
});

test('parseNetworkAliases keeps the service alias and drops the short id Docker adds itself', () => {
  const json = JSON.stringify({
    'chaos-gate_stack': { Aliases: ['region-ap-south', '72bc1ec621ad'], IPAddress: '172.23.0.3' },
    other: { Aliases: null },
  });
  expect(parseNetworkAliases(json, '72bc1ec621ad5f0e9d')).toEqual({
    'chaos-gate_stack': ['region-ap-south'],
    other: [],
  });
  expect(parseNetworkAliases('{}\n', 'x')).toEqual({});
  expect(parseNetworkAliases('null', 'x')).toEqual({});
});

describe('the CPU quota of a cgroup fault', () => {
  const none = { nanoCpus: 0, cpuQuota: 0, cpuPeriod: 0 };
  it.each([
    [
      'no limit: a quota, lifted with -1 (--cpus could not be reset)',
      none,
      ['update', '--cpu-period', '100000', '--cpu-quota', '10000', 'c1'],
      ['update', '--cpu-quota', '-1', 'c1'],
    ],
    [
      'a quota of its own: restored as it was',
      { nanoCpus: 0, cpuQuota: 50_000, cpuPeriod: 100_000 },
      ['update', '--cpu-period', '100000', '--cpu-quota', '10000', 'c1'],
      ['update', '--cpu-quota', '50000', 'c1'],
    ],
    [
      'cpus of its own: throttled through them (Docker refuses a quota beside)',
      { nanoCpus: 500_000_000, cpuQuota: 0, cpuPeriod: 0 },
      ['update', '--cpus', '0.1', 'c1'],
      ['update', '--cpus', '0.5', 'c1'],
    ],
  ])('%s', (_what, current, throttle, restore) => {
    expect(throttleCpuArgs('c1', 0.1, current)).toEqual(throttle);
    expect(restoreCpuArgs('c1', current)).toEqual(restore);
  });

  it("reads the limit from docker inspect and the counters from the Engine API's stats", () => {
    expect(parseCpuLimit('{"NanoCpus":0,"CpuQuota":10000,"CpuPeriod":100000,"Memory":0}\n')).toEqual({
      nanoCpus: 0,
      cpuQuota: 10_000,
      cpuPeriod: 100_000,
    });
    expect(
      parseThrottling(
        '{"cpu_stats":{"throttling_data":{"periods":33,"throttled_periods":30,"throttled_time":3358294380}}}',
      ),
    ).toEqual({ periods: 33, throttledPeriods: 30, throttledNs: 3_358_294_380 });
    expect(() => parseThrottling('{"cpu_stats":{}}')).toThrow(
      "the Engine API's stats carry no CPU throttling counters",
    );
  });
});

describe('a memory limit from outside (docker update)', () => {
  const MiB = 1024 * 1024;
  it("holds the container to the limit with no swap beyond, never under Docker's 6 MiB", () => {
    expect(limitMemoryArgs('c1', 34 * MiB)).toEqual([
      'update',
      '--memory',
      '35651584',
      '--memory-swap',
      '35651584',
      'c1',
    ]);
    expect(limitMemoryArgs('c1', 1 * MiB)[2]).toBe(String(6 * MiB));
  });

  test.each([
    [
      "no limit: swap raised first, then the host's whole memory (Docker cannot remove a limit)",
      { memory: 0, memorySwap: 0 },
      ['update', '--memory', '1073741824', '--memory-swap', '-1', 'c1'],
    ],
    [
      'a limit of its own with swap: restored as it was',
      { memory: 512 * MiB, memorySwap: 1024 * MiB },
      ['update', '--memory', '536870912', '--memory-swap', '1073741824', 'c1'],
    ],
    [
      'a limit of its own, swap unlimited: restored as it was',
      { memory: 512 * MiB, memorySwap: -1 },
      ['update', '--memory', '536870912', '--memory-swap', '-1', 'c1'],
    ],
  ])('%s', (_what, original, last) => {
    const raised = last[4] === '-1' ? String(2 * Number(last[2])) : last[4];
    expect(restoreMemoryArgs('c1', original, 34 * MiB, 1024 * MiB)).toEqual([
      ['update', '--memory', String(34 * MiB), '--memory-swap', raised, 'c1'],
      last,
    ]);
  });

  it("reads the limit from docker inspect and the usage from the Engine API's stats (cgroup v1 and v2)", () => {
    expect(parseMemoryLimit('{"Memory":536870912,"MemorySwap":-1}\n')).toEqual({ memory: 512 * MiB, memorySwap: -1 });
    expect(parseMemoryLimit('{}')).toEqual({ memory: 0, memorySwap: 0 });
    const v1 = '{"memory_stats":{"usage":25000000,"limit":36000000,"stats":{"total_rss":18000000,"rss":17000000}}}';
    expect(parseMemoryUsage(v1)).toEqual({ usage: 25_000_000, anon: 18_000_000, limit: 36_000_000 });
    const v2 = '{"memory_stats":{"usage":25000000,"limit":36000000,"stats":{"anon":19000000,"file":5000000}}}';
    expect(parseMemoryUsage(v2)).toEqual({ usage: 25_000_000, anon: 19_000_000, limit: 36_000_000 });
    expect(() => parseMemoryUsage('{"memory_stats":{}}')).toThrow("the Engine API's stats carry no memory counters");
  });
});
