import { readBackWrites } from '../chaos/readback.ts';
import type { PrometheusPlan } from '../prometheus/config.ts';
import type { ControlsPlan } from '../config/gate.ts';
import type { LoadedConfig } from '../config/load.ts';
import type { PhaseTimer } from '../util/phases.ts';
import { runRollout } from '../rollout/controller.ts';
import type { RolloutPlan } from '../plan/rollout.ts';
import type { RegionProbes } from '../rollout/verify.ts';
import type { ContainerControl } from '../stack/docker-control.ts';
import type { Stack } from '../stack/stack.ts';
import { regionUrl, type Deployment, type RegionTarget } from '../stack/target.ts';
import { TrafficGenerator } from '../traffic/generator.ts';
import { ObservationStore } from '../traffic/store.ts';
import type { Workload } from '../traffic/workload.ts';
import type { Progress } from '../util/progress.ts';
import {
  judgeControl,
  type ControlOutcome,
  type ControlResult,
  type FaultEvidence,
} from '../rollout/control-verdict.ts';

// Controls: before the candidate, the gate proves its checks on releases whose fate is known,
// through the first canary stage of one region with the rollout's own plan and checks.
// known-good: the baseline as its own canary must be promoted. known-bad: the baseline as a
// canary cut off from its network (docker network disconnect, from outside) must be rolled
// back, and its rollback meets a crash of the region's stable container (SIGKILL, as the
// kill experiment): the region must still end verified on the baseline with every write it
// acknowledged readable. The verdicts are control-verdict.ts's.

export interface ControlsEnv {
  stack: Stack;
  control: ContainerControl;
  progress: Progress;
  signal: AbortSignal;
  random: () => number;
  plan: RolloutPlan;
  prometheus: PrometheusPlan;
  /** What the region runs now: the controls' canary. */
  baseline: Deployment;
  probes?: RegionProbes;
  workload?: Workload;
}

/** The rollout a control runs: one region, the plan's first canary stage, everything put back on failure. */
export function controlPlan(plan: RolloutPlan, region: string): RolloutPlan {
  const first = plan.stages[0];
  return { ...plan, regions: [region], strategy: 'canary', stages: first ? [first] : [], rollback: 'all' };
}

export async function runControls(
  setup: Pick<ControlsPlan, 'rollbackUnderFire'> & { region: string },
  env: ControlsEnv,
): Promise<ControlResult[]> {
  const results: ControlResult[] = [];
  for (const name of ['known-good', 'known-bad'] as const) {
    env.progress.step(
      `control ${name} in ${setup.region}: the baseline ` +
        (name === 'known-good' ? 'as its own canary' : 'as a canary cut off from its network'),
    );
    const result = judgeControl(await runControl(name, setup, env));
    (result.verdict === 'pass' ? env.progress.info : env.progress.warn).call(
      env.progress,
      `control ${name}: ${result.verdict.toUpperCase()}: ${result.reason}`,
    );
    results.push(result);
    env.signal.throwIfAborted();
  }
  return results;
}

async function runControl(
  name: ControlOutcome['name'],
  setup: Pick<ControlsPlan, 'rollbackUnderFire'> & { region: string },
  env: ControlsEnv,
): Promise<ControlOutcome> {
  const region = env.stack.target.regions.find((r) => r.name === setup.region) as RegionTarget;
  const store = new ObservationStore();
  const traffic = new TrafficGenerator({
    store,
    random: env.random,
    maxDurationMs: 10 * 60_000,
    ...(env.workload ? { workload: env.workload } : {}),
  });
  let sabotage: FaultEvidence | undefined;
  let fire: FaultEvidence | undefined;
  const restartsBefore = new Map<string, number>();
  const bad = name === 'known-bad';
  const result = await runRollout(
    {
      version: env.baseline.version,
      failureRate: env.baseline.failureRate,
      plan: controlPlan(env.plan, region.name),
      prometheus: env.prometheus,
      ...(env.baseline.image ? { image: env.baseline.image } : {}),
    },
    {
      stack: env.stack,
      progress: env.progress,
      signal: env.signal,
      random: env.random,
      store,
      traffic,
      dataAdmin: null,
      ...(env.probes ? { probes: env.probes } : {}),
      ...(env.workload ? { workload: env.workload } : {}),
      ...(bad
        ? {
            afterCanaryDeploy: async (r: RegionTarget) => {
              sabotage = await cutOff(env, r);
            },
          }
        : {}),
      ...(bad && setup.rollbackUnderFire
        ? {
            duringRollback: async (rs: readonly RegionTarget[]) => {
              fire = await crashStable(env, rs, restartsBefore);
              return async () => {};
            },
          }
        : {}),
    },
  );
  if (fire?.tookEffect) fire = await restarted(env, region, fire, restartsBefore.get(region.service) ?? 0);
  const writes =
    bad && result.finalState === 'ROLLED_BACK'
      ? await readBackWrites(
          store.acknowledgedWrites(region.name).filter((w) => w.cohort === 'baseline'),
          () => regionUrl(env.stack.target, region),
          env.workload ? { workload: env.workload } : {},
        )
      : undefined;
  return {
    name,
    region: region.name,
    version: env.baseline.version,
    finalState: result.finalState,
    rollbackReason: result.rollback.reason,
    abortCause: result.rollback.decisions?.[0]?.cause ?? null,
    rollbackProblems: result.rollback.problems,
    durationMs: result.durationMs,
    timeToDetectMs: result.timeToDetectMs,
    timeToRollbackMs: result.timeToRollbackMs,
    ...(sabotage ? { sabotage } : {}),
    ...(fire ? { fire } : {}),
    ...(writes ? { writes } : {}),
  };
}

/**
 * The canary off every network: its published port answers nothing. The container's networks, read back, are the
 * evidence.
 */
async function cutOff(env: ControlsEnv, region: RegionTarget): Promise<FaultEvidence> {
  const method = 'docker-network-disconnect';
  const canary = (await env.stack.containers()).find((c) => c.service === region.canaryService);
  if (!canary) return { method, tookEffect: false, detail: `${region.canaryService} has no container` };
  let left: string[];
  try {
    for (const network of Object.keys(await env.control.networks(canary.id)))
      await env.control.disconnect(canary.id, network);
    left = Object.keys(await env.control.networks(canary.id));
  } catch (e) {
    return {
      method,
      tookEffect: false,
      detail: `${region.canaryService} could not be cut off: ${e instanceof Error ? e.message : String(e)}`,
    };
  }
  return {
    method,
    tookEffect: left.length === 0,
    detail:
      left.length === 0
        ? `${region.canaryService} on no network`
        : `${region.canaryService} still on ${left.join(', ')}`,
  };
}

/**
 * SIGKILL of each region's stable container as its rollback begins; the restart count, read back once it is over, is
 * the evidence.
 */
async function crashStable(
  env: ControlsEnv,
  regions: readonly RegionTarget[],
  restartsBefore: Map<string, number>,
): Promise<FaultEvidence> {
  const method = 'host-kill-9';
  // Stopping the run is no time to crash what it puts back.
  if (env.signal.aborted)
    return { method, tookEffect: false, detail: 'the run was interrupted: no crash during its rollback' };
  const crashed: string[] = [];
  try {
    const containers = await env.stack.containers();
    for (const r of regions) {
      const stable = containers.find((c) => c.service === r.service && c.state === 'running');
      if (!stable) continue;
      restartsBefore.set(r.service, stable.restartCount);
      await env.control.crash(stable.pid);
      crashed.push(r.service);
    }
  } catch (e) {
    return {
      method,
      tookEffect: false,
      detail: `the crash could not be made: ${e instanceof Error ? e.message : String(e)}`,
    };
  }
  const detail =
    crashed.length > 0
      ? `${crashed.join(', ')} crashed (SIGKILL) as the rollback began`
      : 'no running stable container to crash';
  return { method, tookEffect: crashed.length > 0, detail };
}

/** The crash took effect when the restart policy had to bring the container back. */
async function restarted(
  env: ControlsEnv,
  region: RegionTarget,
  fire: FaultEvidence,
  before: number,
): Promise<FaultEvidence> {
  const now = (await env.stack.containers()).find((c) => c.service === region.service);
  if (now && now.restartCount > before)
    return {
      ...fire,
      detail: `${fire.detail} (restarted by its policy: restart count ${before} -> ${now.restartCount})`,
    };
  return {
    ...fire,
    tookEffect: false,
    detail:
      `${fire.detail}, but it was never restarted ` +
      `(restart count ${before} -> ${now?.restartCount ?? 'gone'}): the crash did not take effect`,
  };
}

/** The gate's controls phase: its results, or null (with a note) when they are off. */
export async function gateControls(
  config: Pick<LoadedConfig, 'gate' | 'rollout'>,
  env: Omit<ControlsEnv, 'baseline'>,
  timer: PhaseTimer,
  notes: string[],
): Promise<ControlResult[] | null> {
  const plan = config.gate.controls;
  if (!plan.enabled) {
    notes.push(
      'no controls: gate.controls.enabled is false, ' +
        'so nothing in this run shows that its checks would catch a bad release',
    );
    return null;
  }
  const region = env.stack.target.regions.find((r) => r.name === (plan.region ?? config.rollout.regions[0]));
  if (!region) return null;
  const running = (await env.stack.status()).regions.find((r) => r.region === region.name)?.stable?.deployment;
  const baseline = env.stack.target.service?.initial ??
    running ?? { version: env.stack.target.initialVersion, failureRate: 0 };
  return timer.time('controls', () =>
    runControls({ region: region.name, rollbackUnderFire: plan.rollbackUnderFire }, { ...env, baseline }),
  );
}
