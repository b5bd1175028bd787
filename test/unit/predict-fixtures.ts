import type { CohortMeasurement, PreflightMeasurement } from '../../src/predict/preflight.ts';
import { nearestRank } from '../../src/analysis/metrics.ts';
import { createRandom, lognormal } from '../../src/util/random.ts';

// Pre-flight measurements for the prediction tests: exact error counts (so the expected
// Beta-Binomial numbers can be computed by hand or with scipy) and seeded lognormal latencies.

export interface CohortSpec {
  errors: number;
  count: number;
  medianMs?: number;
  p99Ms?: number;
  version?: string;
  /** Leave out the raw latencies (summary-only fit). */
  summaryOnly?: boolean;
}

export function cohort(spec: CohortSpec, seed: number): CohortMeasurement {
  const { errors, count, medianMs = 20, p99Ms = 80 } = spec;
  const draw = lognormal(createRandom(seed), medianMs, p99Ms);
  const latencies = Array.from({ length: count - errors }, () => draw()).sort((a, b) => a - b);
  const q = (p: number) =>
    latencies.length === 0 ? null : (latencies[nearestRank(p, latencies.length) - 1] as number);
  const base = {
    version: spec.version ?? 'v2',
    count,
    errors,
    errorRate: count === 0 ? null : errors / count,
    p50Ms: q(0.5),
    p95Ms: q(0.95),
    p99Ms: q(0.99),
  };
  return spec.summaryOnly ? base : { ...base, latenciesMs: latencies };
}

export interface ProfileSpec {
  profile: string;
  rps: number;
  canary: CohortSpec;
  baseline?: CohortSpec;
  region?: string;
}

export function measurement(spec: ProfileSpec, seed: number): PreflightMeasurement {
  const baseline = spec.baseline ?? { errors: Math.round(spec.canary.count * 0.01), count: spec.canary.count };
  return {
    region: spec.region ?? 'us-west',
    profile: spec.profile,
    rps: spec.rps,
    writeShare: 0.3,
    durationMs: 10_000,
    canary: cohort(spec.canary, seed),
    baseline: cohort({ ...baseline, version: 'v1' }, seed + 1000),
  };
}

/**
 * The default three profiles (10, 40, 80 rps for 10 s: 100, 400, 800 requests per cohort),
 * the candidate failing at `rate` (errors rounded per profile), the stable version at 1%.
 */
export function preflightAt(
  rate: number,
  options: { medianMs?: number; p99Ms?: number; seed?: number } = {},
): PreflightMeasurement[] {
  const seed = options.seed ?? 1;
  return (
    [
      ['low', 10],
      ['nominal', 40],
      ['peak', 80],
    ] as const
  ).map(([profile, rps], i) => {
    const count = rps * 10;
    return measurement(
      {
        profile,
        rps,
        canary: {
          errors: Math.round(count * rate),
          count,
          medianMs: options.medianMs ?? 20,
          p99Ms: options.p99Ms ?? 80,
        },
        baseline: { errors: Math.round(count * 0.01), count },
      },
      seed + i,
    );
  });
}
