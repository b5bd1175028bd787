import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// The Action's main step with @actions/core, @actions/cache and the gate pipeline replaced
// by spies (as docker/setup-buildx-action tests its main): the real inputs, config loading,
// annotations and history-cache code run.
const inputs = vi.hoisted(() => new Map<string, string>());
vi.mock('@actions/core', () => ({
  // As @actions/core: trimmed unless asked not to.
  getInput: vi.fn((name: string, options?: { trimWhitespace?: boolean }) => {
    const value = inputs.get(name) ?? '';
    return options?.trimWhitespace === false ? value : value.trim();
  }),
  error: vi.fn(),
  warning: vi.fn(),
  info: vi.fn(),
  setFailed: vi.fn(),
  setOutput: vi.fn(),
  saveState: vi.fn(),
  startGroup: vi.fn(),
  endGroup: vi.fn(),
  group: vi.fn(async (_name: string, fn: () => Promise<unknown>) => fn()),
}));
vi.mock('@actions/cache', () => ({
  isFeatureAvailable: vi.fn(() => true),
  restoreCache: vi.fn(async () => undefined),
  saveCache: vi.fn(async () => 1),
}));
vi.mock('../../src/gate/pipeline.ts', () => ({ runGate: vi.fn() }));

const core = await import('@actions/core');
const cache = await import('@actions/cache');
const { runGate } = await import('../../src/gate/pipeline.ts');
const { run } = await import('../../src/action/main.ts');
const { selectSuite } = await import('../../src/gate/suite.ts');
const { selectExperiments } = await import('../../src/config/experiment-files.ts');
const { UsageError } = await import('../../src/util/errors.ts');
type GateOutcome = Awaited<ReturnType<typeof runGate>>;

let workspace: string;
let historyFile: string;

beforeEach(() => {
  vi.clearAllMocks();
  inputs.clear();
  inputs.set('version', 'v2');
  workspace = mkdtempSync(join(tmpdir(), 'cg-action-'));
  historyFile = join(workspace, '.chaos-gate', 'history.jsonl');
  vi.stubEnv('GITHUB_WORKSPACE', workspace);
  vi.stubEnv('GITHUB_RUN_ID', '42');
  vi.stubEnv('GITHUB_RUN_ATTEMPT', '1');
  vi.stubEnv('GITHUB_STEP_SUMMARY', '');
});
afterEach(() => {
  vi.unstubAllEnvs();
});

const writeHistory = () => {
  mkdirSync(join(workspace, '.chaos-gate'), { recursive: true });
  writeFileSync(historyFile, '{}\n');
};
const openGate = {
  report: { deploymentGate: 'OPEN', gate: { status: 'OPEN', reasons: [] }, overall: 'PASS' },
  paths: { json: 'r/report.json', html: 'r/report.html', junit: 'r/junit.xml', summary: 'r/summary.md' },
  exitCode: 0,
} as unknown as GateOutcome;

describe('config errors as annotations', () => {
  it('a bad chaos-gate.yml: an error on its line, the file relative to the workspace, a failed step and nothing run', async () => {
    mkdirSync(join(workspace, 'ci'));
    writeFileSync(
      join(workspace, 'ci', 'chaos-gate.yml'),
      'rollout:\n  bake_seconds: 4\nexperiments:\n  thresholds:\n    service-kill: { max_recovery_time_seconds: -5 }\n',
    );
    inputs.set('config', 'ci/chaos-gate.yml');
    await run();
    expect(core.error).toHaveBeenCalledTimes(1);
    expect(core.error).toHaveBeenCalledWith(
      'experiments.thresholds.service-kill.max_recovery_time_seconds: must be 0 or more',
      {
        title: 'chaos-gate: bad input',
        file: 'ci/chaos-gate.yml',
        startLine: 5,
      },
    );
    expect(core.setFailed).toHaveBeenCalledWith('bad input (1 problem(s)); nothing was run');
    expect(runGate).not.toHaveBeenCalled();
    expect(cache.saveCache).not.toHaveBeenCalled();
  });

  it('a threshold override for an experiment the suite lacks: the line the environment set it on', async () => {
    const text =
      'experiments:\n  thresholds:\n    service-kill: { max_recovery_time_seconds: 20 }\nenvironments:\n  staging:\n    experiments:\n      thresholds:\n        service-kil: { max_recovery_time_seconds: 40 }\n';
    writeFileSync(join(workspace, 'chaos-gate.yml'), text);
    inputs.set('environment', 'staging');
    inputs.set('history-cache', 'false');
    mkdirSync(join(workspace, 'suite'));
    writeFileSync(
      join(workspace, 'suite', 'k.yml'),
      'name: service-kill\ndescription: d\ntarget: us-west\nfault: { kind: kill }\n',
    );
    // What the pipeline does with the config the Action read: select the suite.
    vi.mocked(runGate).mockImplementation(async (request) => {
      if (!request.plan) throw new Error('the Action must hand the gate the config it read');
      selectSuite({ cwd: request.cwd, experimentsDir: 'suite' }, request.plan, workspace, ['us-west']);
      return openGate;
    });
    await run();
    expect(core.error).toHaveBeenCalledWith(
      'environments.staging.experiments.thresholds.service-kil: no experiment named "service-kil" in the suite (service-kill)',
      {
        title: 'chaos-gate: bad input',
        file: 'chaos-gate.yml',
        startLine: 8,
      },
    );
    expect(core.setFailed).toHaveBeenCalledWith('bad input (1 problem(s)); nothing was run');
  });
});

describe('the run history is saved whatever the gate did', () => {
  it('after an error in the gate: the history so far is saved and the step fails for the error', async () => {
    writeHistory();
    vi.mocked(runGate).mockImplementation(async () => {
      throw new Error('boom');
    });
    await run();
    expect(cache.restoreCache).toHaveBeenCalledWith([historyFile], 'chaos-gate-history-42-1', ['chaos-gate-history-']);
    expect(cache.saveCache).toHaveBeenCalledWith([historyFile], 'chaos-gate-history-42-1');
    expect(core.setFailed).toHaveBeenCalledTimes(1);
    expect(vi.mocked(core.setFailed).mock.calls[0]?.[0]).toContain('boom');
  });

  it('after an open gate: outputs set and history saved', async () => {
    writeHistory();
    vi.mocked(runGate).mockResolvedValue(openGate);
    await run();
    expect(core.setOutput).toHaveBeenCalledWith('gate', 'OPEN');
    expect(cache.saveCache).toHaveBeenCalledWith([historyFile], 'chaos-gate-history-42-1');
    expect(core.setFailed).not.toHaveBeenCalled();
  });

  it.each([
    [
      'the cache refuses the entry',
      () => vi.mocked(cache.saveCache).mockRejectedValueOnce(new Error('reserved')),
      'history: saving to the cache failed (reserved)',
    ],
    // The probe throws at the save (it answered at the restore): caught with the save's other failures.
    [
      'the cache client throws',
      () =>
        vi
          .mocked(cache.isFeatureAvailable)
          .mockReturnValueOnce(true)
          .mockImplementationOnce(() => {
            throw new Error('no token');
          }),
      'history: saving to the cache failed (no token)',
    ],
  ])('a failed save (%s) is a warning, never a failed step', async (_what, arrange, warning) => {
    writeHistory();
    vi.mocked(runGate).mockResolvedValue(openGate);
    arrange();
    await run();
    expect(core.warning).toHaveBeenCalledWith(expect.stringContaining(warning));
    expect(core.setFailed).not.toHaveBeenCalled();
    expect(core.info).toHaveBeenCalledWith('deployment gate OPEN');
  });

  it('history-cache false: neither restored nor saved', async () => {
    writeHistory();
    inputs.set('history-cache', 'false');
    vi.mocked(runGate).mockResolvedValue(openGate);
    await run();
    expect(cache.restoreCache).not.toHaveBeenCalled();
    expect(cache.saveCache).not.toHaveBeenCalled();
  });
});

it('removes its signal listeners when done', async () => {
  const before = process.listenerCount('SIGINT');
  vi.mocked(runGate).mockResolvedValue(openGate);
  await run();
  expect(process.listenerCount('SIGINT')).toBe(before);
});

describe('bad input names the input, never a CLI flag, and is never a stack trace (issue 15)', () => {
  /** Every annotation's text and the failed step's message. */
  const reported = () => ({
    errors: vi.mocked(core.error).mock.calls.map(([message, properties]) => ({ message: String(message), properties })),
    failed: vi.mocked(core.setFailed).mock.calls.map(([message]) => String(message)),
  });

  it.each([
    ['config', 'missing.yml', 'input config: "missing.yml": no such file'],
    [
      'environment',
      'prod',
      'input environment: "prod": there is no configuration file with environments ' + '(looked for chaos-gate.yml)',
    ],
  ])('a bad %s input (refused by config loading) names the input', async (name, value, message) => {
    inputs.set(name, value);
    await run();
    expect(reported()).toEqual({
      errors: [{ message, properties: { title: 'chaos-gate: bad input' } }],
      failed: ['bad input (1 problem(s)); nothing was run'],
    });
    expect(runGate).not.toHaveBeenCalled();
  });

  it('an unknown experiment in the experiments input names the input', async () => {
    inputs.set('experiments', 'service-kil');
    inputs.set('history-cache', 'false');
    vi.mocked(runGate).mockImplementation(async (request) => {
      selectExperiments([], { only: request.only ?? [] });
      return openGate;
    });
    await run();
    const messages = reported().errors.map((e) => e.message);
    expect(messages).toEqual(['input experiments: no experiment named "service-kil" (experiments: )']);
  });

  it("an unknown experiment in the config's experiments.only is annotated on its line", async () => {
    const text = ['rollout:', '  bake_seconds: 4', 'experiments:', '  only: [service-kil]', ''].join('\n');
    writeFileSync(join(workspace, 'chaos-gate.yml'), text);
    inputs.set('history-cache', 'false');
    vi.mocked(runGate).mockImplementation(async (request) => {
      const plan = request.plan?.experiments;
      selectExperiments([], {
        only: request.only ?? plan?.only ?? [],
        ...(plan?.onlyOrigin ? { origin: plan.onlyOrigin } : {}),
      });
      return openGate;
    });
    await run();
    expect(reported().errors).toEqual([
      {
        message: 'experiments.only[0]: no experiment named "service-kil" (experiments: )',
        properties: { title: 'chaos-gate: bad input', file: 'chaos-gate.yml', startLine: 4 },
      },
    ]);
  });

  it('experiments "," is refused before anything runs (it skipped the whole suite)', async () => {
    inputs.set('experiments', ',');
    await run();
    const messages = reported().errors.map((e) => e.message);
    expect(messages).toEqual([expect.stringMatching(/^input experiments: "," must be experiment names separated/)]);
    expect(runGate).not.toHaveBeenCalled();
  });

  it('an input of only whitespace is refused (core.getInput would have trimmed it to "left out")', async () => {
    inputs.set('report-dir', '   ');
    await run();
    const messages = reported().errors.map((e) => e.message);
    expect(messages).toEqual([expect.stringMatching(/^input report-dir: is only whitespace/)]);
    expect(runGate).not.toHaveBeenCalled();
  });

  it('a UsageError from deep in the gate: annotations and a failed step, no stack trace', async () => {
    inputs.set('history-cache', 'false');
    const rule = '"2" must be a decimal number between 0.0 and 1.0';
    vi.mocked(runGate).mockRejectedValue(new UsageError([{ source: '--failure-rate', path: '', rule }]));
    await run();
    const { errors, failed } = reported();
    expect(errors.map((e) => e.message)).toEqual([`input failure-rate: ${rule}`]);
    expect(failed).toEqual(['bad input (1 problem(s)); nothing was run']);
    for (const text of [...errors.map((e) => e.message), ...failed]) expect(text).not.toMatch(/\n\s+at /);
  });

  it('the pipeline receives every input by name', async () => {
    const given = { 'failure-rate': '0.2', experiments: 'none', 'report-dir': 'out', seed: '7' };
    inputs.set('history-cache', 'false');
    for (const [name, value] of Object.entries(given)) inputs.set(name, value);
    vi.mocked(runGate).mockResolvedValue(openGate);
    await run();
    expect(vi.mocked(runGate).mock.calls[0]?.[0]).toEqual({
      version: 'v2',
      failureRate: 0.2,
      reportDir: 'out',
      only: [],
      seed: 7,
      keepStack: false,
      cwd: workspace,
      plan: expect.objectContaining({ file: undefined }),
    });
  });
});
