// Benchmark of the prediction's per-analysis work (no Docker, no network). During a live
// rollout every analysis compares the canary with its predicted ranges (predict/tiers.ts),
// on the event loop that also times the synthetic traffic: whatever this costs delays the
// responses being timed. Prints the cost of one comparison at live window sizes.
//
// Node 24 runs the TypeScript sources directly (type stripping), so this imports src/.
import { Z99 } from '../src/predict/latency.ts';
import { rangesAt } from '../src/predict/model.ts';

export const name = 'prediction';

// A stage model as a pre-flight of 80 requests at 2 ms / p99 9 ms leaves it.
const MODEL = {
  alpha: 0.5,
  beta: 80.5,
  latency: { mu: Math.log(2), sigma: Math.log(9 / 2) / Z99, m: 80, method: 'mle' },
  seed: 7,
  samples: 2000,
};

export async function run({ log }) {
  const out = {};
  for (const n of [100, 500, 2000, 10_000]) {
    const calls = 200;
    const started = performance.now();
    for (let i = 0; i < calls; i++) rangesAt(MODEL, n + i, n + i);
    const ms = (performance.now() - started) / calls;
    out[`ranges_at_${n}_requests_ms`] = Math.round(ms * 1000) / 1000;
    log(`ranges for a window of ${n} requests: ${ms.toFixed(3)} ms per analysis (2000 Monte Carlo samples)`);
  }
  return out;
}
