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

  it('--study prints the same study twice (but for the time taken), as JSON and as a table', async () => {
    const args = ['--study', '--seeds', '10'];
    const [a, b, text] = await Promise.all([
      simulate(...args, '--json'),
      simulate(...args, '--json'),
      simulate(...args),
    ]);
    const withoutTime = (json: string) => {
      const { elapsed_seconds: elapsed, ...rest } = JSON.parse(json) as { elapsed_seconds: number };
      expect(elapsed).toBeGreaterThan(0);
      return rest;
    };
    const study = withoutTime(a) as { seeds: number; candidates: { name: string; rolled_back: { count: number } }[] };
    expect(withoutTime(b)).toEqual(study);
    expect(study.seeds).toBe(10);
    expect(study.candidates.map((c) => c.name)).toEqual([
      'identical',
      'errors_mild',
      'errors_clear',
      'latency_mild',
      'latency_clear',
    ]);
    expect(study.candidates.find((c) => c.name === 'errors_clear')?.rolled_back.count).toBe(10);
    expect(text).toMatch(/^candidate +errors, p50 \/ p99 +rolled back +95% interval/m);
    expect(text).toMatch(/^errors_clear +11%, 20 ms \/ 80 ms +10 \(100%\) +72\.3%-100%/m);
    expect(text).toMatch(/^50 rollouts in \d+\.\d s\.$/m);
  });

  it('--study refuses a study over its budget with exit 2, naming --seeds', async () => {
    const failed = await run(process.execPath, ['bin/chaos-gate.js', 'simulate', '--study', '--seeds', '99999'], {
      cwd: root,
      timeout: 60_000,
    }).catch((e: unknown) => e as { code: number; stderr: string });
    expect(failed).toMatchObject({ code: 2 });
    expect((failed as { stderr: string }).stderr).toContain('error: --seeds: 99,999 seeds x 5 candidates');
  });
});
