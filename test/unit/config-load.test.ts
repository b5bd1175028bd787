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
`;
// Every environment is validated, chosen or not: a broken one makes the whole file bad.
const BROKEN = `${FILE}  broken:
    rollout: { bake_seconds: -1 }
`;

describe('chaos-gate.yml', () => {
  it('has every default without a file', () => {
    const c = parseConfig('', 'defaults');
    expect(c.rollout.stages.map((s) => s.weight)).toEqual([1, 5, 25, 50, 100]);
    expect(c.gate).toEqual({
      failOnExperiment: true,
      failOnRollback: true,
      requiredExperiments: [],
      rolloutAfterFailedExperiments: true,
      controls: { enabled: true, region: undefined, rollbackUnderFire: true },
    });
    expect(c.experiments).toEqual({
      dir: undefined,
      only: undefined,
      thresholds: {},
      differential: expect.objectContaining({ enabled: true, run: undefined }),
    });
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
    expect(issuesOf(() => parseConfig(BROKEN, 'f.yml', 'broken'))).toEqual([
      { source: 'f.yml', path: 'environments.broken.rollout.bake_seconds', rule: 'must be greater than 0', line: 16 },
    ]);
  });

  it('refuses an unknown environment, listing the known ones', () => {
    expect(issuesOf(() => parseConfig(BROKEN, 'f.yml', 'prod'))[0]?.rule).toBe(
      '"prod" is not an environment of f.yml (environments: staging, broken)',
    );
  });

  it.each([
    ['rolout:\n  strategy: canary\n', { path: 'rolout', line: 1, rule: expect.stringContaining('unknown section') }],
    [
      'environments:\n  staging:\n    rollouts: {}\n',
      { path: 'environments.staging.rollouts', line: 3, rule: expect.stringContaining('unknown section') },
    ],
    ['gate:\n  fail_on_experiment: maybe\n', { path: 'gate.fail_on_experiment', line: 2 }],
    [
      'experiments:\n  thresholds:\n    service-kill: { recovery: 3 }\n',
      { path: 'experiments.thresholds.service-kill.recovery', line: 3 },
    ],
    ['rollout: [1, 2\n', { path: '', rule: expect.stringContaining('not valid YAML') }],
    ['- a\n- b\n', { path: '', rule: expect.stringContaining('must be a mapping of sections') }],
  ])('%j is refused', (text, expected) => {
    expect(issuesOf(() => parseConfig(text, 'f.yml'))[0]).toMatchObject({ source: 'f.yml', ...expected });
  });

  it('reads the predict section, also from an environment, and checks the pre-flight region against the rollout', () => {
    const text =
      'predict:\n  max_risk: 30\n  preflight: { seconds: 3 }\nenvironments:\n  fast:\n    predict: { on_high_risk: close, preflight: { region: eu-west } }\n';
    expect(parseConfig('', 'defaults').predict.enabled).toBe(true);
    const base = parseConfig(text, 'f.yml');
    expect(base.predict).toMatchObject({
      maxRisk: 30,
      onHighRisk: 'small_tiers',
      preflight: { region: undefined, secondsPerProfile: 3 },
    });
    const fast = parseConfig(text, 'f.yml', 'fast');
    expect(fast.predict).toMatchObject({
      maxRisk: 30,
      onHighRisk: 'close',
      preflight: { region: 'eu-west', secondsPerProfile: 3 },
    });
    expect(
      issuesOf(() =>
        parseConfig('rollout: { regions: [us-west] }\npredict:\n  preflight: { region: eu-west }\n', 'f.yml'),
      ),
    ).toEqual([
      {
        source: 'f.yml',
        path: 'predict.preflight.region',
        rule: '"eu-west" must be one of rollout.regions (us-west)',
        line: 3,
      },
    ]);
    expect(issuesOf(() => parseConfig('predict:\n  max_risk: 101\n', 'f.yml'))[0]).toMatchObject({
      path: 'predict.max_risk',
      line: 2,
    });
  });

  it('resolves a relative experiments folder against the file, and requires --config to exist', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cg-config-'));
    writeFileSync(join(dir, 'chaos-gate.yml'), 'experiments:\n  dir: my-chaos\n');
    expect(loadConfig(undefined, dir).experiments.dir).toBe(join(dir, 'my-chaos'));
    expect(issuesOf(() => loadConfig('nope.yml', dir))[0]?.rule).toContain('no such file');
    expect(issuesOf(() => loadConfig(undefined, mkdtempSync(join(tmpdir(), 'cg-empty-')), 'staging'))[0]?.source).toBe(
      '--environment',
    );
  });

  it('deepMerge replaces lists and merges mappings', () => {
    expect(deepMerge({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] }, e: 2 })).toEqual({
      a: { b: 1, c: [3] },
      d: 1,
      e: 2,
    });
  });
});

describe('regions are checked when the file is read, not once the stack is up', () => {
  it('refuses a region the stack does not have, with its line', () => {
    expect(issuesOf(() => parseConfig('rollout:\n  regions:\n    - us-west\n    - mars\n', 'f.yml'))).toEqual([
      {
        source: 'f.yml',
        path: 'rollout.regions[1]',
        rule: '"mars" is not a region of the stack (us-west, us-east, eu-west, ap-south)',
        line: 4,
      },
    ]);
  });

  it('checks against the regions it is given, and the predict fields that name a region against the rollout', () => {
    expect(
      parseConfig('rollout: { regions: [mars] }\n', 'f.yml', undefined, { regions: ['mars'] }).rollout.regions,
    ).toEqual(['mars']);
    const text =
      'rollout: { regions: [us-west] }\npredict:\n  preflight: { region: eu-west }\n  dependencies: { pluto: [db] }\n';
    expect(issuesOf(() => parseConfig(text, 'f.yml')).map((i) => [i.path, i.line])).toEqual([
      ['predict.preflight.region', 3],
      ['predict.dependencies.pluto', 4],
    ]);
  });
});

describe('every environment is validated, chosen or not', () => {
  const base = 'rollout:\n  bake_seconds: 4\n';

  it('refuses an unknown field in an environment nobody chose, at its line (it passed with exit 0)', () => {
    const text = `${base}environments:\n  staging:\n    rollout: { bake_seconds: 2 }\n  prod:\n    rollout:\n      bake_secs: 3\n`;
    for (const chosen of [undefined, 'staging']) {
      expect(issuesOf(() => parseConfig(text, 'f.yml', chosen))).toEqual([
        {
          source: 'f.yml',
          path: 'environments.prod.rollout.bake_secs',
          rule: 'unknown field (check its spelling)',
          line: 8,
        },
      ]);
    }
  });

  it('validates the merged result: a rule across fields that only the merge breaks names the environment', () => {
    const text = `${base}environments:\n  slow:\n    rollout:\n      bake_seconds: 40\n`;
    expect(issuesOf(() => parseConfig(text, 'f.yml'))).toEqual([
      {
        source: 'f.yml',
        path: 'environments.slow.rollout.analysis.stage_deadline_seconds',
        rule: 'must be greater than the longest bake_seconds (40), or no stage could pass',
        line: 6,
      },
    ]);
  });

  it('reports a problem of the base once, at the base, not again for every environment', () => {
    const text =
      'rollout:\n  bake_seconds: -1\nenvironments:\n  a: { gate: {} }\n  b: { rollout: { bake_seconds: -2 } }\n';
    expect(issuesOf(() => parseConfig(text, 'f.yml')).map((i) => [i.path, i.line])).toEqual([
      ['rollout.bake_seconds', 2],
      ['environments.b.rollout.bake_seconds', 5],
    ]);
  });

  it('refuses environment names --environment could not choose, and too many environments', () => {
    expect(issuesOf(() => parseConfig('environments:\n  "pro d": {}\n', 'f.yml'))[0]).toMatchObject({
      path: 'environments.pro d',
      line: 2,
    });
    const many = Array.from({ length: 51 }, (_, i) => `  e${i}: {}`).join('\n');
    expect(issuesOf(() => parseConfig(`environments:\n${many}\n`, 'f.yml'))).toEqual([
      {
        source: 'f.yml',
        path: 'environments',
        rule: 'has 51 environments, more than the 50 a file may have (each is validated in full)',
        line: 1,
      },
    ]);
  });
});

describe('precise messages', () => {
  it.each([
    ['.inf', 'infinity (.inf)'],
    ['-.inf', 'minus infinity (-.inf)'],
    ['.nan', 'not a number (.nan)'],
  ])('says what %s is (it said "got null")', (value, said) => {
    expect(issuesOf(() => parseConfig(`rollout:\n  traffic_rps: ${value}\n`, 'f.yml'))).toEqual([
      { source: 'f.yml', path: 'rollout.traffic_rps', rule: `must be a finite number, got ${said}`, line: 2 },
    ]);
  });

  it('puts a stage deadline left at its default on the line of the bake it is too short for (it said line 1)', () => {
    const line = (text: string) => issuesOf(() => parseConfig(text, 'f.yml'))[0]?.line;
    expect(line('rollout:\n  bake_seconds: 40\n')).toBe(2);
    expect(line('rollout:\n  stages:\n    - { weight: 50 }\n    - weight: 100\n      bake_seconds: 45\n')).toBe(5);
    expect(line('gate: {}\nrollout:\n  bake_seconds: 4\n  analysis:\n    stage_deadline_seconds: 3\n')).toBe(5);
  });

  it('refuses a plan that could never reach a verdict, naming traffic_rps with the numbers', () => {
    expect(issuesOf(() => parseConfig('rollout:\n  traffic_rps: 0.5\n', 'f.yml'))).toEqual([
      {
        source: 'f.yml',
        path: 'rollout.traffic_rps',
        rule:
          'no stage could be judged: a verdict needs 30 canary requests (analysis.min_samples), 60 s at 0.5 ' +
          'request/s, and a stage is aborted at analysis.stage_deadline_seconds 30: traffic_rps must be more ' +
          'than 1 (or lower min_samples, or a longer stage deadline)',
        line: 2,
      },
    ]);
    // traffic_rps left at its default: the line of the field that made it too low.
    const [starved] = issuesOf(() => parseConfig('gate: {}\nrollout:\n  analysis:\n    min_samples: 2000\n', 'f.yml'));
    expect(starved).toMatchObject({ path: 'rollout.traffic_rps', line: 4 });
    expect(starved?.rule).toContain('50 s at 40 request/s');
    // An environment's merge that starves the plan is the environment's.
    const text = 'rollout:\n  traffic_rps: 2\nenvironments:\n  slow:\n    rollout: { traffic_rps: 1 }\n';
    expect(issuesOf(() => parseConfig(text, 'f.yml'))).toMatchObject([
      { path: 'environments.slow.rollout.traffic_rps', line: 5 },
    ]);
  });

  it('loads a plan the pre-flight refuses when asked not to check it (chaos-gate plan shows it itself)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cg-preflight-'));
    writeFileSync(join(dir, 'c.yml'), 'rollout:\n  traffic_rps: 1\n');
    expect(issuesOf(() => loadConfig('c.yml', dir))[0]?.path).toBe('rollout.traffic_rps');
    expect(loadConfig('c.yml', dir, undefined, { planPreflight: false }).rollout.trafficRps).toBe(1);
  });

  it('gives experiments.only the file and line of each name, for the suite to name them', () => {
    const text =
      'experiments:\n  only:\n    - service-kill\n    - cpu-spike\nenvironments:\n  ci:\n    experiments: { only: [cpu-spike] }\n';
    expect(parseConfig(text, 'f.yml').experiments.onlyOrigin).toEqual({
      source: 'f.yml',
      path: 'experiments.only',
      lines: [3, 4],
    });
    expect(parseConfig(text, 'f.yml', 'ci').experiments.onlyOrigin).toEqual({
      source: 'f.yml',
      path: 'environments.ci.experiments.only',
      lines: [7],
    });
    expect(parseConfig('', 'f.yml').experiments).toEqual({
      dir: undefined,
      only: undefined,
      thresholds: {},
      differential: expect.objectContaining({ enabled: true }),
    });
  });
});
