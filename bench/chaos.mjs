// Benchmark of the chaos suite on the live stack: runs the default experiments once through
// the CLI (which brings the stack up if needed) and reports, per experiment, what a change
// to the service or the engine would move: recovery and detection times, p99 before and
// during the fault, errors during it, writes lost, and how long the experiment took.
// Numbers, not pass/fail (the status is there to read the numbers in context).
//
// Environment (all optional):
//   BENCH_CHAOS_SEED   seed of the run (default 1), so random targets repeat
//   BENCH_CHAOS_ONLY   comma-separated experiment names (default: the whole suite)
//
// All traffic goes to loopback; the suite's loops are bounded by each experiment's windows.
import { execFile } from 'node:child_process';
import { join } from 'node:path';

export const name = 'chaos';

const round = (x, digits = 3) => (x === null || x === undefined ? null : Math.round(x * 10 ** digits) / 10 ** digits);

function runCli(root, args) {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(root, 'bin/chaos-gate.js'), ...args],
      { cwd: root, timeout: 600_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

export async function run({ root, log }) {
  const seed = process.env.BENCH_CHAOS_SEED || '1';
  const args = [
    'chaos',
    '--json',
    '--seed',
    seed,
    ...(process.env.BENCH_CHAOS_ONLY ? ['--only', process.env.BENCH_CHAOS_ONLY] : []),
  ];
  log(`chaos-gate ${args.join(' ')}`);
  const res = await runCli(root, args);
  if (!res.stdout.trim())
    throw new Error(
      `chaos-gate chaos exited ${res.code} without a report: ${res.stderr.trim().split('\n').slice(-3).join(' | ')}`,
    );
  const report = JSON.parse(res.stdout);
  const experiments = {};
  for (const e of report.experiments) {
    const window = (w) => e.windows.find((x) => x.window === w) ?? {};
    const measured = Object.fromEntries(e.measurements.map((m) => [m.name, m.value]));
    experiments[e.name] = {
      status: e.status,
      target: e.targets.join(','),
      method: e.fault.method,
      duration_s: round(e.duration_ms / 1000, 1),
      recovery_s: e.recovery_time_seconds,
      p99_before_ms: round(window('before').p99_ms, 1),
      p99_during_ms: round(window('during').p99_ms, 1),
      error_rate_during: round(window('during').error_rate, 4),
      writes_lost: e.acknowledged_writes_lost,
      ...('time_to_detection_seconds' in measured ? { detection_s: measured.time_to_detection_seconds } : {}),
      ...('time_to_health_flag_seconds' in measured ? { health_flag_s: measured.time_to_health_flag_seconds } : {}),
      ...('time_to_judgement_flag_seconds' in measured
        ? { judgement_flag_s: measured.time_to_judgement_flag_seconds }
        : {}),
      ...('throughput_degradation_percent' in measured
        ? { throughput_drop_pct: measured.throughput_degradation_percent }
        : {}),
      // The evidence that the fault bit (memory-spike, cpu-spike): what the service's own
      // /metrics and Docker showed on its target during the fault.
      ...(e.fault_effect
        ? {
            fault_effect: e.fault_effect.targets.map((t) => ({
              region: t.region,
              took_effect: t.took_effect,
              restarts: t.restarts,
              oom_killed: t.oom_killed,
              memory_mib: [t.memory_before_mb, t.memory_peak_mb],
              cpu_percent: [t.cpu_before_percent, t.cpu_during_percent],
            })),
          }
        : {}),
    };
  }
  return {
    exit_code: res.code,
    seed: report.seed,
    status: report.status,
    suite_s: round(report.duration_ms / 1000, 1),
    experiments,
  };
}
