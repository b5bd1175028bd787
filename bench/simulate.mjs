// Benchmark of the rollout simulation (no Docker, no network): how long one process takes for
// the seeded simulated rollouts (each the real controller on a simulated stack), and how well
// the judgement separates candidates over many seeds: the share of clearly bad canaries rolled
// back, the share of identical versions wrongly rolled back, and the requests each needed.
// Numbers, not pass/fail.
//
// Environment (all optional):
//   BENCH_SIM_SEEDS   seeds per scenario (default 1000)
//
// Node 24 runs the TypeScript sources directly (type stripping), so this imports src/.
import { defaultRolloutPlan } from '../src/config/rollout.ts';
import { toSimulationScenario } from '../src/config/simulation.ts';
import { simulate } from '../src/simulate/index.ts';

export const name = 'simulation';

// Against the default baseline (1% errors, p50 20 ms, p99 80 ms) and the default plan.
const SCENARIOS = {
  identical: {},
  clearly_bad_errors: { canary: { error_rate: 0.2 } },
  slower_2x: { canary: { latency: { median_ms: 40, p99_ms: 160 } } },
  borderline_errors_4pct: { canary: { error_rate: 0.04 } },
};

function seedCount() {
  const raw = process.env.BENCH_SIM_SEEDS;
  if (raw === undefined || raw === '') return 1000;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0)
    throw new Error(`BENCH_SIM_SEEDS must be a positive whole number, got ${JSON.stringify(raw)}`);
  return n;
}

const median = (xs) => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const mean = (xs) => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length);
const round = (x, digits = 1) => (x === null ? null : Math.round(x * 10 ** digits) / 10 ** digits);

async function runScenario(plan, scenario, seeds) {
  const results = [];
  const started = performance.now();
  const cpu = process.cpuUsage();
  for (let seed = 1; seed <= seeds; seed++) results.push(await simulate(plan, scenario, seed));
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const rolledBack = results.filter((r) => r.rollback_triggered);
  const requests = results.map((r) => r.requests_used);
  const detect = rolledBack.map((r) => r.time_to_detect_ms).filter((t) => t !== null);
  const reasons = {};
  for (const r of rolledBack) {
    const kind = /^red verdict/.test(r.rollback_reason)
      ? 'red'
      : /^pause budget/.test(r.rollback_reason)
        ? 'pause_budget'
        : /^stage deadline/.test(r.rollback_reason)
          ? 'stage_deadline'
          : 'other';
    reasons[kind] = (reasons[kind] ?? 0) + 1;
  }
  return {
    seeds,
    seconds: round(seconds, 2),
    cpu_seconds: round((used.user + used.system) / 1e6, 2),
    rollouts_per_second: round(seeds / seconds, 0),
    rolled_back_share: round(rolledBack.length / seeds, 4),
    completed_share: round(results.filter((r) => r.final_state === 'COMPLETED').length / seeds, 4),
    rollback_reasons: reasons,
    requests_mean: round(mean(requests)),
    requests_median: median(requests),
    canary_requests_median: median(results.map((r) => r.canary_requests)),
    time_to_detect_ms_median: median(detect),
    virtual_duration_ms_median: median(results.map((r) => r.duration_ms)),
  };
}

export async function run({ log } = { log: () => {} }) {
  const seeds = seedCount();
  const plan = defaultRolloutPlan();
  const scenarios = {};
  for (const [key, config] of Object.entries(SCENARIOS)) {
    const s = await runScenario(plan, toSimulationScenario(config, `bench ${key}`), seeds);
    scenarios[key] = s;
    log(
      `${key}: rolled back ${(s.rolled_back_share * 100).toFixed(1)}% of ${seeds} seeds, ` +
        `${seeds} rollouts in ${s.seconds} s (${s.cpu_seconds} s CPU), ${s.rollouts_per_second} rollouts/s`,
    );
  }
  const identical = scenarios.identical;
  const bad = scenarios.clearly_bad_errors;
  return {
    seeds,
    plan: 'defaults (4 regions x stages 1/5/25/50/100 %, bake 4 s, min_samples 30, alpha 0.05)',
    // Full healthy rollouts are the expensive case: 20 stages of judged traffic each. The
    // target (issue 13): 1,000 of them in at most 2 s.
    identical_seconds: identical.seconds,
    identical_cpu_seconds: identical.cpu_seconds,
    rollouts_per_second_identical: identical.rollouts_per_second,
    rollouts_per_second_bad: bad.rollouts_per_second,
    bad_rolled_back_share: bad.rolled_back_share,
    identical_wrongly_rolled_back_share: identical.rolled_back_share,
    bad_requests_mean: bad.requests_mean,
    bad_requests_median: bad.requests_median,
    identical_requests_mean: identical.requests_mean,
    identical_requests_median: identical.requests_median,
    scenarios,
  };
}
