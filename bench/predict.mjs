// Benchmark of the prediction's per-analysis work (no Docker, no network). During a live
// rollout every analysis compares the canary with its predicted ranges (predict/tiers.ts),
// on the event loop that also times the synthetic traffic: whatever this costs delays the
// responses being timed. Prints the cost of one comparison at live window sizes, calibrated
// by the baseline beside the canary (a second Monte Carlo, for the baseline's own p99 range),
// and the calibration study: how often an identical and a 2x slower candidate come out above
// their ranges when host load multiplies both cohorts' latencies by 1 to 4 per stage.
//
// Node 24 runs the TypeScript sources directly (type stripping), so this imports src/ (and the
// study's seeded simulation from test/unit/, which the unit test shares).
import { Z99 } from '../src/predict/latency.ts';
import { rangesAt } from '../src/predict/model.ts';
import { compareStage } from '../src/predict/tiers.ts';
import { calibrationStudy } from '../test/unit/calibration-study.ts';

export const name = 'prediction';

// A stage model as a pre-flight of 80 requests at 2 ms / p99 9 ms leaves it.
const MODEL = {
  alpha: 0.5,
  beta: 80.5,
  latency: { mu: Math.log(2), sigma: Math.log(9 / 2) / Z99, m: 80, method: 'mle' },
  seed: 7,
  samples: 2000,
  baseline: { errorRate: 0.01, latency: { mu: Math.log(2), sigma: Math.log(9 / 2) / Z99, m: 80, method: 'mle' } },
};

const window = (n, scale) => ({
  count: n,
  errors: 0,
  errorRate: 0,
  p50Ms: 2 * scale,
  p95Ms: 6 * scale,
  p99Ms: 9 * scale,
});
const PREDICTION = { stage: 0, weight: 5, breach: { errorRate: 0, p99: 0 }, model: MODEL };

function study(log) {
  const out = {};
  const cases = [
    [60, 100, 0],
    [80, 80, 0],
    [500, 500, 0],
    [60, 100, 0.2],
    [500, 500, 0.2],
  ];
  for (const [canaryRequests, baselineRequests, tailStretch] of cases) {
    const at = { canaryRequests, baselineRequests, tailStretch, seeds: 200 };
    const same = calibrationStudy({ ...at, slower: 1 });
    const slow = calibrationStudy({ ...at, slower: 2 });
    const key = `n${canaryRequests}_b${baselineRequests}${tailStretch ? `_tail${tailStretch}` : ''}`;
    out[`${key}_identical_above`] = same.above;
    out[`${key}_identical_above_uncalibrated`] = same.aboveUncalibrated;
    out[`${key}_2x_slower_above`] = slow.above;
    out[`${key}_2x_slower_above_uncalibrated`] = slow.aboveUncalibrated;
    log(
      `study, ${canaryRequests} canary / ${baselineRequests} baseline requests` +
        `${tailStretch ? `, sigma +${tailStretch * 100}% per unit of load` : ''} (${same.stages} stages): ` +
        `identical above ${pct(same.above)} (uncalibrated ${pct(same.aboveUncalibrated)}), ` +
        `2x slower above ${pct(slow.above)} (uncalibrated ${pct(slow.aboveUncalibrated)})`,
    );
  }
  return out;
}

const pct = (x) => `${(x * 100).toFixed(1)}%`;

export async function run({ log }) {
  const out = {};
  for (const n of [100, 500, 2000, 10_000]) {
    const calls = 200;
    const started = performance.now();
    for (let i = 0; i < calls; i++) rangesAt(MODEL, n + i, n + i);
    const ms = (performance.now() - started) / calls;
    out[`ranges_at_${n}_requests_ms`] = Math.round(ms * 1000) / 1000;
    log(`ranges for a window of ${n} requests: ${ms.toFixed(3)} ms per analysis (2000 Monte Carlo samples)`);
    const started2 = performance.now();
    for (let i = 0; i < calls; i++) compareStage(window(n + i, 3), PREDICTION, window(n + i, 3));
    const calibrated = (performance.now() - started2) / calls;
    out[`calibrated_comparison_${n}_requests_ms`] = Math.round(calibrated * 1000) / 1000;
    log(`calibrated comparison at ${n} requests: ${calibrated.toFixed(3)} ms per analysis`);
  }
  return { ...out, ...study(log) };
}
