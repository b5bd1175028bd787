import { readBackWrites } from '../chaos/readback.ts';
import type { PrometheusPlan } from '../prometheus/config.ts';
import type { ControlsPlan } from '../config/gate.ts';
import type { LoadedConfig } from '../config/load.ts';
import type { PhaseTimer } from '../util/phases.ts';
import { runRollout, type RolloutDeps } from '../rollout/controller.ts';
import type { RolloutPlan } from '../plan/rollout.ts';
import type { RegionProbes } from '../rollout/verify.ts';
import type { ContainerControl } from '../stack/docker-control.ts';
import type { Stack } from '../stack/stack.ts';
import { regionUrl, type Deployment, type RegionTarget } from '../stack/target.ts';
import { TrafficGenerator } from '../traffic/generator.ts';
import { ObservationStore } from '../traffic/store.ts';
import type { Workload } from '../traffic/workload.ts';
import type { Progress } from '../util/progress.ts';
import { slowCanary, type LatencySabotage } from './control-latency.ts';
import {
  judgeControl,
  latencyControlDelayMs,
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
// acknowledged readable. known-bad-latency: the baseline as a canary slowed by the latency
// fault (control-latency.ts) must be rolled back. The verdicts are control-verdict.ts's.

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
  /** The fault endpoint's token; '' for the user's own service. */
  token: string;
}

const CONTROLS = ['known-good', 'known-bad', 'known-bad-latency'] as const;

const latencyDelay = (plan: RolloutPlan): number => latencyControlDelayMs(plan.stages[0]?.limits.maxP99Ms ?? 500);

function announce(name: ControlOutcome['name'], plan: RolloutPlan): string {
  switch (name) {
    case 'known-good':
      return 'as its own canary';
    case 'known-bad':
      return 'as a canary cut off from its network';
    default:
      return `as a canary slowed by ${latencyDelay(plan)} ms`;
  }
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
  for (const name of CONTROLS) {
    env.progress.step(`control ${name} in ${setup.region}: the baseline ${announce(name, env.plan)}`);
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

/** The faults one control puts on its rollout, and the evidence each left. */
class ControlFaults {
  sabotage: FaultEvidence | undefined;
  fire: FaultEvidence | undefined;
  private slowed: LatencySabotage | undefined;
  private readonly restartsBefore = new Map<string, number>();
  /** A control whose fault this host cannot make stops at once rather than bake a canary that proves nothing. */
  readonly stop = new AbortController();

  private readonly name: ControlOutcome['name'];
  private readonly env: ControlsEnv;
  private readonly plan: RolloutPlan;
  private readonly underFire: boolean;

  constructor(name: ControlOutcome['name'], env: ControlsEnv, plan: RolloutPlan, underFire: boolean) {
    this.name = name;
    this.env = env;
    this.plan = plan;
    this.underFire = underFire;
  }

  hooks(): Pick<RolloutDeps, 'afterCanaryDeploy' | 'duringRollback'> {
    const { env, plan } = this;
    if (this.name === 'known-bad-latency')
      return {
        afterCanaryDeploy: async (r) => {
          this.slowed = await slowCanary(env, r, latencyDelay(plan), controlSeconds(plan));
          this.sabotage = this.slowed.evidence;
          if (!this.sabotage.tookEffect) this.stop.abort(new Error(this.sabotage.detail));
        },
      };
    if (this.name !== 'known-bad') return {};
    const afterCanaryDeploy = async (r: RegionTarget) => {
      this.sabotage = await cutOff(env, r);
    };
    if (!this.underFire) return { afterCanaryDeploy };
    return {
      afterCanaryDeploy,
      duringRollback: async (rs) => {
        this.fire = await crashStable(env, rs, this.restartsBefore);
        return async () => {};
      },
    };
  }

  /** Once the rollout is over: the latency fault lifted and measured, the crash's restart read back. */
  async settle(store: ObservationStore, region: RegionTarget): Promise<void> {
    if (this.slowed) {
      await this.slowed.lift();
      if (this.sabotage?.tookEffect) this.sabotage = this.slowed.measured(store);
    }
    if (this.fire?.tookEffect)
      this.fire = await restarted(this.env, region, this.fire, this.restartsBefore.get(region.service) ?? 0);
  }
}

async function runControl(
  name: ControlOutcome['name'],
  setup: Pick<ControlsPlan, 'rollbackUnderFire'> & { region: string },
  env: ControlsEnv,
): Promise<ControlOutcome> {
  const region = env.stack.target.regions.find((r) => r.name === setup.region) as RegionTarget;
  const store = new ObservationStore();
  const workload = env.workload ? { workload: env.workload } : {};
  const traffic = new TrafficGenerator({ store, random: env.random, maxDurationMs: 10 * 60_000, ...workload });
  const plan = controlPlan(env.plan, region.name);
  const faults = new ControlFaults(name, env, plan, setup.rollbackUnderFire);
  const result = await runRollout(
    {
      version: env.baseline.version,
      failureRate: env.baseline.failureRate,
      plan,
      prometheus: env.prometheus,
      ...(env.baseline.image ? { image: env.baseline.image } : {}),
    },
    {
      stack: env.stack,
      progress: env.progress,
      signal: AbortSignal.any([env.signal, faults.stop.signal]),
      random: env.random,
      store,
      traffic,
      dataAdmin: null,
      ...(env.probes ? { probes: env.probes } : {}),
      ...workload,
      ...faults.hooks(),
    },
  );
  await faults.settle(store, region);
  const writes =
    name === 'known-bad' && result.finalState === 'ROLLED_BACK'
      ? await readBackWrites(
          store.acknowledgedWrites(region.name).filter((w) => w.cohort === 'baseline'),
          () => regionUrl(env.stack.target, region),
          workload,
        )
      : undefined;
  const { sabotage, fire } = faults;
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

/** The latency fault outlasts the control's one stage at its worst: its deadline, and the canary's deploy before it. */
const controlSeconds = (plan: RolloutPlan): number => plan.analysis.stageDeadlineSeconds + plan.health.deadlineSeconds;

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
