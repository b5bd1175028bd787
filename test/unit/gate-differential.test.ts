import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { differentialSetup, type DifferentialSetup } from '../../src/gate/differential.ts';
import { issuesOf } from './usage-issues.ts';

// Which experiments hit the candidate beside the baseline: the built-in set for the target,
// or the suite's experiments the configuration names (at their line when unknown).

const REGIONS = ['us-west', 'us-east', 'eu-west', 'ap-south'];
const root = mkdtempSync(join(tmpdir(), 'cg-differential-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const KILL = 'name: service-kill\ndescription: d\ntarget: us-west\nfault: { kind: kill }\n';
const CPU = 'name: cpu-spike\ndescription: d\ntarget: us-east\nfault: { kind: cpu, duration_seconds: 5 }\n';
const SERVICE =
  'service:\n  build: { context: . }\n  port: 3000\n  health: { path: /healthz }\n  traffic: [{ method: GET, path: / }]\n  dependencies: deps.yml\n';
const DEPS =
  'services:\n  worker:\n    image: w\n    depends_on: [postgres]\n  postgres:\n    image: postgres:15\n  cache:\n    image: redis\n';

function project(name: string, config: string): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'suite'), { recursive: true });
  writeFileSync(join(dir, 'suite', 'kill.yml'), KILL);
  writeFileSync(join(dir, 'suite', 'cpu.yml'), CPU);
  writeFileSync(join(dir, 'deps.yml'), DEPS);
  writeFileSync(join(dir, 'Dockerfile'), 'FROM node:24\n');
  writeFileSync(join(dir, 'chaos-gate.yml'), config);
  return dir;
}

const setup = (cwd: string) => differentialSetup({ cwd }, loadConfig(undefined, cwd), join(root, 'home'), REGIONS);
const names = (s: ReturnType<typeof setup>) =>
  'experiments' in s ? s.experiments.map((e) => `${e.name}: ${e.fault.kind}`) : s.note;

describe('differentialSetup', () => {
  it("crashes the demo in the first region's last stage by default", () => {
    const s = setup(project('demo', 'rollout:\n  regions: [us-east, us-west]\n')) as DifferentialSetup;
    expect(names(s)).toEqual(['candidate-kill: kill']);
    expect([s.region, s.stage, s.rps]).toEqual(['us-east', 'last', 20]);
    expect(s.tolerance).toEqual({
      alpha: 0.05,
      minSamples: 30,
      maxErrorRateIncrease: 0.05,
      maxLatencyIncreaseRatio: 0.5,
      maxLatencyIncreaseMs: 50,
      maxRecoveryIncreaseSeconds: 3,
    });
  });

  it("freezes, slows and flakes each dependency a user's service calls itself, not what only its dependencies call", () => {
    const s = setup(project('service', SERVICE)) as DifferentialSetup;
    expect(names(s)).toEqual([
      'candidate-kill: kill',
      'candidate-worker-frozen: dependency',
      'candidate-worker-slow: dependency',
      'candidate-worker-flaky: dependency',
      'candidate-cache-frozen: dependency',
      'candidate-cache-slow: dependency',
      'candidate-cache-flaky: dependency',
    ]);
    expect(s.experiments.slice(1, 4).map((e) => e.fault)).toEqual([
      { kind: 'dependency', service: 'worker', mode: 'pause', durationSeconds: 5 },
      { kind: 'dependency', service: 'worker', mode: 'latency', durationSeconds: 5, delayMs: 300, jitterMs: 0 },
      { kind: 'dependency', service: 'worker', mode: 'errors', durationSeconds: 15, share: 0.5 },
    ]);
  });

  it('gives both sides as long to serve again after a crash as a deploy gets to be healthy (a start is a start)', () => {
    const recovery = (config: string) =>
      (setup(project(`start-${config.length}`, config)) as DifferentialSetup).experiments[0]?.windows
        .recoveryDeadlineSeconds;
    expect(recovery('')).toBe(30);
    expect(recovery('rollout:\n  health: { deadline_seconds: 90 }\n')).toBe(90);
    expect(recovery('rollout:\n  health: { deadline_seconds: 5 }\n')).toBe(20);
  });

  it('runs in a rolling rollout too: after the bake, the baseline beside the candidate', () => {
    const s = setup(project('rolling', 'rollout:\n  strategy: rolling\n')) as DifferentialSetup;
    expect([s.region, names(s)[0]]).toEqual(['us-west', 'candidate-kill: kill']);
  });

  it("runs the suite's experiments the configuration names, in its order, with its stage", () => {
    const s = setup(
      project('named', 'experiments:\n  dir: suite\n  differential: { run: [service-kill, cpu-spike], stage: 2 }\n'),
    ) as DifferentialSetup;
    expect(names(s)).toEqual(['service-kill: kill', 'cpu-spike: cpu']);
    expect(s.stage).toBe(1);
  });

  it('refuses a name the suite does not have, at its line', () => {
    const cwd = project(
      'unknown',
      'experiments:\n  dir: suite\n  differential:\n    run:\n      - service-kill\n      - nope\n',
    );
    expect(issuesOf(() => setup(cwd))).toEqual([
      {
        source: join(cwd, 'chaos-gate.yml'),
        path: 'experiments.differential.run[1]',
        rule: 'no experiment named "nope" (experiments: cpu-spike, service-kill)',
        line: 6,
      },
    ]);
  });

  it("refuses for a user's service a kind that needs the demo's fault endpoint, at the experiment file's line", () => {
    const cwd = project('endpoint', `${SERVICE}experiments:\n  dir: suite\n  differential: { run: [cpu-spike] }\n`);
    expect(issuesOf(() => setup(cwd))).toEqual([
      expect.objectContaining({ source: join(cwd, 'suite', 'cpu.yml'), path: 'fault.kind', line: 4 }),
    ]);
  });

  it.each([
    [
      'switched off',
      'experiments:\n  differential: { enabled: false }\n',
      'no chaos on the candidate: experiments.differential.enabled is false',
    ],
  ])('makes none, with a note, when %s', (_what, config, note) => {
    expect(setup(project(`none-${note.length}`, config))).toEqual({ note });
  });
});
