import {
  judgeDifferential,
  type DifferentialResult,
  type DifferentialTolerance,
  type SideFacts,
} from '../analysis/differential.ts';
import { isError, type Cohort, type Observation } from '../analysis/observation.ts';
import { servingAgain, servingAgainAfterCrash } from '../analysis/recovery.ts';
import type { ContainerControl } from '../stack/docker-control.ts';
import type { ContainerFacts } from '../stack/inspect.ts';
import type { Stack } from '../stack/stack.ts';
import {
  dependencyService,
  innerUrl,
  regionUrl,
  serviceOf,
  type Deployment,
  type RegionTarget,
  type Slot,
} from '../stack/target.ts';
import type { ArmedWarden, Wardens } from '../stack/warden.ts';
import type { TrafficStream } from '../traffic/generator.ts';
import type { ObservationStore } from '../traffic/store.ts';
import type { Workload } from '../traffic/workload.ts';
import type { Progress } from '../util/progress.ts';
import { faultParams, faultSeconds, type Experiment, type Fault } from './experiment.ts';
import { injectionFor } from './injectors/index.ts';
import { dependencyFaultText } from './injectors/proxy.ts';
import { proxyUrl } from '../stack/fault-proxy.ts';
import type { Injection, TargetContainer } from './injectors/injector.ts';
import { readBackWrites } from './readback.ts';
import { armWarden } from './runner.ts';

// One differential run inside a canary stage: both sides of the region get the same load,
// the same fault hits the stable and the canary container at once, is lifted, both recover,
// and analysis/differential.ts judges the candidate against the baseline. The fault is lifted
// in a finally block, guarded by a warden; a fault that could not be injected is "could not
// run", never a verdict on the candidate.

/** What the rollout hands over: the region in its canary stage and its running traffic. */
export interface DifferentialStage {
  region: RegionTarget;
  stage: number;
  baseline: Deployment;
  candidate: Deployment;
  /** The candidate's slot, the baseline in the other: canary in a canary stage, stable in a rolling bake. */
  candidateSlot?: Slot;
  traffic: { setStreams(streams: readonly TrafficStream[]): void };
  store: ObservationStore;
  clock: { now(): number; sleep(ms: number, signal?: AbortSignal): Promise<void> };
  signal: AbortSignal;
}

export interface DifferentialEnv {
  stack: Stack;
  control: ContainerControl;
  progress: Progress;
  token: string;
  wardens?: Wardens;
  /** Requests per second to each side. */
  rps: number;
  tolerance: DifferentialTolerance;
  workload?: Workload;
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const SLOTS: readonly Slot[] = ['stable', 'canary'];
const candidateSlotOf = (stage: Pick<DifferentialStage, 'candidateSlot'>): Slot => stage.candidateSlot ?? 'canary';
const cohortOf = (stage: Pick<DifferentialStage, 'candidateSlot'>, slot: Slot): Cohort =>
  slot === candidateSlotOf(stage) ? 'canary' : 'baseline';
/** The slot of each side, baseline first. */
const sidesOf = (stage: Pick<DifferentialStage, 'candidateSlot'>): [Slot, Slot] =>
  candidateSlotOf(stage) === 'canary' ? ['stable', 'canary'] : ['canary', 'stable'];
/** Injector targets are keyed by name: the canary's is the region's with this suffix. */
const targetKey = (region: string, slot: Slot): string => (slot === 'stable' ? region : `${region}/canary`);

export function describeFault(fault: Fault): string {
  switch (fault.kind) {
    case 'kill':
      return 'a crash (SIGKILL of the main process)';
    case 'latency':
      return `latency ${fault.delayMs} ms for ${fault.durationSeconds} s`;
    case 'dependency':
      return `${dependencyFaultText(fault)} for ${fault.durationSeconds} s`;
    case 'failure_rate':
      return `${Math.round(fault.rate * 100)}% injected errors for ${fault.durationSeconds} s`;
    case 'db_unavailable':
      return `the database unavailable for ${fault.durationSeconds} s`;
    case 'memory':
      return fault.method === 'cgroup'
        ? `a memory limit of its own memory + ${fault.mb} MiB for ${fault.durationSeconds} s`
        : `${fault.mb} MiB allocated for ${fault.durationSeconds} s`;
    case 'cpu':
      return fault.method === 'cgroup'
        ? `a CPU quota of ${fault.cpus} of a core for ${fault.durationSeconds} s`
        : `a busy CPU for ${fault.durationSeconds} s`;
    default:
      return `${fault.kind} for ${fault.durationSeconds} s`;
  }
}

function containerOf(all: readonly ContainerFacts[], region: RegionTarget, slot: Slot): ContainerFacts {
  const service = serviceOf(region, slot);
  const c = all.find((x) => x.service === service);
  if (!c || c.state !== 'running' || c.pid <= 1)
    throw new Error(`${service} is not running (${c?.state ?? 'no container'})`);
  return c;
}

function injection(
  experiment: Experiment,
  stage: DifferentialStage,
  env: DifferentialEnv,
  before: readonly ContainerFacts[],
): Injection {
  const { region } = stage;
  const targets: TargetContainer[] = SLOTS.map((slot) => ({
    region: targetKey(region.name, slot),
    baseUrl: regionUrl(env.stack.target, region, slot),
    innerUrl: innerUrl(env.stack.target, region, slot),
    container: containerOf(before, region, slot),
  }));
  const byKey = async (key: string) => {
    const service = serviceOf(region, key.endsWith('/canary') ? 'canary' : 'stable');
    return (await env.stack.containers()).find((c) => c.service === service);
  };
  const dependency = async (name: string) => {
    const d = env.stack.target.service?.dependencies.find((x) => x.name === name);
    return d ? (await env.stack.containers()).find((c) => c.service === dependencyService(d, region.name)) : undefined;
  };
  const proxyOf = () => proxyUrl(env.stack.target, region);
  return injectionFor(experiment.fault, {
    control: env.control,
    token: env.token,
    targets,
    facts: byKey,
    dependency,
    proxyUrl: proxyOf,
  });
}

interface Times {
  injectAt: number;
  revertAt: number;
  deadline: number;
  end: number;
}

/** Until both sides served again, or the deadline. */
async function bothServing(stage: DifferentialStage, from: number, deadline: number, crashed: boolean): Promise<void> {
  const served = (cohort: Cohort) => {
    const obs = stage.store.select({ region: stage.region.name, cohort, from });
    // After a kill, wait for the crash to show before reading recovery from the traffic.
    if (crashed) return obs.some(isError) && servingAgainAfterCrash(obs, from, deadline) !== null;
    return servingAgain(obs, from, deadline) !== null;
  };
  while (stage.clock.now() <= deadline && !(served('baseline') && served('canary')))
    await stage.clock.sleep(100, stage.signal);
}

/** Load on, before window, fault on both sides, lifted, recovery, after window; the times it happened. */
async function drive(
  experiment: Experiment,
  stage: DifferentialStage,
  env: DifferentialEnv,
  inj: Injection,
  notes: string[],
): Promise<{ times: Times; method: string }> {
  const { fault, windows } = experiment;
  const { clock, signal } = stage;
  await clock.sleep(windows.beforeSeconds * 1000, signal);
  const injectAt = clock.now();
  const outcome = await inj.inject();
  notes.push(...outcome.notes);
  env.progress.info(
    `differential ${experiment.name}: ${describeFault(fault)} on both sides of ${stage.region.name} ` +
      `(${outcome.method})`,
  );
  const deadlineMs = windows.recoveryDeadlineSeconds * 1000;
  if (fault.kind !== 'kill') {
    await clock.sleep(faultSeconds(fault) * 1000, signal);
    await inj.revert();
  }
  const revertAt = clock.now();
  const from = fault.kind === 'kill' ? injectAt : revertAt;
  await bothServing(stage, from, from + deadlineMs, fault.kind === 'kill');
  await clock.sleep(windows.afterSeconds * 1000, signal);
  return { times: { injectAt, revertAt, deadline: from + deadlineMs, end: clock.now() }, method: outcome.method };
}

async function sideFacts(
  experiment: Experiment,
  stage: DifferentialStage,
  env: DifferentialEnv,
  slot: Slot,
  t: Times & { start: number },
  restarts: number | null,
): Promise<SideFacts> {
  const cohort = cohortOf(stage, slot);
  const all = stage.store.select({ region: stage.region.name, cohort, from: t.start, to: t.end });
  const during = all.filter((o) => o.at >= t.injectAt);
  const crashed = experiment.fault.kind === 'kill';
  const from = crashed ? t.injectAt : t.revertAt;
  const back = crashed ? servingAgainAfterCrash(during, from, t.deadline) : servingAgain(during, from, t.deadline);
  const writes = stage.store
    .acknowledgedWrites(stage.region.name)
    .filter((w) => w.cohort === cohort && w.at >= t.start && w.at < t.end);
  const url = regionUrl(env.stack.target, stage.region, slot);
  const read = await readBackWrites(writes, () => url, env.workload ? { workload: env.workload } : {});
  // The outage itself is judged by recovery; errors and latency on the rest (analysis/differential.ts).
  return {
    before: all.filter((o: Observation) => o.at < t.injectAt),
    during,
    held: during.filter((o) => o.at < t.revertAt),
    after: back === null ? [] : during.filter((o) => o.at >= back),
    recoverySeconds: back === null ? null : Math.max(0, back - from) / 1000,
    writesAcknowledged: read.checked,
    writesLost: read.missing,
    restarts,
  };
}

/** The traffic of both sides of the stage's region: the baseline's to stable, the candidate's to the canary. */
function streamsOf(stage: DifferentialStage, env: DifferentialEnv): TrafficStream[] {
  const { region } = stage;
  return SLOTS.map((slot) => ({
    region: region.name,
    cohort: cohortOf(stage, slot),
    version: (cohortOf(stage, slot) === 'baseline' ? stage.baseline : stage.candidate).version,
    baseUrl: regionUrl(env.stack.target, region, slot),
    rps: env.rps,
  }));
}

/** What injecting and driving the fault left behind; `driven` is undefined when it could not run. */
interface Attempt {
  inj: Injection | undefined;
  before: ContainerFacts[];
  driven: { times: Times; method: string } | undefined;
  error: string | undefined;
}

/** Injects the fault under both sides' traffic and drives it; lifts it and disarms the warden whatever happens. */
async function attempt(
  experiment: Experiment,
  stage: DifferentialStage,
  env: DifferentialEnv,
  notes: string[],
): Promise<Attempt> {
  let inj: Injection | undefined;
  let warden: ArmedWarden | undefined;
  let error: string | undefined;
  let driven: { times: Times; method: string } | undefined;
  let before: ContainerFacts[] = [];
  stage.traffic.setStreams(streamsOf(stage, env));
  try {
    before = await env.stack.containers();
    inj = injection(experiment, stage, env, before);
    warden = await armWarden(experiment, [stage.region.name], inj, env);
    driven = await drive(experiment, stage, env, inj, notes);
  } catch (e) {
    error = stage.signal.aborted ? message(stage.signal.reason) : message(e);
  } finally {
    stage.traffic.setStreams([]);
    if (inj) await inj.revert().catch((e: unknown) => notes.push(`the fault could not be lifted: ${message(e)}`));
    if (warden) await warden.disarm().catch((e: unknown) => notes.push(`warden not removed: ${message(e)}`));
  }
  return { inj, before, driven, error };
}

/** How often a slot's container restarted between two listings; null when it is missing from either. */
function restartCounter(
  region: RegionTarget,
  before: readonly ContainerFacts[],
  after: readonly ContainerFacts[],
): (slot: Slot) => number | null {
  return (slot) => {
    const was = before.find((c) => c.service === serviceOf(region, slot));
    const now = was && after.find((c) => c.id === was.id);
    return was && now ? Math.max(0, now.restartCount - was.restartCount) : null;
  };
}

/** Runs one experiment on both sides of the stage's region; never throws for the experiment's own failures. */
export async function runDifferential(
  experiment: Experiment,
  stage: DifferentialStage,
  env: DifferentialEnv,
): Promise<DifferentialResult> {
  const { region, clock } = stage;
  const start = clock.now();
  const notes: string[] = [];
  const { inj, before, driven, error } = await attempt(experiment, stage, env, notes);
  stage.signal.throwIfAborted();
  const result = {
    experiment: experiment.name,
    region: region.name,
    stage: stage.stage,
    startedAt: new Date(start).toISOString(),
    notes,
  };
  const fault = {
    kind: experiment.fault.kind,
    params: faultParams(experiment.fault),
    method: driven?.method ?? 'not injected',
    description: describeFault(experiment.fault),
  };
  if (!driven) {
    const headline = `under ${fault.description}: could not run: ${error ?? 'unknown'}`;
    return {
      ...result,
      fault,
      durationMs: clock.now() - start,
      verdict: 'could_not_run',
      headline,
      reasons: [error ?? 'unknown'],
      candidate: emptySide(),
      baseline: emptySide(),
    };
  }
  const after = await env.stack.containers().catch(() => [] as ContainerFacts[]);
  const restartsOf = restartCounter(region, before, after);
  const t = { ...driven.times, start };
  const [baseline, candidate] = await Promise.all(
    sidesOf(stage).map((slot) => sideFacts(experiment, stage, env, slot, t, restartsOf(slot))),
  );
  const j = judgeDifferential(
    fault.description,
    candidate as SideFacts,
    baseline as SideFacts,
    env.tolerance,
    inj?.evidence?.(),
  );
  return {
    ...result,
    fault,
    durationMs: clock.now() - start,
    verdict: j.verdict,
    headline: j.headline,
    reasons: j.reasons,
    candidate: j.candidate,
    baseline: j.baseline,
  };
}

function emptySide(): DifferentialResult['candidate'] {
  return {
    requests: 0,
    errors: 0,
    errorRate: null,
    p50Ms: null,
    p99Ms: null,
    recoverySeconds: null,
    writesAcknowledged: 0,
    writesLost: 0,
    restarts: null,
    effect: null,
  };
}
