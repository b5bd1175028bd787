import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dispatch, main } from '../../src/cli/main.ts';

// `chaos-gate plan` through the real CLI: the pre-flight printed, and a plan that could never
// reach a verdict exit 2 with its numbers still on stdout.

const dir = mkdtempSync(join(tmpdir(), 'cg-plan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (t) => void out.push(t), err: (l) => void err.push(l), dispatch });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('chaos-gate plan', () => {
  it('prints a table per stage and the worst cases, exit 0', async () => {
    const r = await run(['plan', '--config', file('ok.yml', 'rollout:\n  regions: [us-west, us-east]\n')]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/^1% +15 \/ 39\.6 +2 s \/ 0\.758 s +60 \/ 158 +4 s +30 s +180 \(12 s\)/m);
    expect(r.out).toMatch(/^100% +40 \/ 15 +0\.75 s \/ 2 s +160 \/ 60 +4 s +30 s/m);
    expect(r.out).toContain('per region (us-west, us-east): promote at worst 3 min, roll back at worst 30 s');
    expect(r.out).toContain('every region promoted at worst 6 min; with rollbacks at worst 6 min 30 s');
  });

  it('--json: snake_case keys, the same numbers', async () => {
    const r = await run(['plan', '--json', '-c', file('json.yml', 'rollout:\n  strategy: rolling\n')]);
    expect(r.code, r.err).toBe(0);
    const json = JSON.parse(r.out) as Record<string, unknown> & { stages: Record<string, unknown>[] };
    expect(json).toMatchObject({ strategy: 'rolling', traffic_rps: 40, promote_all_seconds: 4 * 94, issues: [] });
    expect(json.stages[0]).toMatchObject({ pass_seconds: 4, worst_seconds: 30, seconds_to_needs: { canary: 0.75 } });
  });

  it('a plan that could never reach a verdict: exit 2, the issue on stderr, the numbers still on stdout', async () => {
    const starved = file('starved.yml', 'rollout:\n  traffic_rps: 1\n');
    const r = await run(['plan', '--config', starved]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`error: ${starved}:2: rollout.traffic_rps: no stage could be judged`);
    expect(r.out).toMatch(/^1% +1 \/ 1 +30 s \/ 30 s .* never +30 s .*NEVER JUDGED/m);
    const json = JSON.parse((await run(['plan', '--json', '-c', starved])).out) as { issues: { path: string }[] };
    expect(json.issues.map((i) => i.path)).toEqual(['rollout.traffic_rps']);
  });

  it('other problems too: every issue, as any command reports them, and no numbers', async () => {
    const r = await run(['plan', '-c', file('both.yml', 'rollout:\n  traffic_rps: 1\n  bake_secs: 2\n')]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain('rollout.bake_secs');
  });
});
