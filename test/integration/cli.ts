import { execa } from 'execa';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ComposeStack } from '../../src/stack/compose-stack.ts';
import { InfraError } from '../../src/stack/errors.ts';
import { defaultStackTarget } from '../../src/stack/target.ts';

// Runs the real CLI as a user would, with this Node (24) and no shell.
export const root = fileURLToPath(new URL('../..', import.meta.url));

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export async function cli(
  args: readonly string[],
  options: { timeoutMs?: number; env?: Record<string, string>; cwd?: string } = {},
): Promise<CliResult> {
  const res = await execa(process.execPath, [`${root}bin/chaos-gate.js`, ...args], {
    cwd: options.cwd ?? root,
    reject: false,
    timeout: options.timeoutMs ?? 600_000,
    env: options.env ?? {},
    stdin: 'ignore',
  });
  return { exitCode: res.exitCode ?? 1, stdout: String(res.stdout), stderr: String(res.stderr) };
}

/** Every integration file starts from a running stack: `up` is idempotent and quick when it is. */
export async function ensureStackUp(): Promise<void> {
  const up = await cli(['up'], { timeoutMs: 900_000 });
  if (up.exitCode !== 0) throw new Error(`chaos-gate up failed (exit ${up.exitCode}):\n${up.stderr}`);
}

/** A known start whatever ran before: the stack up, every region on v1, healthy, no canaries. */
export async function freshStack(): Promise<ComposeStack> {
  await ensureStackUp();
  const stack = await ComposeStack.connect(defaultStackTarget(root));
  try {
    await Promise.all(
      stack.target.regions.map(async (r) => {
        await stack.removeCanary(r);
        await stack.deploy(r, 'stable', { version: 'v1', failureRate: 0 });
      }),
    );
  } catch (e) {
    // Compose's own words (InfraError.details) are what a failing test must show.
    if (e instanceof InfraError) throw new Error([e.message, ...e.details].join('\n'), { cause: e });
    throw e;
  }
  return stack;
}

/** Runs dist/index.js with the environment a GitHub runner gives a JavaScript action, in `workspace`. */
export async function runAction(
  inputs: Record<string, string>,
  options: { workspace?: string; sha?: string; state?: Record<string, string> } = {},
) {
  const { workspace = root, sha = 'abc123', state = {} } = options;
  const dir = mkdtempSync(join(tmpdir(), 'chaos-gate-action-'));
  const files = {
    GITHUB_OUTPUT: join(dir, 'output'),
    GITHUB_STEP_SUMMARY: join(dir, 'summary'),
    GITHUB_STATE: join(dir, 'state'),
  };
  for (const f of Object.values(files)) writeFileSync(f, '');
  const env: Record<string, string> = {
    ...files,
    GITHUB_WORKSPACE: workspace,
    GITHUB_ACTION_PATH: root,
    GITHUB_SHA: sha,
  };
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
  for (const [k, v] of Object.entries(state)) env[`STATE_${k}`] = v;
  const res = await execa(process.execPath, [join(root, 'dist/index.js')], {
    cwd: workspace,
    env,
    reject: false,
    timeout: 900_000,
    stdin: 'ignore',
  });
  const outputs: Record<string, string> = {};
  // GITHUB_OUTPUT uses the heredoc form: name<<DELIM, value, DELIM.
  const text = readFileSync(files.GITHUB_OUTPUT, 'utf8');
  for (const m of text.matchAll(/^(.+?)<<(.+)\n([\s\S]*?)\n\2$/gm)) outputs[m[1] as string] = m[3] as string;
  return {
    exitCode: res.exitCode ?? 1,
    stdout: String(res.stdout),
    outputs,
    summary: readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
    state: readFileSync(files.GITHUB_STATE, 'utf8'),
  };
}

/** The end of the log of every container of the project: what a failing run must show. */
export async function containerLogs(): Promise<string> {
  const ids = (await execa('docker', ['ps', '-aq', '--filter', 'label=com.docker.compose.project=chaos-gate'])).stdout
    .split('\n')
    .filter(Boolean);
  const logs = await Promise.all(
    ids.map(async (id) => {
      const name = (await execa('docker', ['inspect', '-f', '{{.Name}} {{.State.Status}}', id])).stdout;
      const log = await execa('docker', ['logs', '--tail', '15', id], { reject: false, all: true });
      return `--- ${name}\n${String(log.all)}`;
    }),
  );
  return logs.join('\n');
}

/**
 * `gate` in a user's repository, keeping the stack until the result is read (a surprise comes
 * with its containers' logs), then `down`; the report when the gate wrote one.
 */
export async function gateIn<R>(
  repo: string,
  reportDir: string,
  expectedExit: number,
  extra: readonly string[] = [],
): Promise<CliResult & { report: R | undefined }> {
  const res = await cli(['gate', '--report-dir', reportDir, '--keep-stack', ...extra], {
    cwd: repo,
    timeoutMs: 900_000,
  });
  const logs = res.exitCode === expectedExit ? '' : await containerLogs();
  await cli(['down']);
  const report =
    res.exitCode <= 1 ? (JSON.parse(readFileSync(join(repo, reportDir, 'report.json'), 'utf8')) as R) : undefined;
  if (res.exitCode !== expectedExit)
    throw new Error(`gate exited ${res.exitCode}, expected ${expectedExit}\n${res.stdout}\n${res.stderr}\n${logs}`);
  return { ...res, report };
}
