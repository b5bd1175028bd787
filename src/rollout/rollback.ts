import type { Stack } from '../stack/stack.ts';
import type { Deployment, RegionTarget } from '../stack/target.ts';
import type { Progress } from '../util/progress.ts';
import { concurrently, type RolloutClock } from './clock.ts';
import { verifyRegion, type HealthPolicy, type RegionProbes, type Verification } from './verify.ts';
import type { MitigationRecord } from './mitigation.ts';

// Puts every region the rollout touched back on the deployment it had before, and proves
// it. Regions are rolled back in parallel (time to roll back is what users wait on); each
// one's failure is recorded, never swallowed, and the others still proceed.

export interface TouchedRegion {
  region: RegionTarget;
  /** What the region's stable container ran before the rollout. */
  previous: Deployment;
  /** Whether the stable container was replaced (promotion or rolling step). */
  replaced: boolean;
}

export interface RollbackOutcome {
  ok: boolean;
  verifications: Verification[];
  /** Per region, when a data check ran after it was put back. */
  mitigation: MitigationRecord[];
  /** One line per region that could not be put back, naming the state it is left in. */
  problems: string[];
}

export interface RollbackOptions {
  health: HealthPolicy;
  clock: Pick<RolloutClock, 'now' | 'sleep' | 'concurrently'>;
  progress: Progress;
  /** HTTP on the stack by default. */
  probes?: RegionProbes;
  /**
   * Runs once a region is verified on its previous version (the candidate no longer writes
   * there): its data problems fail the rollback like a failed verification would.
   */
  mitigate?: (t: TouchedRegion) => Promise<MitigationRecord>;
}

export async function rollBack(
  stack: Stack,
  touched: readonly TouchedRegion[],
  options: RollbackOptions,
): Promise<RollbackOutcome> {
  const { health, clock, progress, probes, mitigate } = options;
  const results = await concurrently(
    clock,
    touched.map(
      (t) => async (): Promise<{ verification?: Verification; mitigation?: MitigationRecord; problem?: string }> => {
        try {
          progress.info(`rolling back ${t.region.name} to ${t.previous.version}`);
          await stack.removeCanary(t.region);
          if (t.replaced) await stack.deploy(t.region, 'stable', t.previous);
          const verification = await verifyRegion(stack, t.region, 'stable', t.previous, health, clock, probes);
          if (!verification.ok)
            return {
              verification,
              problem: `${t.region.name}: ${verification.problem ?? 'not verified'}${leftIn(verification)}`,
            };
          const mitigation = mitigate ? await mitigate(t) : undefined;
          const problem =
            mitigation && mitigation.problems.length > 0
              ? `${t.region.name}: on ${t.previous.version}, but its data: ${mitigation.problems.join('; ')}`
              : undefined;
          return { verification, ...(mitigation ? { mitigation } : {}), ...(problem ? { problem } : {}) };
        } catch (e) {
          const state = await stack.containers().then(
            (cs) => cs.find((c) => c.service === t.region.service)?.state ?? 'absent',
            () => 'unknown',
          );
          return {
            problem:
              `${t.region.name}: rollback step failed: ${e instanceof Error ? e.message : String(e)}; ` +
              `container ${t.region.service} left ${state}`,
          };
        }
      },
    ),
  );
  const problems = results.flatMap((r) => (r.problem ? [r.problem] : []));
  return {
    ok: problems.length === 0,
    verifications: results.flatMap((r) => (r.verification ? [r.verification] : [])),
    mitigation: results.flatMap((r) => (r.mitigation ? [r.mitigation] : [])),
    problems,
  };
}

/** The state a running container was left in; a container that is not running says so in the problem already. */
function leftIn(v: Verification): string {
  return v.containerState === 'running' ? `; left running, reporting ${v.reportedVersion ?? 'no version'}` : '';
}
