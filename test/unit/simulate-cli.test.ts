import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// The `simulate` command as a user runs it, twice in separate processes: the determinism
// the in-process tests check must survive the CLI (argument parsing, config loading, the
// JSON writer). No Docker: simulation never touches the stack.
const root = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);
const simulate = async (...args: string[]) =>
  (await run(process.execPath, ['bin/chaos-gate.js', 'simulate', ...args], { cwd: root, timeout: 60_000 })).stdout;

// Three processes at once on a loaded 2-core machine can outlast the default 5 s: the test
// waits as long as the processes may run.
describe('chaos-gate simulate', { timeout: 60_000 }, () => {
  it('prints byte-identical JSON for the same seed and config, and other JSON for another seed', async () => {
    const args = ['--seed', '42', '--config', 'test/fixtures/bad-canary-sim.yml'];
    const [a, b, other] = await Promise.all([
      simulate(...args),
      simulate(...args),
      simulate('--seed', '43', '--config', 'test/fixtures/bad-canary-sim.yml'),
    ]);
    expect(a.length).toBeGreaterThan(100);
    expect(b).toBe(a);
    expect(other).not.toBe(a);
    const out = JSON.parse(a) as {
      final_state: string;
      rollback_triggered: boolean;
      rollback_reason: string | null;
      stages_completed: number;
    };
    expect(out).toMatchObject({ final_state: 'ROLLED_BACK', rollback_triggered: true });
    expect(out.rollback_reason).toMatch(/error rate/);
  });

  it('completes a canary identical to its baseline', async () => {
    const out = JSON.parse(await simulate('--seed', '7')) as {
      final_state: string;
      rollback_triggered: boolean;
      rollback_reason: string | null;
    };
    expect(out).toMatchObject({ final_state: 'COMPLETED', rollback_triggered: false, rollback_reason: null });
  });
});
