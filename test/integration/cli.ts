import { execa } from 'execa';
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

export async function cli(args: readonly string[], options: { timeoutMs?: number; env?: Record<string, string>; cwd?: string } = {}): Promise<CliResult> {
  const res = await execa(process.execPath, [`${root}bin/chaos-gate.js`, ...args], {
    cwd: options.cwd ?? root,
    reject: false,
    timeout: options.timeoutMs ?? 600_000,
    env: options.env,
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
    await Promise.all(stack.target.regions.map(async (r) => {
      await stack.removeCanary(r);
      await stack.deploy(r, 'stable', { version: 'v1', failureRate: 0 });
    }));
  } catch (e) {
    // Compose's own words (InfraError.details) are what a failing test must show.
    if (e instanceof InfraError) throw new Error([e.message, ...e.details].join('\n'), { cause: e });
    throw e;
  }
  return stack;
}
