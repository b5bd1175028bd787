import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/cli/args.ts';
import { UsageError } from '../../src/util/errors.ts';
import { loadConfig } from '../../src/config/load.ts';
import { gateSuite, selectSuite, suiteFitIssues, suiteJudgement, type SuiteTarget } from '../../src/gate/suite.ts';
import type { Experiment } from '../../src/chaos/experiment.ts';
import { issuesOf } from './usage-issues.ts';

// `gate` and `chaos` pick the suite the same way (issue 14: `chaos` used to ignore the
// config, so experiments.thresholds overrides did not apply to it).

const REGIONS = ['us-west', 'us-east', 'eu-west', 'ap-south'];
const root = mkdtempSync(join(tmpdir(), 'cg-suite-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const KILL =
  'name: service-kill\ndescription: d\ntarget: us-west\nfault: { kind: kill }\nthresholds: { max_recovery_time_seconds: 15 }\n';
const CPU = 'name: cpu-spike\ndescription: d\ntarget: us-east\nfault: { kind: cpu, duration_seconds: 5 }\n';

/** A project folder with its own experiments and a chaos-gate.yml; returns it. */
function project(name: string, config: string): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'suite'), { recursive: true });
  writeFileSync(join(dir, 'suite', 'kill.yml'), KILL);
  writeFileSync(join(dir, 'suite', 'cpu.yml'), CPU);
  writeFileSync(join(dir, 'chaos-gate.yml'), config);
  return dir;
}
const recovery = (e: { thresholds: readonly { measurement: string; value: number }[] } | undefined) =>
  e?.thresholds.find((t) => t.measurement === 'recovery_time_seconds')?.value;

describe('selectSuite', () => {
  it('reads experiments.dir and only from the config, and applies its threshold overrides', () => {
    const cwd = project(
      'a',
      'experiments:\n  dir: suite\n  only: [service-kill]\n  thresholds:\n    service-kill: { max_recovery_time_seconds: 20 }\n',
    );
    const suite = selectSuite({ cwd }, loadConfig(undefined, cwd), '/nowhere', REGIONS).experiments;
    expect(suite.map((e) => e.name)).toEqual(['service-kill']);
    expect(recovery(suite[0])).toBe(20);
  });

  it('takes --only and --experiments over the config', () => {
    const cwd = project('b', 'experiments:\n  dir: nowhere\n  only: [service-kill]\n');
    const { experiments: suite, dir } = selectSuite(
      { cwd, only: ['cpu-spike'], experimentsDir: 'suite' },
      loadConfig(undefined, cwd),
      '/nowhere',
      REGIONS,
    );
    expect(dir).toBe(join(cwd, 'suite'));
    expect(suite.map((e) => e.name)).toEqual(['cpu-spike']);
    expect(selectSuite({ cwd, only: [] }, loadConfig(undefined, cwd), '/nowhere', REGIONS).experiments).toEqual([]);
  });

  it('refuses an override of an experiment the suite lacks, at its line in the config', () => {
    const cwd = project(
      'c',
      'experiments:\n  dir: suite\n  thresholds:\n    service-kil: { max_recovery_time_seconds: 20 }\n',
    );
    const config = loadConfig(undefined, cwd);
    let error: unknown;
    try {
      selectSuite({ cwd }, config, '/nowhere', REGIONS);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).issues[0]).toMatchObject({
      source: join(cwd, 'chaos-gate.yml'),
      path: 'experiments.thresholds.service-kil',
      line: 4,
    });
  });

  // Under the Action these used to be renamed after the fact (action/issues.ts); now the loader names them.
  it("names the config's experiments.dir and its line for a folder the config chose, the flag for one it was given", () => {
    const cwd = project('e', 'rollout: {}\nexperiments:\n  dir: nope\n');
    const config = loadConfig(undefined, cwd);
    expect(issuesOf(() => selectSuite({ cwd }, config, '/nowhere', REGIONS))).toEqual([
      {
        source: join(cwd, 'chaos-gate.yml'),
        path: 'experiments.dir',
        line: 3,
        rule: `${JSON.stringify(join(cwd, 'nope'))} is not a folder`,
      },
    ]);
    expect(issuesOf(() => selectSuite({ cwd, experimentsDir: 'gone' }, config, '/nowhere', REGIONS))).toEqual([
      { source: '--experiments', path: '', rule: `${JSON.stringify(join(cwd, 'gone'))} is not a folder` },
    ]);
  });

  it("names the config's experiments.only entry and its line for a name the suite lacks, --only for a flag's", () => {
    const cwd = project('f', 'experiments:\n  dir: suite\n  only: [service-kill, cpu-spik]\n');
    const config = loadConfig(undefined, cwd);
    expect(issuesOf(() => selectSuite({ cwd }, config, '/nowhere', REGIONS))).toEqual([
      expect.objectContaining({ source: join(cwd, 'chaos-gate.yml'), path: 'experiments.only[1]', line: 3 }),
    ]);
    expect(issuesOf(() => selectSuite({ cwd, only: ['cpu-spik'] }, config, '/nowhere', REGIONS))).toEqual([
      expect.objectContaining({ source: '--only', path: '' }),
    ]);
  });

  it("judges with the limits of the rollout's first stage", () => {
    const cwd = project('d', 'rollout:\n  limits: { max_error_rate: 0.02, max_p99_ms: 300 }\n');
    expect(suiteJudgement(loadConfig(undefined, cwd)).limits).toEqual({ maxErrorRate: 0.02, maxP99Ms: 300 });
  });
});

describe('chaos takes the config as gate does', () => {
  it('parses --config and --environment', () => {
    expect(parseCommand(['chaos', '--config', 'x.yml', '--environment', 'staging'])).toMatchObject({
      name: 'chaos',
      config: 'x.yml',
      environment: 'staging',
    });
  });
});

describe('which experiments fit the target', () => {
  const exp = (fault: Experiment['fault']): Experiment => ({ fault, source: `${fault.kind}.yml` }) as Experiment;
  const dependency = (service: string) => exp({ kind: 'dependency', durationSeconds: 5, service, mode: 'pause' });
  const latency = (method: 'auto' | 'tc-netem' | 'fault-endpoint') =>
    exp({ kind: 'latency', durationSeconds: 5, delayMs: 100, jitterMs: 0, method });
  const service = { kind: 'service', dependencies: ['worker', 'postgres'] } as const;

  it.each([
    ["kill on a user's service", exp({ kind: 'kill' }), service, []],
    ["a partition on a user's service", exp({ kind: 'partition', durationSeconds: 5 }), service, []],
    ["latency by tc-netem on a user's service", latency('tc-netem'), service, []],
    ['a dependency of the file', dependency('postgres'), service, []],
    [
      "cpu (the demo's endpoint) on a user's service",
      exp({ kind: 'cpu', durationSeconds: 5, method: 'fault-endpoint', cpus: 0.1 }),
      service,
      [['fault.kind', 'write method: cgroup (a CPU quota from outside)']],
    ],
    [
      "cpu by a cgroup quota on a user's service",
      exp({ kind: 'cpu', durationSeconds: 5, method: 'cgroup', cpus: 0.1 }),
      service,
      [],
    ],
    [
      "db_unavailable on a user's service",
      exp({ kind: 'db_unavailable', durationSeconds: 5 }),
      service,
      [['fault.kind', 'db_unavailable is injected through']],
    ],
    ["latency, auto, on a user's service", latency('auto'), service, [['fault.method', 'write method: tc-netem']]],
    [
      'a dependency not in the file',
      dependency('redis'),
      service,
      [['fault.service', '"redis" is not a service of your dependencies file (its services: worker, postgres)']],
    ],
    [
      'a dependency without a file',
      dependency('redis'),
      { kind: 'service', dependencies: [] } as const,
      [['fault.service', 'service.dependencies is not given']],
    ],
    [
      'a dependency on the demo',
      dependency('postgres'),
      { kind: 'demo' } as const,
      [['fault.kind', 'they need a service: section with dependencies']],
    ],
    [
      'cpu on the demo',
      exp({ kind: 'cpu', durationSeconds: 5, method: 'fault-endpoint', cpus: 0.1 }),
      { kind: 'demo' } as const,
      [],
    ],
  ] as [string, Experiment, SuiteTarget, [string, string][]][])('%s', (_what, experiment, target, expected) => {
    expect(suiteFitIssues([experiment], target).map((i) => [i.path, i.rule])).toEqual(
      expected.map(([path, rule]) => [path, expect.stringContaining(rule)]),
    );
  });

  it("refuses a user's suite that does not fit, at the file's line; runs none of the built-in suite, and says so", () => {
    const cwd = project(
      'fit',
      'service:\n  build: {}\n  port: 3000\n  health: { path: /h }\n  traffic: [{ path: / }]\nexperiments:\n  dir: suite\n',
    );
    writeFileSync(join(cwd, 'Dockerfile'), 'FROM node:24-alpine\n');
    const config = loadConfig(undefined, cwd);
    expect(issuesOf(() => gateSuite({ cwd }, config, '/nowhere', REGIONS))).toEqual([
      {
        source: join(cwd, 'suite', 'cpu.yml'),
        path: 'fault.kind',
        line: 4,
        rule: expect.stringContaining('fault endpoint'),
      },
    ]);
    const home = join(root, 'home');
    mkdirSync(join(home, 'chaos'), { recursive: true });
    writeFileSync(join(home, 'chaos', 'cpu.yml'), CPU);
    const other = project(
      'fit2',
      'service:\n  image: app:1\n  port: 3000\n  health: { path: /h }\n  traffic: [{ path: / }]\nbaseline: { image: app:0 }\n',
    );
    expect(gateSuite({ cwd: other }, loadConfig(undefined, other), home, REGIONS)).toEqual({
      experiments: [],
      note: expect.stringContaining("the built-in suite (1 experiment(s)) is the demo service's; give experiments.dir"),
    });
  });
});
