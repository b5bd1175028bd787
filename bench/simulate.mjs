// Benchmark of the rollout simulation (no Docker, no network): how long one process takes for
// the seeded simulated rollouts (each the real controller on a simulated stack), and how well
// the judgement separates candidates over many seeds. It runs the study of `chaos-gate
// simulate --study` (src/simulate/study.ts: identical, errors and latency mildly and clearly
// worse than the baseline) and times each candidate. Numbers, not pass/fail.
//
// Environment (all optional):
//   BENCH_SIM_SEEDS   seeds per candidate (default 1000)
//
// Node 24 runs the TypeScript sources directly (type stripping), so this imports src/.
import { defaultRolloutPlan } from '../src/config/rollout.ts';
import { toSimulationScenario } from '../src/config/simulation.ts';
import { runStudy } from '../src/simulate/index.ts';

export const name = 'simulation';

function seedCount() {
  const raw = process.env.BENCH_SIM_SEEDS;
  if (raw === undefined || raw === '') return 1000;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0)
    throw new Error(`BENCH_SIM_SEEDS must be a positive whole number, got ${JSON.stringify(raw)}`);
  return n;
}

const round = (x, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

export async function run({ log } = { log: () => {} }) {
  const seeds = seedCount();
  const base = defaultRolloutPlan();
  // As the CLI runs it: no Prometheus in a simulation.
  const plan = { ...base, analysis: { ...base.analysis, sources: ['synthetic'] } };
  const timing = {};
  let wall = performance.now();
  let cpu = process.cpuUsage();
  const study = await runStudy(plan, toSimulationScenario(undefined, 'bench'), seeds, (c) => {
    const seconds = (performance.now() - wall) / 1000;
    const used = process.cpuUsage(cpu);
    timing[c.name] = {
      seconds: round(seconds),
      cpu_seconds: round((used.user + used.system) / 1e6),
      rollouts_per_second: Math.round(seeds / seconds),
    };
    const t = timing[c.name];
    log(
      `${c.name}: rolled back ${c.rolled_back.count} of ${seeds} (${(c.rolled_back.share * 100).toFixed(1)}%), ` +
        `median ${c.canary_requests.p50} canary requests; ${t.seconds} s (${t.cpu_seconds} s CPU), ` +
        `${t.rollouts_per_second} rollouts/s`,
    );
    wall = performance.now();
    cpu = process.cpuUsage();
  });
  const of = (n) => study.candidates.find((c) => c.name === n);
  return {
    seeds,
    plan: 'defaults (4 regions x stages 1/5/25/50/100 %, bake 4 s, min_samples 30, alpha 0.05), synthetic judge',
    // Full healthy rollouts are the expensive case: 20 stages of judged traffic each. The
    // target (issue 13): 1,000 of them in at most 2 s.
    identical_seconds: timing.identical.seconds,
    identical_cpu_seconds: timing.identical.cpu_seconds,
    rollouts_per_second_identical: timing.identical.rollouts_per_second,
    rollouts_per_second_errors_clear: timing.errors_clear.rollouts_per_second,
    identical_wrongly_rolled_back_share: study.false_rollback.share,
    errors_mild_rolled_back_share: of('errors_mild').rolled_back.share,
    errors_clear_rolled_back_share: of('errors_clear').rolled_back.share,
    latency_mild_rolled_back_share: of('latency_mild').rolled_back.share,
    latency_clear_rolled_back_share: of('latency_clear').rolled_back.share,
    timing,
    study,
  };
}
