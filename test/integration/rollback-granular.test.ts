import { execa } from 'execa';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { beforeAll, describe, expect, it } from 'vitest';
import { postFault } from '../../src/chaos/endpoint.ts';
import { probeInfo } from '../../src/stack/probe.ts';
import type { ComposeStack } from '../../src/stack/compose-stack.ts';
import { regionUrl } from '../../src/stack/target.ts';
import { pollUntil } from '../../src/util/poll.ts';
import { freshStack, root } from './cli.ts';

// Granular rollback on the live stack: the candidate fails only in us-east (a failure_rate
// fault on that region's canary alone, through the fault endpoint), after us-west was
// promoted healthy. With rollback: region the evidence points at us-east: it alone is rolled
// back, us-west keeps the candidate, and on_region_failure decides about eu-west.
const out = mkdtempSync(join(tmpdir(), 'chaos-gate-granular-'));
let stack: ComposeStack;

function config(onRegionFailure: 'stop' | 'continue'): string {
  const file = join(out, `${onRegionFailure}.yml`);
  writeFileSync(
    file,
    [
      'rollout:',
      '  regions: [us-west, us-east, eu-west]',
      '  bake_seconds: 2',
      '  stages: [{ weight: 50 }, { weight: 100 }]',
      '  analysis: { sources: [synthetic], stage_deadline_seconds: 20 }',
      '  rollback: region',
      `  on_region_failure: ${onRegionFailure}`,
      '',
    ].join('\n'),
  );
  return file;
}

interface ResultJson {
  final_state: string;
  regions: { region: string; final_version: string; outcome: string }[];
  rollback: {
    triggered: boolean;
    failed_region: string | null;
    scope: string | null;
    regions: string[];
    kept: string[];
    decisions: {
      failed_region: string;
      duration_ms: number;
      decision: { scope: string; points_at_region: boolean; evidence: string[]; then: string };
    }[];
  };
  timeline: { event: string }[];
}

async function versions(): Promise<string[]> {
  return Promise.all(
    stack.target.regions.map(async (r) => {
      const res = await request(regionUrl(stack.target, r) + '/', { headersTimeout: 3000 });
      return ((await res.body.json()) as { version: string }).version;
    }),
  );
}

/** Runs the deploy and, as soon as us-east's canary answers on the candidate, makes it fail there only. */
async function deployWithFaultInUsEast(
  onRegionFailure: 'stop' | 'continue',
): Promise<{ exitCode: number; stderr: string; result: ResultJson }> {
  const file = join(out, `${onRegionFailure}.json`);
  const token = await stack.faultToken();
  const usEast = stack.target.regions[1]!;
  const child = execa(
    process.execPath,
    ['bin/chaos-gate.js', 'deploy', 'v2', '--config', config(onRegionFailure), '--result-file', file],
    { cwd: root, reject: false, stdin: 'ignore' },
  );
  const canaryUrl = regionUrl(stack.target, usEast, 'canary');
  const up = await pollUntil(
    async () => ((await probeInfo(canaryUrl, '/', 500))?.version === 'v2' ? true : undefined),
    { deadlineMs: 60_000, intervalMs: 50 },
  );
  expect(up).toBe(true);
  await postFault(canaryUrl, token, { kind: 'failure_rate', rate: 1, duration_ms: 120_000 });
  const res = await child;
  return {
    exitCode: res.exitCode ?? 1,
    stderr: String(res.stderr),
    result: JSON.parse(readFileSync(file, 'utf8')) as ResultJson,
  };
}

beforeAll(async () => {
  stack = await freshStack();
});

describe('rollback: region', () => {
  it('on_region_failure: continue rolls back us-east only, keeps us-west and goes on to eu-west; exit 1, not a clean completion', async () => {
    const started = Date.now();
    const { exitCode, stderr, result: r } = await deployWithFaultInUsEast('continue');
    expect(exitCode, stderr).toBe(1);
    expect(await versions()).toEqual(['v2', 'v1', 'v2', 'v1']);
    expect(r.final_state).toBe('ROLLED_BACK');
    expect(r.rollback).toMatchObject({
      triggered: true,
      failed_region: 'us-east',
      scope: 'region',
      regions: ['us-east'],
      kept: ['us-west', 'eu-west'],
    });
    expect(r.regions.map((x) => x.outcome)).toEqual(['promoted', 'rolled_back', 'promoted']);
    const d = r.rollback.decisions[0]!;
    expect(d.decision).toMatchObject({ scope: 'region', points_at_region: true, then: 'continue' });
    expect(d.decision.evidence.join('\n')).toMatch(/us-east's error rate .* significantly worse/);
    expect(r.timeline.map((t) => t.event)).toContain('SCOPE_ROLLBACK');
    console.log(`continue: us-east rolled back alone in ${d.duration_ms} ms; whole deploy ${Date.now() - started} ms`);
  });

  it('on_region_failure: stop rolls back us-east only, keeps us-west and leaves eu-west untouched', async () => {
    await stack.deploy(stack.target.regions[0]!, 'stable', { version: 'v1', failureRate: 0 });
    await stack.deploy(stack.target.regions[2]!, 'stable', { version: 'v1', failureRate: 0 });
    const { exitCode, stderr, result: r } = await deployWithFaultInUsEast('stop');
    expect(exitCode, stderr).toBe(1);
    expect(await versions()).toEqual(['v2', 'v1', 'v1', 'v1']);
    expect(r.rollback).toMatchObject({ scope: 'region', regions: ['us-east'], kept: ['us-west'] });
    expect(r.regions.map((x) => x.outcome)).toEqual(['promoted', 'rolled_back', 'untouched']);
    console.log(`stop: us-east rolled back alone in ${r.rollback.decisions[0]!.duration_ms} ms`);
  });
});
