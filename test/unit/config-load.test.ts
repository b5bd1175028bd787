import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { issuesOf } from './usage-issues.ts';
import { deepMerge, loadConfig, parseConfig } from '../../src/config/load.ts';

const FILE = `rollout:
  bake_seconds: 4
experiments:
  only: [service-kill]
  thresholds:
    service-kill: { max_recovery_time_seconds: 20 }
gate:
  required_experiments: [service-kill]
environments:
  staging:
    rollout: { bake_seconds: 2, limits: { max_error_rate: 0.1 } }
    experiments:
      thresholds:
        service-kill: { max_recovery_time_seconds: 40 }
  broken:
    rollout: { bake_seconds: -1 }
`;

describe('chaos-gate.yml', () => {
  it('has every default without a file', () => {
    const c = parseConfig('', 'defaults');
    expect(c.rollout.stages.map((s) => s.weight)).toEqual([1, 5, 25, 50, 100]);
    expect(c.gate).toEqual({ failOnExperiment: true, failOnRollback: true, requiredExperiments: [], rolloutAfterFailedExperiments: true });
    expect(c.experiments).toEqual({ dir: undefined, only: undefined, thresholds: {} });
    expect(c.prometheus.checks).toHaveLength(2);
  });

  it('reads the gate and experiments sections', () => {
    const c = parseConfig(FILE, 'f.yml');
    expect(c.experiments.only).toEqual(['service-kill']);
    expect(c.experiments.thresholds).toEqual({ 'service-kill': { max_recovery_time_seconds: 20 } });
    expect(c.gate.requiredExperiments).toEqual(['service-kill']);
    expect(c.rollout.stages[0]?.bakeSeconds).toBe(4);
  });

  it('applies an environment over the base, mappings merged key by key', () => {
    const c = parseConfig(FILE, 'f.yml', 'staging');
    expect(c.environment).toBe('staging');
    expect(c.rollout.stages[0]?.bakeSeconds).toBe(2);
    expect(c.rollout.stages[0]?.limits).toEqual({ maxErrorRate: 0.1, maxP99Ms: 500 });
    expect(c.experiments.thresholds).toEqual({ 'service-kill': { max_recovery_time_seconds: 40 } });
    expect(c.experiments.only).toEqual(['service-kill']);
  });

  it('names the environment line when a value it sets is bad', () => {
    expect(issuesOf(() => parseConfig(FILE, 'f.yml', 'broken'))).toEqual([
      { source: 'f.yml', path: 'environments.broken.rollout.bake_seconds', rule: 'must be greater than 0', line: 16 },
    ]);
  });

  it('refuses an unknown environment, listing the known ones', () => {
    expect(issuesOf(() => parseConfig(FILE, 'f.yml', 'prod'))[0]?.rule).toBe('"prod" is not an environment of f.yml (environments: staging, broken)');
  });

  it.each([
    ['rolout:\n  strategy: canary\n', { path: 'rolout', line: 1, rule: expect.stringContaining('unknown section') }],
    ['environments:\n  staging:\n    rollouts: {}\n', { path: 'environments.staging.rollouts', line: 3, rule: expect.stringContaining('unknown section') }],
    ['gate:\n  fail_on_experiment: maybe\n', { path: 'gate.fail_on_experiment', line: 2 }],
    ['experiments:\n  thresholds:\n    service-kill: { recovery: 3 }\n', { path: 'experiments.thresholds.service-kill.recovery', line: 3 }],
    ['rollout: [1, 2\n', { path: '', rule: expect.stringContaining('not valid YAML') }],
    ['- a\n- b\n', { path: '', rule: expect.stringContaining('must be a mapping of sections') }],
  ])('%j is refused', (text, expected) => {
    expect(issuesOf(() => parseConfig(text, 'f.yml'))[0]).toMatchObject({ source: 'f.yml', ...expected });
  });

  it('reads the predict section, also from an environment, and checks the pre-flight region against the rollout', () => {
    const text = 'predict:\n  max_risk: 30\n  preflight: { seconds: 3 }\nenvironments:\n  fast:\n    predict: { on_high_risk: close, preflight: { region: eu-west } }\n';
    expect(parseConfig('', 'defaults').predict.enabled).toBe(true);
    const base = parseConfig(text, 'f.yml');
    expect(base.predict).toMatchObject({ maxRisk: 30, onHighRisk: 'small_tiers', preflight: { region: undefined, secondsPerProfile: 3 } });
    const fast = parseConfig(text, 'f.yml', 'fast');
    expect(fast.predict).toMatchObject({ maxRisk: 30, onHighRisk: 'close', preflight: { region: 'eu-west', secondsPerProfile: 3 } });
    expect(issuesOf(() => parseConfig('rollout: { regions: [us-west] }\npredict:\n  preflight: { region: eu-west }\n', 'f.yml'))).toEqual([
      { source: 'f.yml', path: 'predict.preflight.region', rule: '"eu-west" must be one of rollout.regions (us-west)', line: 3 },
    ]);
    expect(issuesOf(() => parseConfig('predict:\n  max_risk: 101\n', 'f.yml'))[0]).toMatchObject({ path: 'predict.max_risk', line: 2 });
  });

  it('resolves a relative experiments folder against the file, and requires --config to exist', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cg-config-'));
    writeFileSync(join(dir, 'chaos-gate.yml'), 'experiments:\n  dir: my-chaos\n');
    expect(loadConfig(undefined, dir).experiments.dir).toBe(join(dir, 'my-chaos'));
    expect(issuesOf(() => loadConfig('nope.yml', dir))[0]?.rule).toContain('no such file');
    expect(issuesOf(() => loadConfig(undefined, mkdtempSync(join(tmpdir(), 'cg-empty-')), 'staging'))[0]?.source).toBe('--environment');
  });

  it('deepMerge replaces lists and merges mappings', () => {
    expect(deepMerge({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] }, e: 2 })).toEqual({ a: { b: 1, c: [3] }, d: 1, e: 2 });
  });
});
