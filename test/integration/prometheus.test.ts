import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ComposeStack } from '../../src/stack/compose-stack.ts';
import { cli, freshStack } from './cli.ts';

// Judgement from the stack's own Prometheus (local image), alone: the synthetic traffic
// still runs as load but does not judge.
const out = mkdtempSync(join(tmpdir(), 'chaos-gate-prom-'));
let stack: ComposeStack;

interface Check {
  source: string;
  name: string;
  query: string;
  value: number | null;
  max: number | null;
  verdict: string;
  samples: number;
}
interface ResultJson {
  final_state: string;
  stages: { region: string; verdict: string; checks: Check[] }[];
  rollback: { reason: string | null };
  time_to_detect_ms: number | null;
}
const read = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as ResultJson;

beforeAll(async () => {
  stack = await freshStack();
});

describe('judgement from Prometheus', () => {
  it('a query with a typo fails before anything is deployed, exit 2, with the query and Prometheus message', async () => {
    const before = await stack.deployments();
    const res = await cli(['deploy', 'v2', '--config', 'test/fixtures/prometheus-typo.yml']);
    expect(res.exitCode, res.stderr).toBe(2);
    expect(res.stderr).toContain('checks.typo-metric: the query returns no data');
    expect(res.stderr).toContain('http_requests_totl{region="us-west",version="v1"}');
    expect(res.stderr).toMatch(/checks\.typo-syntax: Prometheus refused the query: bad_data: .*parse error/);
    expect(await stack.deployments()).toEqual(before);
    expect((await stack.containers()).filter((c) => c.service.endsWith('-canary'))).toEqual([]);
  });

  it('a good release passes on the Prometheus checks', async () => {
    const file = join(out, 'good.json');
    const res = await cli(['deploy', 'v2', '--config', 'test/fixtures/prometheus-only.yml', '--result-file', file]);
    expect(res.exitCode, res.stderr).toBe(0);
    const r = read(file);
    expect(r.final_state).toBe('COMPLETED');
    for (const stage of r.stages) {
      const prom = stage.checks.filter((c) => c.source === 'prometheus');
      expect(prom.map((c) => c.name)).toEqual(['error-rate', 'latency-p99']);
      expect(prom.every((c) => c.verdict === 'green' && typeof c.value === 'number')).toBe(true);
      expect(prom[0]?.query).toContain(`region="${stage.region}",version="v2"`);
    }
  });

  it('failure-rate 0.8 is rolled back on the Prometheus checks, with the Prometheus value in the result', async () => {
    const file = join(out, 'bad.json');
    const res = await cli([
      'deploy',
      'v3',
      '0.8',
      '--config',
      'test/fixtures/prometheus-only.yml',
      '--result-file',
      file,
    ]);
    expect(res.exitCode, res.stderr).toBe(1);
    const r = read(file);
    expect(r.final_state).toBe('ROLLED_BACK');
    expect(r.rollback.reason).toContain('(Prometheus)');
    const last = r.stages.at(-1)!;
    expect(last).toMatchObject({ region: 'us-west', verdict: 'red' });
    const errorRate = last.checks.find((c) => c.source === 'prometheus' && c.name === 'error-rate');
    expect(errorRate?.verdict).toBe('red');
    expect(errorRate?.value).toBeGreaterThan(0.5);
    expect(r.time_to_detect_ms).toBeGreaterThan(0);
    expect(r.time_to_detect_ms).toBeLessThan(60_000);
  });
});
