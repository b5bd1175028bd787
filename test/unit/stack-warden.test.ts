import { regionHomeNetwork, stackNetwork } from '../../src/stack/warden.ts';
import type { UserServiceTarget } from '../../src/stack/target.ts';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  describeRecord,
  dockerSocket,
  parseWardens,
  RECORD_LABEL,
  WARDEN_LABEL,
  wardenFireArgs,
  wardenListArgs,
  wardenRunArgs,
  type FaultRecord,
  type UndoStep,
  type WardenSpec,
} from '../../src/stack/warden-args.ts';
import { WARDEN_SCRIPT } from '../../src/stack/warden-script.ts';

// The warden's pure parts (argument arrays, its record), and its script run for real by this
// Node against a stand-in Docker Engine API on a unix socket.

const record: FaultRecord = {
  experiment: 'network-partition',
  fault: 'partition',
  regions: ['eu-west'],
  expiresAt: Date.UTC(2026, 0, 1, 12, 0, 5),
  owner: { pid: 42, host: 'runner' },
  undo: [{ kind: 'reconnect', container: 'abc', networks: { 'chaos-gate_stack': ['region-eu-west'] } }],
};
const spec: WardenSpec = {
  project: 'chaos-gate',
  image: 'node:24-alpine',
  socket: '/var/run/docker.sock',
  network: 'chaos-gate_stack',
  record,
};

describe('warden arguments', () => {
  it('runs the script with node from an argument array: labels hold the record, the socket is mounted', () => {
    const args = wardenRunArgs(spec, 'chaos-gate-warden-1', 'SCRIPT');
    expect(args.slice(0, 6)).toEqual(['run', '-d', '--name', 'chaos-gate-warden-1', '--user', '0']);
    expect(args).toContain(`${WARDEN_LABEL}=chaos-gate`);
    expect(args).toContain(`${RECORD_LABEL}=${JSON.stringify(record)}`);
    expect(args.slice(args.indexOf('-v'), args.indexOf('-v') + 2)).toEqual(['-v', '/var/run/docker.sock:/docker.sock']);
    expect(args.slice(-5)).toEqual([
      'node',
      'node:24-alpine',
      '-e',
      'SCRIPT',
      JSON.stringify({ socket: '/docker.sock', expiresAt: record.expiresAt, undo: record.undo }),
    ]);
    expect(args.join(' ')).not.toContain('FAULT_TOKEN');
    expect(args).not.toContain('sh');
  });

  it('passes the fault token as an environment variable only when there is one', () => {
    const args = wardenRunArgs({ ...spec, token: 't0k' }, 'w', 'S');
    expect(args.slice(args.indexOf('-e'), args.indexOf('-e') + 2)).toEqual(['-e', 'FAULT_TOKEN=t0k']);
  });

  it.each([
    [undefined, '/var/run/docker.sock'],
    ['unix:///run/user/1000/docker.sock', '/run/user/1000/docker.sock'],
    ['tcp://127.0.0.1:2375', undefined],
  ])('DOCKER_HOST %s -> socket %s', (host, socket) => {
    expect(dockerSocket(host === undefined ? {} : { DOCKER_HOST: host })).toBe(socket);
  });

  it('lists and fires by label and id', () => {
    expect(wardenListArgs('chaos-gate')).toEqual(['ps', '-aq', '--filter', 'label=chaos-gate.warden=chaos-gate']);
    expect(wardenFireArgs('abc')).toEqual(['kill', '--signal', 'SIGUSR2', 'abc']);
  });

  it('reads running and finished wardens back from docker inspect, and a record it cannot read as none', () => {
    const json = JSON.stringify([
      {
        Id: 'a',
        Name: '/w-a',
        State: { Running: true, ExitCode: 0, FinishedAt: '0001-01-01T00:00:00Z' },
        Config: { Labels: { [RECORD_LABEL]: JSON.stringify(record) } },
      },
      {
        Id: 'b',
        Name: '/w-b',
        State: { Running: false, ExitCode: 1, FinishedAt: '2026-01-01T12:00:06Z' },
        Config: { Labels: { [RECORD_LABEL]: '{oops' } },
      },
    ]);
    expect(parseWardens(json)).toEqual([
      { id: 'a', name: 'w-a', running: true, exitCode: 0, finishedAt: undefined, record },
      { id: 'b', name: 'w-b', running: false, exitCode: 1, finishedAt: '2026-01-01T12:00:06Z', record: undefined },
    ]);
  });

  it('describes a record in one line', () => {
    expect(describeRecord(record)).toBe(
      'network-partition (partition) on eu-west, expiring 12:00:05 UTC, set by pid 42 on runner',
    );
    expect(describeRecord(undefined)).toBe('a fault with an unreadable record');
  });
});

describe('the network a warden joins', () => {
  it("is the demo's `stack` network, or Compose's `default` one of a user's rendered file", () => {
    expect(stackNetwork({ project: 'chaos-gate' })).toBe('chaos-gate_stack');
    expect(stackNetwork({ project: 'chaos-gate', service: {} as UserServiceTarget })).toBe('chaos-gate_default');
    // Behind fault proxies a region's containers belong on its own network only.
    const proxied = {
      dependencies: [{ name: 'worker' }],
      proxyImage: 'chaos-gate/fault-proxy:x',
    } as unknown as UserServiceTarget;
    expect(regionHomeNetwork({ project: 'chaos-gate', service: proxied }, 'eu-west')).toBe('chaos-gate_cg-eu-west');
    expect(regionHomeNetwork({ project: 'chaos-gate', service: { ...proxied, dependencies: [] } }, 'eu-west')).toBe(
      'chaos-gate_default',
    );
    expect(regionHomeNetwork({ project: 'chaos-gate' }, 'eu-west')).toBe('chaos-gate_stack');
  });
});

describe('the warden script against a stand-in Docker API', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cg-warden-'));
  const socket = join(dir, 'docker.sock');
  const calls: string[] = [];
  let networks: Record<string, unknown> = {};
  let server: Server;
  const body = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let text = '';
      req.on('data', (c: Buffer) => void (text += c.toString()));
      req.on('end', () => resolve(text));
    });

  beforeAll(async () => {
    server = createServer((req, res) => {
      void body(req).then((text) => {
        calls.push(`${req.method} ${req.url}${text ? ` ${text}` : ''}`);
        // Container p1 is paused (a dependency fault); p2 was unpaused already.
        const paused = req.url?.startsWith('/containers/p1/') === true;
        if (req.method === 'GET')
          return res.end(
            JSON.stringify({
              NetworkSettings: { Networks: networks },
              State: { Running: paused, Paused: paused },
              HostConfig: { Memory: 40 * 2 ** 20 },
              MemTotal: 2 ** 30,
            }),
          );
        if (req.url?.includes('/connect')) networks = { ...networks, 'chaos-gate_stack': {} };
        res.statusCode = req.url?.endsWith('/start') || req.url?.endsWith('/unpause') ? 204 : 200;
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(socket, resolve));
  });
  afterAll(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the script with this Node; resolves with its exit code, output and when it ended. */
  function runWarden(undo: UndoStep[], expiresAt: number, fire = false) {
    const child = spawn(process.execPath, ['-e', WARDEN_SCRIPT, JSON.stringify({ socket, expiresAt, undo })], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      // Fired once it says it is waiting: its handler is in place from then on.
      if (fire && !out.includes('warden:')) child.kill('SIGUSR2');
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => void (out += c.toString()));
    return new Promise<{ code: number | null; out: string; at: number }>((resolve) =>
      child.on('exit', (code) => resolve({ code, out, at: Date.now() })),
    );
  }

  it('reconnects a container cut off its network at the expiry, with its aliases, and not before', async () => {
    calls.length = 0;
    networks = {};
    const started = Date.now();
    const done = await runWarden(
      [{ kind: 'reconnect', container: 'c1', networks: { 'chaos-gate_stack': ['region-eu-west'] } }],
      started + 400,
    );
    expect(done.code).toBe(0);
    expect(done.at - started).toBeGreaterThanOrEqual(400);
    expect(calls).toEqual([
      'GET /containers/c1/json',
      'POST /networks/chaos-gate_stack/connect {"Container":"c1","EndpointConfig":{"Aliases":["region-eu-west"]}}',
    ]);
    expect(done.out).toContain('undone (expiry): reconnect c1');
  });

  it('fires at once on SIGUSR2; a container already back is left as it is; a stopped one is started', async () => {
    calls.length = 0;
    networks = { 'chaos-gate_stack': {} };
    const done = await runWarden(
      [
        { kind: 'reconnect', container: 'c1', networks: { 'chaos-gate_stack': ['region-eu-west'] } },
        { kind: 'start', container: 'c2' },
      ],
      Date.now() + 60_000,
      true,
    );
    expect(done.code).toBe(0);
    expect(done.out).toContain('undone (asked): start c2');
    expect(calls).toEqual(['GET /containers/c1/json', 'GET /containers/c2/json', 'POST /containers/c2/start']);
  });

  it('unpauses a paused dependency, and leaves one already running', async () => {
    calls.length = 0;
    const done = await runWarden(
      [
        { kind: 'unpause', container: 'p1' },
        { kind: 'unpause', container: 'p2' },
      ],
      Date.now(),
    );
    expect(done.code).toBe(0);
    expect(calls).toEqual(['GET /containers/p1/json', 'POST /containers/p1/unpause', 'GET /containers/p2/json']);
    expect(done.out).toContain('undone (expiry): unpause p1');
  });

  it('gives a container its memory limit back, swap raised first: none (the host memory) or its own', async () => {
    calls.length = 0;
    const MiB = 2 ** 20;
    const done = await runWarden(
      [
        { kind: 'memory-limit', container: 'c1', memory: 0, memorySwap: 0 },
        { kind: 'memory-limit', container: 'c2', memory: 256 * MiB, memorySwap: 512 * MiB },
      ],
      Date.now(),
    );
    expect(done.code, done.out).toBe(0);
    expect(calls).toEqual([
      'GET /containers/c1/json',
      'GET /info',
      `POST /containers/c1/update {"Memory":${40 * MiB},"MemorySwap":${2 ** 31}}`,
      `POST /containers/c1/update {"Memory":${2 ** 30},"MemorySwap":-1}`,
      'GET /containers/c2/json',
      `POST /containers/c2/update {"Memory":${40 * MiB},"MemorySwap":${512 * MiB}}`,
      `POST /containers/c2/update {"Memory":${256 * MiB},"MemorySwap":${512 * MiB}}`,
    ]);
  });

  it('gives a throttled container its own CPU limit back: none (-1), its quota, or its cpus', async () => {
    calls.length = 0;
    const done = await runWarden(
      [
        { kind: 'cpu-limit', container: 'c1', nanoCpus: 0, cpuQuota: 0 },
        { kind: 'cpu-limit', container: 'c2', nanoCpus: 0, cpuQuota: 50_000 },
        { kind: 'cpu-limit', container: 'c3', nanoCpus: 500_000_000, cpuQuota: 0 },
      ],
      Date.now(),
    );
    expect(done.code, done.out).toBe(0);
    expect(calls).toEqual([
      'POST /containers/c1/update {"CpuQuota":-1}',
      'POST /containers/c2/update {"CpuQuota":50000}',
      'POST /containers/c3/update {"NanoCpus":500000000}',
    ]);
  });

  it('resets a network (drops a netem qdisc with the old interface) and exits 1 when a step fails', async () => {
    calls.length = 0;
    const done = await runWarden(
      [
        { kind: 'reset-network', container: 'c1', networks: { 'chaos-gate_stack': ['a'] } },
        { kind: 'lift-endpoint', url: 'http://127.0.0.1:9/faults' },
      ],
      Date.now(),
    );
    expect(calls.map((c) => c.split(' ').slice(0, 2).join(' '))).toEqual([
      'POST /networks/chaos-gate_stack/disconnect',
      'POST /networks/chaos-gate_stack/connect',
    ]);
    // A service that does not answer holds no fault: that step is not a failure.
    expect(done.out).toContain('http://127.0.0.1:9/faults: no answer');
    expect(done.code).toBe(0);
    server.close();
    const noEngine = await runWarden([{ kind: 'start', container: 'x' }], Date.now());
    expect(noEngine.code).toBe(1);
    expect(noEngine.out).toContain('could not undo start');
  });
});
