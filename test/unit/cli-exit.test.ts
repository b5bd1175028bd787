import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { runDeploy, type DeployDeps } from '../../src/cli/commands/deploy.ts';
import { runGateCommand } from '../../src/cli/commands/gate.ts';
import type { GateOutcome, GateRequest } from '../../src/gate/pipeline.ts';
import { EXIT, main, type Dispatch } from '../../src/cli/main.ts';
import { UsageError } from '../../src/util/errors.ts';
import type { RolloutResult } from '../../src/rollout/result.ts';
import { InfraError } from '../../src/stack/errors.ts';
import type { Stack } from '../../src/stack/stack.ts';
import { rolloutFixture } from '../fixtures/report/rollout.ts';

// The exit status contract (README, design): 0 completed, 1 rolled back, 2 bad input, 3
// infrastructure failure or a rollback that could not be verified. main() runs here with its
// output captured and the command replaced, so no Docker is needed.

// A safety net: a unit test must never reach the real gate (Docker, the shared stack), also
// when a change stops runGateCommand from using the pipeline it is given.
vi.mock('../../src/gate/pipeline.ts', () => ({
  runGate: () => Promise.reject(new Error('the real gate pipeline must not run in a unit test')),
}));

const dir = mkdtempSync(join(tmpdir(), 'cg-cli-exit-'));
const config = join(dir, 'chaos-gate.yml');
writeFileSync(config, '');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Ran {
  code: number;
  stdout: string;
  stderr: string[];
}

async function run(argv: string[], dispatch: Dispatch): Promise<Ran> {
  let stdout = '';
  const stderr: string[] = [];
  const code = await main(argv, {
    out: (t) => void (stdout += t.endsWith('\n') ? t : t + '\n'),
    err: (l) => void stderr.push(l),
    dispatch,
  });
  return { code, stdout, stderr };
}

/** Deploy through the real runDeploy, with a stack that is never touched and a rollout that ends in `result`. */
function deployEnding(result: RolloutResult): Dispatch {
  const deps: DeployDeps = { openStack: async () => ({}) as Stack, runRollout: async () => result };
  return (command, ctx) => {
    if (command.name !== 'deploy') throw new Error(`unexpected ${command.name}`);
    return runDeploy(command, ctx, deps);
  };
}

const deployArgs = (...more: string[]) => [
  'deploy',
  'v3',
  '0.8',
  '--config',
  config,
  '--result-file',
  join(dir, 'rollout.json'),
  ...more,
];
const completed = rolloutFixture();
const rolledBack = rolloutFixture({ failureRate: 0.8, failAt: { region: 'us-east', stage: 0 } });
const unverified = rolloutFixture({ failureRate: 0.8, failAt: { region: 'us-east', stage: 0 }, rollbackFails: true });
const refuse: Dispatch = () => Promise.reject(new Error('must not run'));

describe('main: every outcome to its exit status', () => {
  it('a bad version is a usage error (2), refused before any command runs', async () => {
    const r = await run(['deploy', 'v2;rm -rf /'], refuse);
    expect(r.code).toBe(EXIT.usage);
    expect(r.code).toBe(2);
    expect(r.stderr.at(-1)).toBe("run 'chaos-gate help' for usage");
    expect(r.stdout).toBe('');
  });

  it('a UsageError from a command (bad configuration) is 2, each issue on stderr', async () => {
    const r = await run(deployArgs(), () =>
      Promise.reject(
        new UsageError([{ source: 'chaos-gate.yml', path: 'rollout.stages[0].weight', rule: 'must be in (0, 100]' }]),
      ),
    );
    expect(r.code).toBe(2);
    expect(r.stderr[0]).toBe('error: chaos-gate.yml: rollout.stages[0].weight: must be in (0, 100]');
  });

  it('an InfraError is 3, with its details', async () => {
    const r = await run(deployArgs(), () =>
      Promise.reject(
        new InfraError('the stack is not up: run `chaos-gate up` first', ['us-west: exited, not answering']),
      ),
    );
    expect(r.code).toBe(3);
    expect(r.stderr).toEqual([
      'infrastructure failure: the stack is not up: run `chaos-gate up` first',
      '  us-west: exited, not answering',
    ]);
  });

  it('an unexpected error is 3, never 0', async () => {
    const r = await run(deployArgs(), () => Promise.reject(new TypeError('boom')));
    expect(r.code).toBe(3);
    expect(r.stderr[0]).toMatch(/^internal error: TypeError: boom/);
  });

  it.each([
    ['completed', completed, 0],
    ['rolled back', rolledBack, 1],
    ['rolled back, but the rollback not verified', unverified, 3],
  ] as const)('deploy %s: %i', async (_, result, code) => {
    expect((await run(deployArgs(), deployEnding(result))).code).toBe(code);
    expect((await run(deployArgs('--json'), deployEnding(result))).code).toBe(code);
  });
});

describe('deploy: an unverified rollback is loud in every output format', () => {
  const loud = [
    'ROLLBACK COULD NOT BE VERIFIED. Regions left in these states:',
    '  us-east: reports v2, expected v1',
    '  us-west: back on v1, verified (3 health checks)',
  ];

  it('--json: stdout is the result and nothing else; the loud lines go to stderr', async () => {
    const r = await run(deployArgs('--json'), deployEnding(unverified));
    expect(JSON.parse(r.stdout)).toMatchObject({ final_state: 'FAILED' });
    expect(r.stdout).not.toContain('COULD NOT BE VERIFIED');
    expect(r.stderr).toEqual(expect.arrayContaining(loud));
    const at = r.stderr.indexOf(loud[0] as string);
    expect(r.stderr.slice(at, at + loud.length)).toEqual(loud);
  });

  it('text: they are part of the summary on stdout', async () => {
    const r = await run(deployArgs(), deployEnding(unverified));
    expect(r.stdout).toContain(loud.join('\n'));
  });

  it('--json of a clean rollback or completion prints nothing loud', async () => {
    for (const result of [completed, rolledBack]) {
      const r = await run(deployArgs('--json'), deployEnding(result));
      expect(r.stderr.some((l) => l.includes('COULD NOT BE VERIFIED'))).toBe(false);
    }
  });
});

describe('gate: the request the pipeline receives', () => {
  const outcome = {
    report: { deploymentGate: 'OPEN', gate: { status: 'OPEN', reasons: [] }, overall: 'PASS', prediction: null },
    paths: { json: 'r/report.json', html: 'r/report.html', junit: 'r/junit.xml', summary: 'r/summary.md' },
    exitCode: 0,
  } as unknown as GateOutcome;
  /** Runs the real parser and runGateCommand, with a pipeline that records its request. */
  async function gateRequestFor(argv: string[]): Promise<{ ran: Ran; requests: GateRequest[] }> {
    const requests: GateRequest[] = [];
    const ran = await run(argv, (command, ctx) => {
      if (command.name !== 'gate') throw new Error(`unexpected ${command.name}`);
      return runGateCommand(command, ctx, {
        runGate: async (request) => {
          requests.push(request);
          return outcome;
        },
      });
    });
    return { ran, requests };
  }

  it('--experiments DIR reaches the pipeline as experimentsDir (it was dropped before)', async () => {
    const { ran, requests } = await gateRequestFor(['gate', '--version', 'v2', '--experiments', 'my-chaos']);
    expect(ran.code).toBe(0);
    expect(requests).toHaveLength(1);
    expect(requests[0]?.experimentsDir).toBe('my-chaos');
  });

  it('every flag reaches its field', async () => {
    const { requests } = await gateRequestFor([
      'gate',
      '--version',
      'v3',
      '--failure-rate',
      '0.2',
      '-c',
      'ci.yml',
      '-e',
      'staging',
      '--report-dir',
      'out',
      '--only',
      'service-kill',
      '--experiments',
      'suite',
      '--seed',
      '7',
      '--keep-stack',
    ]);
    expect(requests).toEqual([
      {
        version: 'v3',
        failureRate: 0.2,
        config: 'ci.yml',
        environment: 'staging',
        reportDir: 'out',
        only: ['service-kill'],
        experimentsDir: 'suite',
        seed: 7,
        keepStack: true,
        cwd: process.cwd(),
      },
    ]);
  });
});

describe('bad flags are exit 2 before anything runs', () => {
  it.each([
    [['deploy', 'v2', '-0.1'], 'error: argument: failure-rate: "-0.1" must be a decimal number between 0.0 and 1.0'],
    [
      ['gate', '--version', 'v2', '--version', 'v3'],
      'error: --version: given 2 times (--version "v2", --version "v3"): give it once',
    ],
    [['gate', '--version', 'v2', '--config', ''], 'error: --config: needs a value, got ""'],
  ])('%j', async (argv, line) => {
    const r = await run(argv, refuse);
    expect(r.code).toBe(2);
    expect(r.stderr[0]).toBe(line);
  });
});
