import { Ajv2020 } from 'ajv/dist/2020.js';
import { execa } from 'execa';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { beforeAll, describe, expect, it } from 'vitest';
import { ComposeStack } from '../../src/stack/compose-stack.ts';
import { defaultStackTarget, regionMemoryLimit, regionUrl } from '../../src/stack/target.ts';
import { pollUntil } from '../../src/util/poll.ts';
import { cli, ensureStackUp, freshStack, root, runAction } from './cli.ts';

// The whole gate, through the CLI and through the bundled Action run as the runner runs it.
const target = defaultStackTarget(root);
const schema = JSON.parse(readFileSync(join(root, 'schemas/report.schema.json'), 'utf8')) as object;
const validate = new Ajv2020({ allErrors: true, strict: false }).compile(schema);

interface ReportJson {
  overall: string;
  deployment_gate: string;
  gate: { status: string; reasons: string[] };
  scenarios: { name: string; status: string }[];
  controls:
    | {
        name: string;
        verdict: string;
        final_state: string;
        reason: string;
        fire?: { took_effect: boolean };
        sabotage?: { took_effect: boolean; detail: string };
        writes?: { checked: number; missing: number };
      }[]
    | null;
  rollout: {
    final_state: string;
    rollback: { reason: string | null };
    stages: { verdict: string }[];
    differential: {
      experiment: string;
      verdict: string;
      reasons: string[];
      fault: { method: string };
      candidate: { recovery_seconds: number | null; restarts: number | null };
      baseline: { recovery_seconds: number | null; restarts: number | null };
    }[];
  } | null;
}

/** The Compose services of the project that have a container, running or not. */
async function stackContainers(): Promise<string[]> {
  const stack = await ComposeStack.connect(target);
  return (await stack.containers()).map((c) => c.service);
}

async function versions(): Promise<string[]> {
  return Promise.all(
    target.regions.map(
      async (r) =>
        (
          (await (await request(regionUrl(target, r) + '/', { headersTimeout: 3000 })).body.json()) as {
            version: string;
          }
        ).version,
    ),
  );
}

beforeAll(async () => {
  await ensureStackUp();
});

describe('chaos-gate gate', () => {
  it('opens the gate for a healthy version and writes a report set that validates', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chaos-gate-reports-'));
    const res = await cli(
      [
        'gate',
        '--version',
        'v2',
        '--only',
        'service-kill',
        '--config',
        'test/fixtures/fast-rollout.yml',
        '--report-dir',
        dir,
        '--keep-stack',
        '--seed',
        '7',
      ],
      { timeoutMs: 900_000 },
    );
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stdout).toContain('deployment gate: OPEN');
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as ReportJson;
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    expect(report.deployment_gate).toBe('OPEN');
    expect(report.scenarios.map((s) => [s.name, s.status])).toEqual([['service-kill', 'PASS']]);
    expect(report.rollout?.final_state).toBe('COMPLETED');
    // Chaos on the candidate: both sides of us-west crashed at once in its last canary stage.
    const differential = report.rollout?.differential ?? [];
    expect(
      differential.map((d) => [d.experiment, d.fault.method, d.verdict]),
      JSON.stringify(differential),
    ).toEqual([['candidate-kill', 'host-kill-9', 'pass']]);
    expect(differential[0]?.candidate.restarts).toBe(1);
    // Controls before the candidate: v1 as its own canary promoted; v1 cut off from its network
    // rolled back, while us-west's stable container crashed, with every write it acknowledged read back;
    // v1 slowed by 100 ms (the demo's fault endpoint here, netem where the kernel has it) rolled back.
    expect(
      report.controls?.map((c) => [c.name, c.verdict, c.final_state]),
      JSON.stringify(report.controls),
    ).toEqual([
      ['known-good', 'pass', 'COMPLETED'],
      ['known-bad', 'pass', 'ROLLED_BACK'],
      ['known-bad-latency', 'pass', 'ROLLED_BACK'],
    ]);
    const bad = report.controls?.[1];
    expect(bad?.fire?.took_effect).toBe(true);
    expect(bad?.writes?.checked).toBeGreaterThan(0);
    expect(bad?.writes?.missing).toBe(0);
    // The delay is proven by the traffic: the canary's median at least 50 ms above the baseline's.
    const slow = report.controls?.[2];
    expect(slow?.sabotage?.took_effect).toBe(true);
    expect(slow?.sabotage?.detail).toMatch(/slowed by 100 ms .*the canary answered in a median of \d/);
    expect(readFileSync(join(dir, 'junit.xml'), 'utf8')).toContain(
      '<testsuite name="controls" tests="3" failures="0" errors="0"',
    );
    expect(readFileSync(join(dir, 'summary.md'), 'utf8')).toContain('### Controls');
    for (const f of ['report.html', 'junit.xml', 'summary.md']) expect(existsSync(join(dir, f))).toBe(true);
    expect(await versions()).toEqual(['v2', 'v2', 'v2', 'v2']);
  });

  it('closes the gate when its checks could not catch a bad release: the known-bad controls are promoted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chaos-gate-reports-'));
    const res = await cli(
      [
        'gate',
        '--version',
        'v2',
        '--only',
        'none',
        '--config',
        'test/fixtures/blind-gate.yml',
        '--report-dir',
        dir,
        '--keep-stack',
      ],
      { timeoutMs: 900_000 },
    );
    expect(res.exitCode, res.stderr).toBe(1);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as ReportJson;
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    expect(report.controls?.map((c) => [c.name, c.verdict, c.final_state])).toEqual([
      ['known-good', 'pass', 'COMPLETED'],
      ['known-bad', 'fail', 'COMPLETED'],
      ['known-bad-latency', 'fail', 'COMPLETED'],
    ]);
    expect(report.gate.reasons).toContain(
      'control known-bad: the checks would not have caught a bad release: a canary cut off from its network in us-west was promoted',
    );
    expect(report.gate.reasons).toContain(
      'control known-bad-latency: the checks would not have caught a bad release: ' +
        'a canary slowed by the latency fault in us-west was promoted',
    );
    // The candidate itself was fine: the controls alone closed the gate.
    expect(report.rollout?.final_state).toBe('COMPLETED');
  });

  it('removes the stack at the end without --keep-stack', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chaos-gate-reports-'));
    const res = await cli(
      ['gate', '--version', 'v6', '--only', 'none', '--config', 'test/fixtures/plain-gate.yml', '--report-dir', dir],
      { timeoutMs: 900_000 },
    );
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/removing project \S+ \(containers, network, volumes\)/);
    expect(await stackContainers()).toEqual([]);
    expect(existsSync(join(dir, 'report.json'))).toBe(true);
  });

  it('SIGINT in the middle of the rollout rolls back, removes the stack and exits 130', async () => {
    await ensureStackUp();
    const child = execa(
      process.execPath,
      [
        'bin/chaos-gate.js',
        'gate',
        '--version',
        'v7',
        '--only',
        'none',
        '--config',
        'test/fixtures/plain-gate.yml',
        '--report-dir',
        mkdtempSync(join(tmpdir(), 'chaos-gate-reports-')),
      ],
      { cwd: root, reject: false, stdin: 'ignore', timeout: 600_000 },
    );
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    // The signal goes in once the candidate's canary runs: a fault the cleanup must lift.
    const running = await pollUntil(
      async () =>
        /rollout of v7/.test(stderr) && (await stackContainers()).some((c) => c.endsWith('-canary')) ? true : undefined,
      { deadlineMs: 300_000, intervalMs: 200 },
    );
    expect(running, stderr).toBe(true);
    child.kill('SIGINT');
    const res = await child;
    expect(res.exitCode, stderr).toBe(130);
    expect(stderr).toContain('interrupted');
    expect(await stackContainers()).toEqual([]);
  });

  it('rolls back a candidate that restarts slowly: clean traffic passes it, a crash beside the baseline does not', async () => {
    await ensureStackUp();
    const before = await versions();
    const dir = mkdtempSync(join(tmpdir(), 'chaos-gate-reports-'));
    const res = await cli(
      [
        'gate',
        '--version',
        'v4',
        '--regression',
        'slow-start',
        '--only',
        'none',
        '--config',
        'test/fixtures/quick-gate.yml',
        '--report-dir',
        dir,
        '--keep-stack',
      ],
      { timeoutMs: 900_000 },
    );
    expect(res.exitCode, `${res.stdout}\n${res.stderr}`).toBe(1);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as ReportJson;
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    expect(report.rollout?.final_state).toBe('ROLLED_BACK');
    expect(report.rollout?.stages.map((s) => s.verdict)).not.toContain('red');
    const kill = report.rollout?.differential[0];
    expect(kill?.verdict, JSON.stringify(kill)).toBe('regression');
    expect(report.rollout?.rollback.reason).toMatch(
      /^resilience regression: under a crash \(SIGKILL of the main process\), the candidate served again after \d+\.\d s, the baseline after \d+\.\d s \(tolerated \+3 s\)$/,
    );
    // The candidate waits 10 s before it listens; the baseline is back within a few seconds.
    expect(kill?.candidate.recovery_seconds ?? 0).toBeGreaterThan(9);
    expect((kill?.candidate.recovery_seconds ?? 0) - (kill?.baseline.recovery_seconds ?? 99)).toBeGreaterThan(3);
    expect(await versions()).toEqual(before);
  });

  it('rolls back a candidate whose memory grows with its load under a memory limit, passes an identical one, and lifts the limit', async () => {
    await freshStack();
    const gate = async (version: string, extra: string[]) => {
      const dir = mkdtempSync(join(tmpdir(), 'chaos-gate-reports-'));
      const args = [
        'gate',
        '--version',
        version,
        ...extra,
        '--only',
        'none',
        '--config',
        'test/fixtures/memory-gate.yml',
      ];
      const res = await cli([...args, '--report-dir', dir, '--keep-stack'], { timeoutMs: 900_000 });
      const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as ReportJson;
      expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
      return { res, report, held: report.rollout?.differential[0] };
    };
    const same = await gate('v2', []);
    expect(same.res.exitCode, `${same.res.stdout}\n${same.res.stderr}`).toBe(0);
    expect([same.held?.experiment, same.held?.fault.method, same.held?.verdict], JSON.stringify(same.held)).toEqual([
      'memory-held',
      'cgroup-memory-limit',
      'pass',
    ]);
    await freshStack();
    const before = await versions();
    const leak = await gate('v5', ['--regression', 'memory-growth']);
    expect(leak.res.exitCode, `${leak.res.stdout}\n${leak.res.stderr}`).toBe(1);
    expect(leak.report.rollout?.final_state).toBe('ROLLED_BACK');
    expect(leak.held?.verdict, JSON.stringify(leak.held)).toBe('regression');
    expect(leak.report.rollout?.rollback.reason).toMatch(
      /^resilience regression: under a memory limit of its own memory \+ 48 MiB for 15 s, /,
    );
    // The kernel's OOM kill is what the candidate met: its container was restarted.
    expect(leak.held?.candidate.restarts ?? 0).toBeGreaterThanOrEqual(1);
    expect(await versions()).toEqual(before);
    // Lifted: each region container has the limit docker-compose.yml gives it again.
    const stack = await ComposeStack.connect(target);
    for (const c of await stack.containers()) {
      if (!c.service.startsWith('region-')) continue;
      const { stdout } = await execa('docker', ['inspect', '--format', '{{json .HostConfig}}', c.id]);
      const { Memory, MemorySwap } = JSON.parse(stdout) as { Memory: number; MemorySwap: number };
      const limit = regionMemoryLimit(target);
      expect([c.service, Memory, MemorySwap]).toEqual([c.service, limit.memory, limit.memorySwap]);
    }
  });
  it('in a rolling rollout, starts the baseline beside the candidate after the bake and rolls back one whose memory grows', async () => {
    await freshStack();
    const before = await versions();
    const dir = mkdtempSync(join(tmpdir(), 'chaos-gate-reports-'));
    const res = await cli(
      [
        'gate',
        '--version',
        'v5',
        '--regression',
        'memory-growth',
        '--only',
        'none',
        '--config',
        'test/fixtures/memory-rolling-gate.yml',
        '--report-dir',
        dir,
        '--keep-stack',
      ],
      { timeoutMs: 900_000 },
    );
    expect(res.exitCode, `${res.stdout}\n${res.stderr}`).toBe(1);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as ReportJson;
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    const held = report.rollout?.differential[0];
    expect([report.rollout?.final_state, held?.verdict], JSON.stringify(held)).toEqual(['ROLLED_BACK', 'regression']);
    // The sides are told apart though they swapped slots: the candidate (in us-west's own slot) crashed.
    expect(held?.candidate.restarts ?? 0).toBeGreaterThanOrEqual(1);
    expect(held?.baseline.restarts).toBe(0);
    expect(res.stderr).toContain('starting region-us-west-canary on v1: the baseline beside the candidate');
    expect(await versions()).toEqual(before);
    expect(await stackContainers()).not.toContain('region-us-west-canary');
  });
});

describe('the Action (dist/index.js)', () => {
  beforeAll(async () => {
    await ensureStackUp();
  });

  it('closes the gate for failure-rate 0.8, fails the step, and leaves every region on stable', async () => {
    const before = await versions();
    const res = await runAction({
      version: 'v3',
      'failure-rate': '0.8',
      experiments: 'none',
      config: 'test/fixtures/plain-gate.yml',
      'report-dir': 'reports/action-closed',
      'keep-stack': 'true',
      'fail-on-closed-gate': 'true',
    });
    expect(res.exitCode, res.stdout).toBe(1);
    expect(res.outputs).toMatchObject({ gate: 'CLOSED', overall: 'FAIL' });
    expect(res.outputs['report-json']).toBe(join(root, 'reports/action-closed/report.json'));
    expect(res.summary).toContain('CLOSED');
    expect(res.stdout).toContain('::error::deployment gate CLOSED');
    // Rolled back by the rollout, not merely never started.
    const report = JSON.parse(readFileSync(res.outputs['report-json'] as string, 'utf8')) as ReportJson;
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    expect(report.rollout?.final_state).toBe('ROLLED_BACK');
    expect(report.gate.reasons.join('\n')).toMatch(/rolled back/i);
    expect(res.summary).toMatch(/ROLLED_BACK|rolled back/i);
    expect(await versions()).toEqual(before);
  });

  it('opens the gate for a good version, with outputs and a step summary', async () => {
    const res = await runAction({
      version: 'v4',
      experiments: 'none',
      config: 'test/fixtures/fast-rollout.yml',
      'report-dir': 'reports/action-open',
      'keep-stack': 'true',
    });
    expect(res.exitCode, res.stdout).toBe(0);
    expect(res.outputs).toMatchObject({
      gate: 'OPEN',
      overall: 'PASS',
      junit: join(root, 'reports/action-open/junit.xml'),
      'report-html': join(root, 'reports/action-open/report.html'),
    });
    expect(res.summary).toContain('OPEN');
    expect(res.state).toContain('isPost');
    expect(await versions()).toEqual(['v4', 'v4', 'v4', 'v4']);
  });

  it('refuses bad inputs with an annotation and runs nothing', async () => {
    const res = await runAction({ version: 'v5;rm -rf /', 'failure-rate': '2' });
    expect(res.exitCode).toBe(1);
    expect(res.stdout).toMatch(/::error title=chaos-gate%3A bad input::.*must be a plain tag/);
    expect(res.stdout).toMatch(/between 0\.0 and 1\.0/);
    expect(res.outputs).toEqual({});
  });

  it('the post step removes a stack the main step left up', async () => {
    const res = await runAction({}, { state: { isPost: 'true', stackUp: 'true' } });
    expect(res.exitCode, res.stdout).toBe(0);
    expect(res.stdout).toContain('stack removed');
    const stack = await ComposeStack.connect(target);
    expect(await stack.containers()).toEqual([]);
    await ensureStackUp();
  });
});
