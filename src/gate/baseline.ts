import { setTimeout as sleep } from 'node:timers/promises';
import { summarize, type WindowMetrics } from '../analysis/metrics.ts';
import type { StageLimits } from '../analysis/judge.ts';
import type { Stack } from '../stack/stack.ts';
import { regionUrl } from '../stack/target.ts';
import { TrafficGenerator } from '../traffic/generator.ts';
import { ObservationStore } from '../traffic/store.ts';
import type { Workload } from '../traffic/workload.ts';

// The baseline: every region on its stable version under steady traffic, before any fault.
// A region already failing here would make every later measurement meaningless, so it is
// an infrastructure problem, not a verdict on the candidate. Only failures count: a p99 of
// 100 requests is their slowest one, which a busy CI host stretches past any limit (611 ms
// was seen), and latency is judged against this very baseline later anyway. A slow baseline
// is a note (`slow`), never a reason to stop.

export interface RegionBaseline {
  region: string;
  version: string;
  metrics: WindowMetrics;
  /** Why it is unhealthy; undefined when within the limits. */
  problem?: string;
  /** Its p99 is above the rollout's limit: worth a note, not a failure. */
  slow?: string;
}

/** What is wrong with a region's baseline: no answers or errors (a problem), or a slow p99 (a note). */
export function assessBaseline(metrics: WindowMetrics, limits: StageLimits): { problem?: string; slow?: string } {
  if (metrics.count === 0) return { problem: 'no request was answered' };
  const errorRate = metrics.errorRate ?? 0;
  if (errorRate > limits.maxErrorRate)
    return { problem: `error rate ${(errorRate * 100).toFixed(1)}% above ${limits.maxErrorRate * 100}%` };
  const p99 = metrics.p99Ms ?? 0;
  return p99 > limits.maxP99Ms ? { slow: `p99 ${p99.toFixed(0)} ms above ${limits.maxP99Ms} ms (a busy host?)` } : {};
}

export async function measureBaseline(
  stack: Stack,
  seconds: number,
  rps: number,
  limits: StageLimits,
  random: () => number,
  signal: AbortSignal,
  workload?: Workload,
): Promise<RegionBaseline[]> {
  const status = await stack.status();
  const store = new ObservationStore();
  const traffic = new TrafficGenerator({
    store,
    random,
    maxDurationMs: (seconds + 10) * 1000,
    ...(workload ? { workload } : {}),
  });
  const versions = new Map(status.regions.map((r) => [r.region, r.stable?.reportedVersion ?? '?']));
  traffic.setStreams(
    stack.target.regions.map((r) => ({
      region: r.name,
      cohort: 'baseline',
      version: versions.get(r.name) ?? '?',
      baseUrl: regionUrl(stack.target, r),
      rps,
    })),
  );
  traffic.start();
  try {
    await sleep(seconds * 1000, undefined, { signal });
  } finally {
    await traffic.close();
  }
  return stack.target.regions.map((r) => {
    const metrics = summarize(store.select({ region: r.name }));
    return { region: r.name, version: versions.get(r.name) ?? '?', metrics, ...assessBaseline(metrics, limits) };
  });
}

/** How many times the baseline is measured before a failing region is the stack's problem. */
export const BASELINE_ATTEMPTS = 3;

/**
 * The baseline, measured again while a region fails it: a stack just started on a busy host
 * (a database's first connections, a JIT still cold) may fail its first seconds and then
 * serve. Only what fails every attempt is an infrastructure problem.
 */
export async function settledBaseline(
  measure: () => Promise<RegionBaseline[]>,
  onRetry: (problems: string) => void,
): Promise<{ baseline: RegionBaseline[]; attempts: number }> {
  let baseline = await measure();
  let attempts = 1;
  while (attempts < BASELINE_ATTEMPTS && baseline.some((b) => b.problem)) {
    onRetry(
      baseline
        .filter((b) => b.problem)
        .map((b) => `${b.region}: ${b.problem}`)
        .join('; '),
    );
    baseline = await measure();
    attempts++;
  }
  return { baseline, attempts };
}
