// Benchmark of chaos on the candidate: the demo gated again and again, half the runs with a
// candidate identical to the baseline, half with one that restarts slowly (--regression
// slow-start: 10 s before it listens). Prints how many identical candidates the differential
// judgement let through (false closures are the number to keep at 0), how many slow ones it
// caught, and the wall time the differential runs added to each gate.
//
// Environment (optional): BENCH_DIFFERENTIAL_RUNS (default 3 of each), BENCH_GATE_TIMEOUT_SECONDS (900).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const name = 'differential';

// No suite and no prediction: what is measured is the rollout and its differential run.
const CONFIG =
  'rollout:\n  bake_seconds: 2\n  stages: [{ weight: 10 }, { weight: 100 }]\n  analysis: { stage_deadline_seconds: 20 }\npredict:\n  enabled: false\n';

function gate(root, dir, version, regression) {
  const timeout = Number(process.env.BENCH_GATE_TIMEOUT_SECONDS ?? 900) * 1000;
  const reports = join(dir, `${version}${regression ? '-slow' : ''}`);
  const args = [
    'gate',
    '--version',
    version,
    '--only',
    'none',
    '--config',
    join(dir, 'chaos-gate.yml'),
    '--report-dir',
    reports,
    ...(regression ? ['--regression', 'slow-start'] : []),
  ];
  const started = performance.now();
  try {
    execFileSync(process.execPath, [join(root, 'bin/chaos-gate.js'), ...args], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout,
    });
  } catch (e) {
    if (e.status !== 1) throw new Error(`chaos-gate gate exited ${e.status}: ${String(e.stderr).slice(-2000)}`);
  }
  const report = JSON.parse(readFileSync(join(reports, 'report.json'), 'utf8'));
  const runs = report.rollout?.differential ?? [];
  return {
    gate: report.deployment_gate,
    wall_ms: Math.round(performance.now() - started),
    differential_ms: runs.reduce((sum, d) => sum + d.duration_ms, 0),
    verdicts: runs.map((d) => d.verdict),
    recovery_s: runs.map((d) => [d.candidate.recovery_seconds, d.baseline.recovery_seconds]),
  };
}

export async function run({ root, log }) {
  const n = Number(process.env.BENCH_DIFFERENTIAL_RUNS ?? 3);
  const dir = mkdtempSync(join(tmpdir(), 'chaos-gate-bench-differential-'));
  writeFileSync(join(dir, 'chaos-gate.yml'), CONFIG);
  try {
    const identical = [];
    const slow = [];
    for (let i = 0; i < n; i++) {
      identical.push(gate(root, dir, `v${10 + i}`, false));
      log(`identical ${i + 1}/${n}: ${JSON.stringify(identical.at(-1))}`);
      slow.push(gate(root, dir, `v${20 + i}`, true));
      log(`slow-start ${i + 1}/${n}: ${JSON.stringify(slow.at(-1))}`);
    }
    const count = (list, verdict) => list.filter((r) => r.verdicts.includes(verdict)).length;
    return {
      runs_each: n,
      identical_closed: identical.filter((r) => r.gate === 'CLOSED').length,
      identical_regressions: count(identical, 'regression'),
      identical_could_not_run: count(identical, 'could_not_run'),
      slow_start_caught: count(slow, 'regression'),
      differential_ms: identical.map((r) => r.differential_ms),
      gate_wall_ms: identical.map((r) => r.wall_ms),
      identical,
      slow,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
