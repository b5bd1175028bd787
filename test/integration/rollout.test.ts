import { execa } from 'execa';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ComposeStack } from '../../src/stack/compose-stack.ts';
import { defaultStackTarget, regionUrl } from '../../src/stack/target.ts';
import { pollUntil } from '../../src/util/poll.ts';
import { cli, freshStack, root } from './cli.ts';

// The rollout contract on the live stack: deploy, detect, roll back, verify.
const target = defaultStackTarget(root);
const out = mkdtempSync(join(tmpdir(), 'chaos-gate-rollout-'));
let stack: ComposeStack;

interface ResultJson {
  final_state: string;
  regions: { region: string; final_version: string }[];
  stages: { region: string; verdict: string }[];
  timeline: { event: string; from: string; to: string }[];
  rollback: { triggered: boolean; failed_region: string | null; reason: string | null };
  time_to_detect_ms: number | null;
  time_to_rollback_ms: number | null;
}

async function versions(): Promise<string[]> {
  return Promise.all(
    target.regions.map(async (r) => {
      const res = await request(regionUrl(target, r) + '/', { headersTimeout: 3000 });
      return ((await res.body.json()) as { version: string }).version;
    }),
  );
}

async function healthy(): Promise<boolean[]> {
  return Promise.all(
    target.regions.map(
      async (r) =>
        (await request(regionUrl(target, r) + '/health', { headersTimeout: 3000 }).then((res) =>
          res.body.dump().then(() => res.statusCode),
        )) === 200,
    ),
  );
}

async function canaries(): Promise<string[]> {
  return (await stack.containers()).filter((c) => c.service.endsWith('-canary')).map((c) => c.service);
}

function result(file: string): ResultJson {
  return JSON.parse(readFileSync(file, 'utf8')) as ResultJson;
}

beforeAll(async () => {
  stack = await freshStack();
});

describe('deploy', () => {
  it('refuses a bad version string with exit 2 and touches nothing', async () => {
    const before = await stack.deployments();
    const res = await cli(['deploy', 'v2;reboot']);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain('must be a plain tag');
    expect(await stack.deployments()).toEqual(before);
    expect(await canaries()).toEqual([]);
  });

  it('refuses a bad configuration with exit 2, naming file, line and field', async () => {
    const res = await cli(['deploy', 'v2', '--config', 'test/fixtures/bad-rollout.yml']);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toMatch(
      /bad-rollout\.yml:4: rollout\.stages\[1\]\.weight: must be greater than the previous stage's weight/,
    );
    expect(res.stderr).toMatch(/bad-rollout\.yml:5: rollout\.traffic_rps: must be greater than 0/);
    expect(await versions()).toEqual(['v1', 'v1', 'v1', 'v1']);
  });

  it('deploy v2 with the default stages ends with every region on v2 and exit 0', async () => {
    const file = join(out, 'v2.json');
    const res = await cli(['deploy', 'v2', '--result-file', file]);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(await versions()).toEqual(['v2', 'v2', 'v2', 'v2']);
    expect(await canaries()).toEqual([]);
    const r = result(file);
    expect(r.final_state).toBe('COMPLETED');
    expect(r.stages).toHaveLength(4 * 5);
    expect(r.stages.every((s) => s.verdict === 'green')).toBe(true);
    expect(r.rollback.triggered).toBe(false);
  });

  it('deploy v3 0.8 is detected in the first region and every region ends on v2, healthy, exit 1', async () => {
    const file = join(out, 'v3.json');
    const res = await cli(['deploy', 'v3', '0.8', '--result-file', file]);
    expect(res.exitCode, res.stderr).toBe(1);
    expect(await versions()).toEqual(['v2', 'v2', 'v2', 'v2']);
    expect(await healthy()).toEqual([true, true, true, true]);
    expect(await canaries()).toEqual([]);
    const r = result(file);
    expect(r.final_state).toBe('ROLLED_BACK');
    expect(r.rollback).toMatchObject({ triggered: true, failed_region: 'us-west' });
    expect(r.rollback.reason).toMatch(/red verdict: error rate/);
    expect(r.time_to_detect_ms).toBeGreaterThanOrEqual(0);
    expect(r.time_to_rollback_ms).toBeGreaterThan(0);
    expect(r.stages.at(-1)).toMatchObject({ region: 'us-west', verdict: 'red' });
  });

  it('a rolling rollout of a bad version puts the replaced region back', async () => {
    const file = join(out, 'rolling.json');
    const res = await cli([
      'deploy',
      'v4',
      '--failure-rate',
      '0.8',
      '--strategy',
      'rolling',
      '--config',
      'test/fixtures/fast-rollout.yml',
      '--result-file',
      file,
    ]);
    expect(res.exitCode, res.stderr).toBe(1);
    const r = result(file);
    // us-west was replaced (PROMOTED) before the judgement saw it fail.
    expect(r.timeline.map((t) => `${t.from}>${t.to}`)).toContain('PROMOTED>ROLLING_BACK');
    expect(await versions()).toEqual(['v2', 'v2', 'v2', 'v2']);
    expect(await healthy()).toEqual([true, true, true, true]);
  });

  it('SIGINT in the middle of a rollout rolls back what it touched and exits 130', async () => {
    const child = execa(
      process.execPath,
      [
        'bin/chaos-gate.js',
        'deploy',
        'v5',
        '--config',
        'test/fixtures/fast-rollout.yml',
        '--result-file',
        join(out, 'sigint.json'),
      ],
      { cwd: root, reject: false, stdin: 'ignore' },
    );
    const running = await pollUntil(async () => ((await canaries()).length > 0 ? true : undefined), {
      deadlineMs: 60_000,
      intervalMs: 200,
    });
    expect(running).toBe(true);
    child.kill('SIGINT');
    const res = await child;
    expect(res.exitCode, String(res.stderr)).toBe(130);
    expect(String(res.stderr)).toContain('interrupted');
    expect(await canaries()).toEqual([]);
    expect(await versions()).toEqual(['v2', 'v2', 'v2', 'v2']);
  });
});
