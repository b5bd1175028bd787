import { execa } from 'execa';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { activeFaults } from '../../src/chaos/endpoint.ts';
import { ComposeStack } from '../../src/stack/compose-stack.ts';
import { probeHealth } from '../../src/stack/probe.ts';
import { defaultStackTarget, regionUrl, type RegionTarget } from '../../src/stack/target.ts';
import type { FaultRecord } from '../../src/stack/warden-args.ts';
import { dockerWardens } from '../../src/stack/warden.ts';
import { pollUntil } from '../../src/util/poll.ts';
import { cli, ensureStackUp, root } from './cli.ts';

// Issue 17: a gate killed outright (SIGKILL, as an OOM kill or a crashed runner would) inside
// a fault's window. For every fault kind: the fault is measured on right after the kill, it
// is gone by its expiry with no gate running (its warden lifted it, or the service did), and
// the next command works and says what was left. A run killed early has the next command
// lift the fault at once.

const target = defaultStackTarget(root);
const wardens = dockerWardens(target);
let stack: ComposeStack;
let token: string;
const region = (name: string) => target.regions.find((r) => r.name === name) as RegionTarget;
const DURATION = 4;

const FAULTS: Record<string, (seconds: number) => string> = {
  kill: () => '{ kind: kill }',
  latency: (s) => `{ kind: latency, duration_seconds: ${s}, delay_ms: 200 }`,
  cpu: (s) => `{ kind: cpu, duration_seconds: ${s} }`,
  memory: (s) => `{ kind: memory, duration_seconds: ${s}, mb: 32 }`,
  db_unavailable: (s) => `{ kind: db_unavailable, duration_seconds: ${s} }`,
  failure_rate: (s) => `{ kind: failure_rate, duration_seconds: ${s}, rate: 0.5 }`,
  partition: (s) => `{ kind: partition, duration_seconds: ${s} }`,
};

function experimentDir(kind: string, at: string, seconds: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'cg-leftover-'));
  writeFileSync(
    join(dir, `${kind}.yml`),
    [
      `name: left-${kind.replace('_', '-')}`,
      'description: killed mid-fault',
      `target: ${at}`,
      `fault: ${FAULTS[kind]?.(seconds) ?? ''}`,
      'load: { rps: 5, write_share: 0.2, read_share: 0.2, other_regions_rps: 0 }',
      'windows: { before_seconds: 1, after_seconds: 1, recovery_deadline_seconds: 15 }',
      '',
    ].join('\n'),
  );
  return dir;
}

/** Starts `chaos` on one fault and SIGKILLs it once the fault is injected; returns the fault's record. */
async function killMidFault(kind: string, at: string, seconds = DURATION): Promise<FaultRecord> {
  const child = execa(
    process.execPath,
    ['bin/chaos-gate.js', 'chaos', '--experiments', experimentDir(kind, at, seconds)],
    {
      cwd: root,
      reject: false,
      stdin: 'ignore',
      timeout: 120_000,
    },
  );
  let err = '';
  child.stderr?.on('data', (c: Buffer) => void (err += c.toString()));
  const injected = await pollUntil(async () => (err.includes(': injected') ? true : undefined), {
    deadlineMs: 90_000,
    intervalMs: 50,
  });
  child.kill('SIGKILL');
  await child;
  expect(injected, err).toBe(true);
  const [warden] = await wardens.list();
  expect(warden?.running, 'the fault has a warden waiting').toBe(true);
  return warden?.record as FaultRecord;
}

/** What the fault looks like on the region now: true while it is still on. */
async function faultOn(kind: string, at: string, restartsBefore: number): Promise<boolean> {
  const url = regionUrl(target, region(at));
  if (kind === 'partition') return !(await probeHealth(url, '/health', 1000));
  if (kind === 'kill') {
    const c = (await stack.containers()).find((x) => x.service === region(at).service);
    return !(
      c &&
      c.restartCount > restartsBefore &&
      c.state === 'running' &&
      (await probeHealth(url, '/health', 1000))
    );
  }
  const faults = await activeFaults(url, token, 1000);
  return faults === undefined || faults.length > 0;
}

const restartsOf = async (at: string) =>
  (await stack.containers()).find((x) => x.service === region(at).service)?.restartCount ?? 0;

beforeAll(async () => {
  await ensureStackUp();
  stack = await ComposeStack.connect(target);
  token = await stack.faultToken();
});

describe('a gate killed inside a fault window', () => {
  it.each(Object.keys(FAULTS))(
    '%s: on after the kill, gone by its expiry with no gate running, reported by the next command',
    async (kind) => {
      const at = 'us-east';
      const restarts = await restartsOf(at);
      const record = await killMidFault(kind, at);
      expect(record).toMatchObject({ fault: kind, regions: [at] });
      // Measured on once the gate is dead: the warden, not the gate, must lift it.
      expect(await faultOn(kind, at, restarts)).toBe(true);
      const gone = await pollUntil(async () => ((await faultOn(kind, at, restarts)) ? undefined : Date.now()), {
        deadlineMs: record.expiresAt - Date.now() + 10_000,
        intervalMs: 250,
      });
      expect(gone, `${kind} still on 10 s after its expiry`).toBeDefined();
      const [warden] = await wardens.list();
      if (kind === 'partition') expect(warden).toMatchObject({ running: false, exitCode: 0 });

      const status = await cli(['status']);
      expect(status.exitCode, status.stderr).toBe(0);
      expect(status.stdout).toContain('faults left by an earlier run:');
      // Lifted by its warden at its expiry, or (a kill's warden waits out the recovery deadline) fired now.
      const what = `left-${kind.replace('_', '-')} \\(${kind}\\) on ${at}`;
      expect(status.stdout).toMatch(new RegExp(`  (${what}.* was lifted by its warden at|lifted ${what})`));
      expect(await wardens.list()).toEqual([]);
    },
  );

  it('up, run before the fault expires, lifts it at once and says so', async () => {
    // Long enough that `up` starts well before the warden would fire by itself.
    await killMidFault('partition', 'eu-west', 60);
    expect(await probeHealth(regionUrl(target, region('eu-west')), '/health', 1000)).toBe(false);
    const up = await cli(['up']);
    expect(up.exitCode, up.stderr).toBe(0);
    expect(up.stderr).toMatch(
      /left by an earlier run: lifted left-partition \(partition\) on eu-west.*: the run that set it ended without lifting it/,
    );
    expect(await probeHealth(regionUrl(target, region('eu-west')), '/health', 1000)).toBe(true);
    const deploy = await cli([
      'deploy',
      'v1',
      '--config',
      'test/fixtures/fast-rollout.yml',
      '--result-file',
      join(mkdtempSync(join(tmpdir(), 'cg-')), 'r.json'),
    ]);
    expect(deploy.exitCode, deploy.stderr).toBe(0);
  });
});
