import { execa } from 'execa';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { freshStack, root } from './cli.ts';

// The Action's TypeScript entry run by GitHub's own local-action (issue 16): it stubs
// @actions/core and @actions/cache as the runner's toolkit would behave, reads the inputs
// from a dotenv file and records the outputs the action set in its "Action Outputs" table.
const localAction = join(root, 'node_modules/@github/local-action/bin/local-action.js');

interface LocalRun {
  stdout: string;
  outputs: Record<string, string>;
  summaryFile: string;
  cacheDir: string;
  workspace: string;
}

/** The rows of the "Action Outputs" table (console.table: index, 'name', 'value'). */
function recordedOutputs(stdout: string): Record<string, string> {
  const table = stdout.slice(stdout.lastIndexOf('Action Outputs'));
  const rows = table.matchAll(/^│\s*\d+\s*│\s*'([^']+)'\s*│\s*'([^']*)'\s*│$/gm);
  return Object.fromEntries([...rows].map((m) => [m[1] as string, m[2] as string]));
}

/** The runner's variables are left out, so only the dotenv file speaks for the runner. */
function childEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^(GITHUB_|INPUT_|STATE_|RUNNER_|ACTIONS_)/.test(k)) env[k] = v;
  }
  // npm exec and tsx inside local-action must find this Node (24), not the machine's.
  env.PATH = `${join(root, 'node_modules/.bin')}:${env.PATH ?? ''}`;
  return { ...env, FORCE_COLOR: '0', NO_COLOR: '1' };
}

/**
 * The fast fixture on one region, rolled (no canary stages): the Action's plumbing is under
 * test here, the rollout itself in rollout.test.ts. About 45 s of gate instead of 100.
 */
function workspaceConfig(): string {
  const config = parse(readFileSync(join(root, 'test/fixtures/fast-rollout.yml'), 'utf8')) as { rollout: object };
  return stringify({ ...config, rollout: { ...config.rollout, regions: ['us-west'], strategy: 'rolling' } });
}

/** A workspace like a user's repository: the config in it, the action's own files at `root`. */
async function runLocalAction(inputs: Record<string, string>): Promise<LocalRun> {
  const dir = mkdtempSync(join(tmpdir(), 'chaos-gate-local-action-'));
  const workspace = join(dir, 'workspace');
  const cacheDir = join(dir, 'cache');
  mkdirSync(workspace);
  mkdirSync(cacheDir);
  writeFileSync(join(workspace, 'chaos-gate.yml'), workspaceConfig());
  const summaryFile = join(dir, 'step-summary.md');
  const vars: Record<string, string> = {
    GITHUB_WORKSPACE: workspace,
    GITHUB_ACTION_PATH: root,
    GITHUB_STEP_SUMMARY: summaryFile,
    // local-action's @actions/cache keeps entries in a folder instead of the cache service.
    LOCAL_ACTION_WORKSPACE: workspace,
    LOCAL_ACTION_CACHE_PATH: cacheDir,
  };
  // Input names keep their hyphens, as the runner writes them (INPUT_KEEP-STACK).
  for (const [name, value] of Object.entries(inputs)) vars[`INPUT_${name.toUpperCase()}`] = value;
  const dotenv = join(dir, 'action.env');
  writeFileSync(
    dotenv,
    Object.entries(vars)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(''),
  );
  const res = await execa(process.execPath, [localAction, 'run', root, 'src/action/main.ts', dotenv], {
    cwd: root,
    env: childEnv(),
    extendEnv: false,
    reject: false,
    timeout: 240_000,
    stdin: 'ignore',
    all: true,
  });
  const stdout = String(res.all);
  if (res.exitCode !== 0) throw new Error(`local-action exited ${res.exitCode}:\n${stdout}`);
  return { stdout, outputs: recordedOutputs(stdout), summaryFile, cacheDir, workspace };
}

beforeAll(async () => {
  await freshStack();
});

describe("the Action run by GitHub's local-action", () => {
  it('opens the gate for v2 and records every output, the step summary and the saved history', async () => {
    const run = await runLocalAction({ version: 'v2', experiments: 'none', 'keep-stack': 'true', seed: '3' });
    // local-action exits 0 even after setFailed: a failed step shows as an error line.
    expect(run.stdout, run.stdout).not.toMatch(/^::error/m);
    const { outputs } = run;
    const declared = parse(readFileSync(join(root, 'action.yml'), 'utf8')) as { outputs: Record<string, unknown> };
    expect(Object.keys(outputs).sort(), run.stdout).toEqual(Object.keys(declared.outputs).sort());
    expect(outputs.gate).toBe('OPEN');
    expect(outputs.overall).toBe('PASS');
    for (const name of ['report-json', 'report-html', 'junit'] as const) {
      expect(outputs[name], name).toMatch(new RegExp(`^${run.workspace}/reports/`));
      expect(existsSync(outputs[name] as string), name).toBe(true);
    }
    expect(outputs['risk-score']).toMatch(/^\d+(\.\d+)?$/);
    expect(Number(outputs['risk-score'])).toBeGreaterThanOrEqual(0);
    expect(Number(outputs['risk-score'])).toBeLessThanOrEqual(100);
    expect(['proceed', 'small-tiers', 'close']).toContain(outputs['prediction-action']);
    // The step summary is the report's summary.md, written through core.summary.
    const summary = readFileSync(run.summaryFile, 'utf8');
    expect(summary).toContain('OPEN');
    expect(summary.trim()).toBe(readFileSync(join(run.workspace, 'reports/summary.md'), 'utf8').trim());
    // The run history went to local-action's stand-in for the Actions cache.
    expect(readdirSync(run.cacheDir)).toEqual([expect.stringMatching(/^chaos-gate-history-local-1-\w+\.cache$/)]);
  });
});
