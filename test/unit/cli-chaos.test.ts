import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Experiment } from '../../src/chaos/experiment.ts';
import type { SuiteDeps, SuiteOutcome } from '../../src/chaos/suite.ts';
import { runChaos, type ChaosDeps } from '../../src/cli/commands/chaos.ts';
import { statusJson } from '../../src/cli/commands/stack.ts';
import { main } from '../../src/cli/main.ts';
import type { Stack, StackStatus } from '../../src/stack/stack.ts';
import { defaultStackTarget } from '../../src/stack/target.ts';
import { projectDir } from '../../src/util/paths.ts';

// `chaos` runs the suite the config asks for, with its experiments.thresholds overrides
// (issue 14: it used to run the suite without the config). The real parser and runChaos run;
// the stack and the suite runner are replaced, so no Docker is needed.

const root = mkdtempSync(join(tmpdir(), 'cg-cli-chaos-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const KILL =
  'name: service-kill\ndescription: d\ntarget: us-west\nfault: { kind: kill }\nthresholds: { max_recovery_time_seconds: 15 }\n';
const CONFIG = [
  'rollout:',
  '  limits: { max_error_rate: 0.02, max_p99_ms: 300 }',
  'experiments:',
  '  dir: suite',
  '  thresholds:',
  '    service-kill: { max_recovery_time_seconds: 20 }',
  'environments:',
  '  staging:',
  '    experiments:',
  '      thresholds:',
  '        service-kill: { max_recovery_time_seconds: 40 }',
  '',
].join('\n');

interface Ran {
  code: number;
  suites: { experiments: readonly Experiment[]; deps: SuiteDeps }[];
  stdout: string;
  cwd: string;
}

/** `chaos-gate chaos ...args` in a project folder of its own, the suite recorded instead of run. */
async function chaos(...args: string[]): Promise<Ran> {
  const cwd = mkdtempSync(join(root, 'project-'));
  mkdirSync(join(cwd, 'suite'));
  writeFileSync(join(cwd, 'suite', 'kill.yml'), KILL);
  writeFileSync(join(cwd, 'chaos-gate.yml'), CONFIG);
  const suites: Ran['suites'] = [];
  const deps: ChaosDeps = {
    openStack: async () => ({ target: defaultStackTarget(projectDir()) }) as Stack,
    prepareStack: async () => {},
    runSuite: async (experiments, suiteDeps): Promise<SuiteOutcome> => {
      suites.push({ experiments, deps: suiteDeps });
      return { seed: suiteDeps.seed, results: [], interrupted: false };
    },
    cwd: () => cwd,
  };
  let stdout = '';
  const code = await main(['chaos', ...args], {
    out: (t) => void (stdout += t),
    err: () => {},
    dispatch: (command, ctx) => {
      if (command.name !== 'chaos') throw new Error(`unexpected ${command.name}`);
      return runChaos(command, ctx, deps);
    },
    now: () => Date.UTC(2026, 0, 1),
  });
  return { code, suites, stdout, cwd };
}

const recovery = (e: Experiment | undefined) =>
  e?.thresholds.find((t) => t.measurement === 'recovery_time_seconds')?.value;

describe('chaos honours the config', () => {
  it("runs the config's suite with its experiments.thresholds override, judged by the rollout's limits", async () => {
    const ran = await chaos('--seed', '7');
    expect(ran.code).toBe(0);
    expect(ran.suites).toHaveLength(1);
    const [suite] = ran.suites;
    expect(suite?.experiments.map((e) => e.name)).toEqual(['service-kill']);
    expect(recovery(suite?.experiments[0])).toBe(20);
    expect(suite?.deps.judgement.limits).toEqual({ maxErrorRate: 0.02, maxP99Ms: 300 });
    expect(suite?.deps.seed).toBe(7);
  });

  it("takes the environment's override with --environment", async () => {
    const ran = await chaos('--environment', 'staging', '--seed', '7');
    expect(recovery(ran.suites[0]?.experiments[0])).toBe(40);
  });

  it('times the run and draws its seed from the clock it is given', async () => {
    const ran = await chaos('--json');
    expect(ran.suites[0]?.deps.seed).toBe(Date.UTC(2026, 0, 1) % 1_000_000);
    const written = JSON.parse(readFileSync(join(ran.cwd, 'reports', 'chaos.json'), 'utf8')) as Record<string, unknown>;
    expect(written).toMatchObject({ started_at: '2026-01-01T00:00:00.000Z', duration_ms: 0, status: 'PASS' });
    expect(JSON.parse(ran.stdout)).toEqual(written);
  });
});

describe('status --json', () => {
  it('prints snake_case keys, as every other JSON output', () => {
    const status: StackStatus = {
      regions: [
        {
          region: 'us-west',
          port: 8081,
          stable: {
            service: 'region-us-west',
            slot: 'stable',
            state: 'running',
            health: 'healthy',
            restartCount: 2,
            deployment: { version: 'v1', failureRate: 0 },
            reportedVersion: 'v1',
          },
          canary: undefined,
        },
      ],
      prometheus: { state: 'running', ready: true },
      grafana: undefined,
    };
    const json = JSON.parse(statusJson(status, ['a netem delay on region-us-west'])) as {
      regions: Record<string, Record<string, unknown>>[];
      leftovers: string[];
    };
    expect(json.regions[0]?.stable).toMatchObject({ restart_count: 2, reported_version: 'v1' });
    expect(json.regions[0]?.stable?.deployment).toEqual({ version: 'v1', failure_rate: 0 });
    expect(json.leftovers).toEqual(['a netem delay on region-us-west']);
    expect(statusJson(status, [])).not.toMatch(/"[a-z]+[A-Z]\w*":/);
  });
});
