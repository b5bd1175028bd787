import { cli } from './cli.ts';

// One live stack for the whole integration run: leftovers of an earlier run are removed
// first, and the stack is removed at the end whatever the tests did.
export async function setup(): Promise<() => Promise<void>> {
  const down = await cli(['down']);
  if (down.exitCode !== 0) throw new Error(`chaos-gate down failed before the run:\n${down.stderr}`);
  const up = await cli(['up'], { timeoutMs: 900_000 });
  if (up.exitCode !== 0) throw new Error(`chaos-gate up failed (exit ${up.exitCode}):\n${up.stdout}\n${up.stderr}`);
  return async () => {
    if (process.env.CHAOS_GATE_KEEP_STACK === '1') return;
    await cli(['down']);
  };
}
