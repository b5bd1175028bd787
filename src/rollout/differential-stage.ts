import type { DifferentialResult } from '../analysis/differential.ts';
import type { Deployment, RegionTarget, Slot } from '../stack/target.ts';
import type { TrafficGenerator } from '../traffic/generator.ts';
import type { ObservationStore } from '../traffic/store.ts';
import type { RolloutClock } from './clock.ts';
import type { RolloutEvent } from './machine.ts';
import { verifyRegion } from './verify.ts';
import type { WaveContext } from './waves.ts';

// Where chaos on the candidate happens in a rollout: after a region's configured canary stage
// passed (the candidate in the canary slot, the baseline in the region's own), or, in a
// rolling rollout, after the region's bake passed: the candidate then runs in the region's own
// slot, so the baseline is started in the canary slot beside it for the runs and removed
// after. Either way both sides share the region, its dependencies and the host's load.

/** The stage of a region a differential run happens in, with what it drives (chaos/differential.ts). */
export interface DifferentialStageInput {
  region: RegionTarget;
  stage: number;
  baseline: Deployment;
  candidate: Deployment;
  /** The slot the candidate runs in (the baseline runs in the other): canary, or stable in a rolling bake. */
  candidateSlot: Slot;
  traffic: Pick<TrafficGenerator, 'setStreams'>;
  store: ObservationStore;
  clock: RolloutClock;
  signal: AbortSignal;
}

export interface DifferentialHook {
  region: string;
  /** 0-based stage index in that region; 'last': its last canary stage (the plan's may have grown in front). */
  stage: number | 'last';
  /** Runs the configured experiments on both sides; each result is recorded. */
  run(input: DifferentialStageInput): Promise<DifferentialResult[]>;
  record(results: readonly DifferentialResult[]): void;
}

async function runHook(
  ctx: WaveContext,
  hook: DifferentialHook,
  region: RegionTarget,
  stage: number,
  candidateSlot: Slot,
): Promise<RolloutEvent | undefined> {
  const results = await hook.run({
    region,
    stage,
    baseline: ctx.previous(region.name),
    candidate: ctx.candidate,
    candidateSlot,
    traffic: ctx.traffic,
    store: ctx.store,
    clock: ctx.clock,
    signal: ctx.signal,
  });
  hook.record(results);
  const regression = results.find((r) => r.verdict === 'regression');
  return regression
    ? { type: 'ABORT', reason: `resilience regression: ${regression.headline}`, cause: 'resilience' }
    : undefined;
}

/** After a canary stage's analysis passed: the differential runs, and a resilience regression aborts. */
export async function differentialAbort(
  ctx: WaveContext,
  region: RegionTarget,
  stage: number,
): Promise<RolloutEvent | undefined> {
  const hook = ctx.differential;
  const at = hook?.stage === 'last' ? ctx.plan.stages.length - 1 : hook?.stage;
  if (!hook || hook.region !== region.name || at !== stage) return undefined;
  return runHook(ctx, hook, region, stage, 'canary');
}

/**
 * After a rolling bake passed: the baseline beside the candidate in the canary slot, the differential, the baseline
 * gone again. A baseline that does not start is the stack's failure, not the candidate's.
 */
export async function rollingDifferentialAbort(
  ctx: WaveContext,
  region: RegionTarget,
): Promise<RolloutEvent | undefined> {
  const hook = ctx.differential;
  if (!hook || hook.region !== region.name) return undefined;
  const baseline = ctx.previous(region.name);
  ctx.progress.info(`starting ${region.canaryService} on ${baseline.version}: the baseline beside the candidate`);
  ctx.canaryRunning.add(region.name);
  try {
    await ctx.stack.deploy(region, 'canary', baseline);
    const health = await verifyRegion(ctx.stack, region, 'canary', baseline, ctx.plan.health, ctx.clock, ctx.probes);
    if (!health.ok)
      return {
        type: 'ABORT',
        reason: `infrastructure: the baseline beside the candidate did not start: ${health.problem ?? ''}`,
        cause: 'infrastructure',
      };
    return await runHook(ctx, hook, region, 0, 'stable');
  } finally {
    await ctx.stack.removeCanary(region);
    ctx.canaryRunning.delete(region.name);
  }
}
