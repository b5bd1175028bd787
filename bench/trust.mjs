// Benchmark of trust on a busy runner (issue 13): the default gate (suite, prediction,
// controls, a four-region canary rollout) run again and again on a candidate identical to the
// baseline while two busy loops saturate both cores. Prints how many gates stayed OPEN (false
// closures are the number to keep at 0), every pause and its reason, the controls' verdicts,
// and the wall time of each gate with its phases.
//
// Environment (optional): BENCH_TRUST_RUNS (default 10), BENCH_TRUST_BUSY_LOOPS (default 2),
// BENCH_GATE_TIMEOUT_SECONDS (default 1200).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';

export const name = 'trust';

/** Busy loops in their own processes: the load a shared runner's neighbours put on the host. */
function busyLoops(n) {
  return Array.from({ length: n }, () =>
    spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore', detached: false }),
  );
}

function gate(root, reports) {
  const timeout = Number(process.env.BENCH_GATE_TIMEOUT_SECONDS ?? 1200) * 1000;
  const started = performance.now();
  let exit = 0;
  try {
    execFileSync(
      process.execPath,
      [join(root, 'bin/chaos-gate.js'), 'gate', '--version', 'v2', '--report-dir', reports, '--keep-stack'],
      { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], timeout },
    );
  } catch (e) {
    if (e.status !== 1) throw new Error(`chaos-gate gate exited ${e.status}: ${String(e.stderr).slice(-2000)}`);
    exit = 1;
  }
  const report = JSON.parse(readFileSync(join(reports, 'report.json'), 'utf8'));
  const timeline = report.rollout?.timeline ?? [];
  const pauses = timeline.filter((t) => t.to === 'PAUSED').map((t) => t.detail ?? t.event);
  return {
    exit,
    gate: report.deployment_gate,
    reasons: report.gate?.reasons ?? [],
    wall_ms: Math.round(performance.now() - started),
    phases: Object.fromEntries((report.environment?.phases ?? []).map((p) => [p.name, p.ms])),
    stages: report.rollout?.stages?.length ?? 0,
    pauses,
    controls: (report.controls ?? []).map((c) => `${c.name}: ${c.verdict}`),
    experiments: (report.scenarios ?? []).map((s) => `${s.name}: ${s.status}`),
    load_average: loadavg()[0],
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? null : s[Math.floor((s.length - 1) / 2)];
};

export async function run({ root, log }) {
  const n = Number(process.env.BENCH_TRUST_RUNS ?? 10);
  const loops = busyLoops(Number(process.env.BENCH_TRUST_BUSY_LOOPS ?? 2));
  const dir = mkdtempSync(join(tmpdir(), 'chaos-gate-bench-trust-'));
  const runs = [];
  try {
    for (let i = 0; i < n; i++) {
      const r = gate(root, join(dir, `run-${i + 1}`));
      runs.push(r);
      log(
        `run ${i + 1}/${n}: ${r.gate} in ${(r.wall_ms / 1000).toFixed(0)} s, ${r.pauses.length} of ${r.stages} ` +
          `stages paused, load ${r.load_average.toFixed(1)}${r.gate === 'OPEN' ? '' : `: ${r.reasons.join('; ')}`}`,
      );
    }
  } finally {
    for (const l of loops) l.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
  const phaseNames = [...new Set(runs.flatMap((r) => Object.keys(r.phases)))];
  return {
    runs: runs.length,
    open: runs.filter((r) => r.gate === 'OPEN').length,
    false_closures: runs.filter((r) => r.gate !== 'OPEN').map((r) => r.reasons),
    stages: runs.reduce((s, r) => s + r.stages, 0),
    paused_stages: runs.reduce((s, r) => s + r.pauses.length, 0),
    pause_reasons: runs.flatMap((r) => r.pauses),
    median_wall_s: (median(runs.map((r) => r.wall_ms)) ?? 0) / 1000,
    median_phase_s: Object.fromEntries(
      phaseNames.map((p) => [p, (median(runs.map((r) => r.phases[p] ?? 0)) ?? 0) / 1000]),
    ),
    controls: runs.map((r) => r.controls),
    experiments: runs.map((r) => r.experiments),
    load_average: runs.map((r) => Number(r.load_average.toFixed(1))),
  };
}
