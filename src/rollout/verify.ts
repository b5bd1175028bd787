import type { Stack } from '../stack/stack.ts';
import { probeHealth, probeInfo } from '../stack/probe.ts';
import { regionUrl, serviceOf, type Deployment, type RegionTarget, type Slot } from '../stack/target.ts';
import type { Clock } from '../util/poll.ts';

// Verifies that a region's container runs what it should: the container is running, the
// service reports the expected version, and /health passes N times in a row within a
// deadline. Used after a promotion, a rolling replacement and every rollback. The probes and
// the clock come in, so tests verify against an in-memory stack on virtual time.

export interface HealthPolicy {
  consecutiveSuccesses: number;
  deadlineSeconds: number;
  intervalMs?: number;
}

/** How a region's version and health are read: over HTTP on the stack, or in memory in tests. */
export interface RegionProbes {
  version(baseUrl: string, path: string): Promise<string | undefined>;
  health(baseUrl: string, path: string): Promise<boolean>;
}

export const httpProbes: RegionProbes = {
  version: async (baseUrl, path) => (await probeInfo(baseUrl, path, 2000))?.version,
  health: (baseUrl, path) => probeHealth(baseUrl, path, 2000),
};

export interface Verification {
  region: string;
  slot: Slot;
  ok: boolean;
  expectedVersion: string;
  reportedVersion: string | undefined;
  containerState: string;
  healthChecks: number;
  /** Why it failed, for a person. */
  problem?: string;
}

export async function verifyRegion(
  stack: Stack,
  region: RegionTarget,
  slot: Slot,
  expected: Deployment,
  policy: HealthPolicy,
  clock: Clock,
  probes: RegionProbes = httpProbes,
): Promise<Verification> {
  const url = regionUrl(stack.target, region, slot);
  const service = serviceOf(region, slot);
  const container = (await stack.containers()).find((c) => c.service === service);
  const base = {
    region: region.name,
    slot,
    expectedVersion: expected.version,
    containerState: container?.state ?? 'absent',
  };
  if (container?.state !== 'running') {
    return {
      ...base,
      ok: false,
      reportedVersion: undefined,
      healthChecks: 0,
      problem: `container ${service} is ${container?.state ?? 'absent'}`,
    };
  }
  const end = clock.now() + policy.deadlineSeconds * 1000;
  let reported: string | undefined;
  let streak = 0;
  let checks = 0;
  while (clock.now() < end) {
    reported = (await probes.version(url, stack.target.versionPath)) ?? reported;
    if (reported === expected.version) {
      checks++;
      streak = (await probes.health(url, stack.target.healthPath)) ? streak + 1 : 0;
      if (streak >= policy.consecutiveSuccesses)
        return { ...base, ok: true, reportedVersion: reported, healthChecks: checks };
    }
    await clock.sleep(policy.intervalMs ?? 250);
  }
  const problem =
    reported !== expected.version
      ? `reports version ${reported ?? '(no answer)'} instead of ${expected.version}`
      : `/health did not pass ${policy.consecutiveSuccesses} times in a row ` +
        `within ${policy.deadlineSeconds} s (${checks} checks)`;
  return { ...base, ok: false, reportedVersion: reported, healthChecks: checks, problem };
}
