import { setTimeout as sleep } from 'node:timers/promises';
import { summarize, type WindowMetrics } from '../analysis/metrics.ts';
import type { StageLimits } from '../analysis/judge.ts';
import type { Stack } from '../stack/stack.ts';
import { regionUrl } from '../stack/target.ts';
import { TrafficGenerator } from '../traffic/generator.ts';
import { ObservationStore } from '../traffic/store.ts';

// The baseline: every region on its stable version under steady traffic, before any fault.
// A region already failing here would make every later measurement meaningless, so it is
// an infrastructure problem, not a verdict on the candidate.

export interface RegionBaseline {
  region: string;
  version: string;
  metrics: WindowMetrics;
  /** Why it is unhealthy; undefined when within the limits. */
  problem?: string;
}

export async function measureBaseline(stack: Stack, seconds: number, rps: number, limits: StageLimits, random: () => number, signal: AbortSignal): Promise<RegionBaseline[]> {
  const status = await stack.status();
  const store = new ObservationStore();
  const traffic = new TrafficGenerator({ store, random, maxDurationMs: (seconds + 10) * 1000 });
  const versions = new Map(status.regions.map((r) => [r.region, r.stable?.reportedVersion ?? '?']));
  traffic.setStreams(stack.target.regions.map((r) => ({ region: r.name, cohort: 'baseline', version: versions.get(r.name) ?? '?', baseUrl: regionUrl(stack.target, r), rps })));
  traffic.start();
  try {
    await sleep(seconds * 1000, undefined, { signal });
  } finally {
    await traffic.close();
  }
  return stack.target.regions.map((r) => {
    const metrics = summarize(store.select({ region: r.name }));
    const problem = metrics.count === 0
      ? 'no request was answered'
      : (metrics.errorRate ?? 0) > limits.maxErrorRate
        ? `error rate ${((metrics.errorRate ?? 0) * 100).toFixed(1)}% above ${limits.maxErrorRate * 100}%`
        : (metrics.p99Ms ?? 0) > limits.maxP99Ms ? `p99 ${metrics.p99Ms} ms above ${limits.maxP99Ms} ms` : undefined;
    return { region: r.name, version: versions.get(r.name) ?? '?', metrics, ...(problem ? { problem } : {}) };
  });
}
