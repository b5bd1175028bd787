import { setTimeout as sleep } from 'node:timers/promises';
import type { ContainerControl } from '../stack/docker-control.ts';
import type { ContainerFacts } from '../stack/inspect.ts';
import type { Stack } from '../stack/stack.ts';
import { innerUrl, LABELS, regionUrl, type RegionTarget } from '../stack/target.ts';
import type { ArmedWarden, Wardens } from '../stack/warden.ts';
import type { TrafficStream } from '../traffic/generator.ts';
import type { Progress } from '../util/progress.ts';
import { buildResult } from './build.ts';
import { recoveredAt } from './detect.ts';
import { faultSeconds, type Experiment, type FaultKind } from './experiment.ts';
import { repairStack, stackProblems } from './health.ts';
import { injectionFor } from './injectors/index.ts';
import { proxyUrl } from '../stack/fault-proxy.ts';
import {
  REVERT_DEADLINE_MS,
  SELF_LIFT_GRACE_SECONDS,
  type Injection,
  type TargetContainer,
} from './injectors/injector.ts';
import type { JudgementConfig } from './measure.ts';
import { readBackWrites } from './readback.ts';
import type { ReadBack, Recording } from './recording.ts';
import type { ExperimentResult } from './result.ts';
import { Session } from './session.ts';
import { resolveTargets } from './targets.ts';

// One experiment against the live stack: load on -> before window -> inject -> hold the fault
// (a kill: until the target is back) -> lift it -> wait for recovery (repair if it never
// comes) -> after window -> read back every acknowledged write -> result. The fault is lifted
// in a finally block whatever happens, SIGINT/SIGTERM included.

export interface RunnerDeps {
  stack: Stack;
  control: ContainerControl;
  progress: Progress;
  signal: AbortSignal;
  seed: number;
  token: string;
  judgement: JudgementConfig;
  /** Where Prometheus answers; undefined: no detection through Prometheus. */
  prometheusUrl?: string;
  /** Arms a warden before each fault, so it lifts even if this process dies; none: unguarded (unit tests). */
  wardens?: Wardens;
  /** The clock (ms since the epoch); Date.now when not given. */
  now?: () => number;
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** When each step of the fault happened (ms since the epoch); unset: the run never got there. */
interface Times {
  injectStart?: number;
  injectAt?: number;
  revertAt?: number;
  recoveryDeadline?: number;
  afterFrom?: number;
}

/** One experiment in progress: what it targets, and what its steps have found so far. */
interface ExperimentRun {
  experiment: Experiment;
  deps: RunnerDeps;
  now: () => number;
  t0: number;
  targetNames: string[];
  targetRegions: RegionTarget[];
  session: Session;
  notes: string[];
  method: string;
  error?: string;
  injection?: Injection;
  warden?: ArmedWarden | undefined;
  lifted: boolean;
  /** The targets' containers before the fault: whether they restarted is judged against these. */
  before?: Map<string, ContainerFacts>;
  times: Times;
}

/** What the stack looked like once the fault was gone. */
interface Aftermath {
  healthy: boolean;
  restarts: Awaited<ReturnType<Session['restarts']>>;
  readBack: ReadBack;
}

async function waitRecovered(
  session: Session,
  kind: FaultKind,
  regions: readonly string[],
  window: { from: number; deadline: number },
  signal: AbortSignal,
  now: () => number,
): Promise<boolean> {
  const { from, deadline } = window;
  const rec = { kind, crashed: kind === 'kill', injectAt: from, revertAt: from, recoveryDeadline: deadline };
  while (now() <= deadline) {
    const at = {
      ...rec,
      probes: session.monitor.probes,
      observations: kind === 'dependency' ? session.store.select() : [],
    };
    if (regions.every((r) => recoveredAt(at, r) !== null)) return true;
    await sleep(100, undefined, { signal });
  }
  return false;
}

export async function runExperiment(experiment: Experiment, deps: RunnerDeps): Promise<ExperimentResult> {
  const run = startRun(experiment, deps);
  deps.progress.step(`${experiment.name}: ${experiment.fault.kind} on ${run.targetNames.join(', ')}`);
  try {
    await inject(run);
    await holdAndRecover(run);
  } catch (e) {
    run.error = deps.signal.aborted ? message(deps.signal.reason) : message(e);
    deps.progress.warn(`${experiment.name}: ${run.error}`);
  } finally {
    await liftFault(run);
    await run.session.stop();
  }
  const end = run.now();
  const aftermath = await afterFault(run);
  return buildResult(
    {
      experiment,
      targets: run.targetNames,
      method: run.method,
      notes: run.notes,
      reverted: run.lifted && aftermath.healthy,
      t0: run.t0,
      end,
      observations: run.session.store.select(),
      ...(run.error !== undefined ? { error: run.error } : {}),
      ...recordingOf(run, aftermath, end),
    },
    deps.judgement,
  );
}

function startRun(experiment: Experiment, deps: RunnerDeps): ExperimentRun {
  const now = deps.now ?? Date.now;
  const { target } = deps.stack;
  const targetNames = resolveTargets(
    experiment,
    target.regions.map((r) => r.name),
    deps.seed,
  );
  const targetRegions = targetNames
    .map((n) => target.regions.find((r) => r.name === n))
    .filter((r): r is RegionTarget => r !== undefined);
  return {
    experiment,
    deps,
    now,
    t0: now(),
    targetNames,
    targetRegions,
    session: new Session(experiment, deps, targetNames),
    notes: [],
    method: 'not injected',
    lifted: false,
    times: {},
  };
}

/** Load on, the before window, a warden armed, then the fault. */
async function inject(run: ExperimentRun): Promise<void> {
  const { experiment, deps, session, targetNames, targetRegions } = run;
  const { stack, control, token, signal, progress } = deps;
  if (targetRegions.length !== targetNames.length)
    throw new Error(`unknown target region in ${targetNames.join(', ')}`);
  const before = await session.targetFacts();
  run.before = before;
  const targets: TargetContainer[] = targetRegions.map((r) => ({
    region: r.name,
    baseUrl: regionUrl(stack.target, r),
    innerUrl: innerUrl(stack.target, r),
    container: before.get(r.name) as ContainerFacts,
  }));
  const proxyOf = (region: string) => {
    const r = targetRegions.find((x) => x.name === region);
    return r ? proxyUrl(stack.target, r) : undefined;
  };
  const injection = injectionFor(experiment.fault, {
    control,
    token,
    targets,
    facts: (region) => session.facts(region),
    dependency: (name) => session.dependency(name),
    proxyUrl: proxyOf,
  });
  run.injection = injection;
  session.start(streams(experiment, stack, targetNames, await stack.containers()));

  await sleep(experiment.windows.beforeSeconds * 1000, undefined, { signal });
  run.warden = await armWarden(experiment, targetNames, injection, deps);
  run.times.injectStart = run.now();
  const outcome = await injection.inject();
  run.times.injectAt = run.now();
  run.method = outcome.method;
  run.notes.push(...outcome.notes);
  const said = outcome.notes.length ? `: ${outcome.notes.join('; ')}` : '';
  progress.info(`${experiment.name}: injected (${run.method})${said}`);
}

/**
 * The fault held (a kill: until the target is back) and lifted, the wait for recovery (a
 * repair if it never comes), then the after window.
 */
async function holdAndRecover(run: ExperimentRun): Promise<void> {
  const { experiment, deps, session, targetNames, times, now } = run;
  const { fault, windows } = experiment;
  const { signal, progress } = deps;
  const injectAt = times.injectAt ?? now();
  const deadlineMs = windows.recoveryDeadlineSeconds * 1000;
  if (fault.kind === 'kill') {
    await waitRecovered(
      session,
      fault.kind,
      targetNames,
      { from: injectAt, deadline: injectAt + deadlineMs },
      signal,
      now,
    );
    times.revertAt = now();
  } else {
    await sleep(faultSeconds(fault) * 1000, undefined, { signal });
    times.revertAt = now();
    await run.injection?.revert();
    run.lifted = true;
    progress.info(`${experiment.name}: fault lifted`);
  }
  const from = fault.kind === 'kill' ? injectAt : times.revertAt;
  times.recoveryDeadline = from + deadlineMs;
  const window = { from, deadline: times.recoveryDeadline };
  if (!(await waitRecovered(session, fault.kind, targetNames, window, signal, now))) {
    const within = `within ${windows.recoveryDeadlineSeconds} s`;
    progress.warn(`${experiment.name}: ${targetNames.join(', ')} not healthy again ${within}`);
    const repairs = await repairStack(deps.stack, deps.control, deps.token, run.targetRegions, progress);
    run.notes.push(...repairs.map((a) => `repair after the recovery deadline: ${a}`));
  }
  times.afterFrom = now();
  await sleep(windows.afterSeconds * 1000, undefined, { signal });
}

/** Whatever happened: the fault lifted if it is still on, and its warden disarmed once it is off. */
async function liftFault(run: ExperimentRun): Promise<void> {
  const { experiment, injection, warden, deps } = run;
  if (injection && !run.lifted) {
    try {
      await injection.revert();
      run.lifted = true;
    } catch (e) {
      const retry = warden ? `; its warden ${warden.name} tries again at its expiry` : '';
      run.notes.push(`the fault could not be lifted: ${message(e)}${retry}`);
      deps.progress.warn(`${experiment.name}: the fault could not be lifted: ${message(e)}`);
    }
  }
  if (warden && run.lifted) {
    const fired = await warden.disarm().catch((e: unknown) => {
      deps.progress.warn(`${experiment.name}: warden ${warden.name} not removed: ${message(e)}`);
    });
    if (fired) run.notes.push(`the fault's warden fired before the gate lifted the fault itself (${fired})`);
  }
}

/** Afterwards: is the stack fit again (repairing it if not), did the target restart, were writes kept? */
async function afterFault(run: ExperimentRun): Promise<Aftermath> {
  const { deps, session, targetRegions, notes } = run;
  const { stack, control, token, progress, signal } = deps;
  let healthy = true;
  if ((await stackProblems(stack, token, targetRegions)).length > 0) {
    try {
      const repairs = await repairStack(stack, control, token, targetRegions, progress);
      notes.push(...repairs.map((a) => `repair after the experiment: ${a}`));
    } catch (e) {
      healthy = false;
      notes.push(`the stack could not be repaired: ${message(e)}`);
    }
  }
  const restarts = run.before ? await session.restarts(run.before) : { crashed: false, notes: [], outcomes: [] };
  notes.push(...restarts.notes);
  const readBack: ReadBack =
    signal.aborted || run.times.injectAt === undefined
      ? { checked: 0, missing: 0, unverified: 0 }
      : await readBackWrites(
          session.store.acknowledgedWrites(),
          (region) => regionUrl(stack.target, stack.target.regions.find((r) => r.name === region) as RegionTarget),
          session.workload ? { workload: session.workload } : {},
        );
  return { healthy, restarts, readBack };
}

/** The run's recording for the judge, when every step of the fault happened; nothing otherwise. */
function recordingOf(run: ExperimentRun, aftermath: Aftermath, end: number): { recording?: Recording } {
  const { injectStart, injectAt, revertAt, recoveryDeadline, afterFrom } = run.times;
  if (
    injectStart === undefined ||
    injectAt === undefined ||
    revertAt === undefined ||
    recoveryDeadline === undefined ||
    afterFrom === undefined
  )
    return {};
  const { experiment, session, targetNames } = run;
  const { restarts, readBack } = aftermath;
  return {
    recording: {
      kind: experiment.fault.kind,
      targets: targetNames,
      t0: run.t0,
      injectStart,
      injectAt,
      revertAt,
      recoveryDeadline,
      afterFrom,
      end,
      observations: session.store.select(),
      probes: session.monitor.probes,
      up: session.monitor.up,
      samples: session.monitor.samples,
      containers: restarts.outcomes,
      crashed: experiment.fault.kind === 'kill' || restarts.crashed,
      readBack,
      notes: restarts.notes,
    },
  };
}

/**
 * The fault's warden, armed before the fault exists. It fires only once the gate had every
 * chance to lift the fault itself (the fault's time, or a kill's recovery deadline, plus the
 * service's own grace and the gate's revert deadline): it is the net for a dead gate, and
 * must never race a live one (a warden resets a netem-delayed network).
 */
export async function armWarden(
  experiment: Experiment,
  regions: string[],
  injection: Injection,
  deps: Pick<RunnerDeps, 'wardens' | 'token'>,
): Promise<ArmedWarden | undefined> {
  if (!deps.wardens) return undefined;
  const { fault, windows } = experiment;
  const holdSeconds = fault.kind === 'kill' ? windows.recoveryDeadlineSeconds : faultSeconds(fault);
  return deps.wardens.arm({
    experiment: experiment.name,
    fault: fault.kind,
    regions,
    lifetimeMs: (holdSeconds + SELF_LIFT_GRACE_SECONDS) * 1000 + REVERT_DEADLINE_MS,
    undo: await injection.guard(),
    token: deps.token,
  });
}

/** What a region runs: a user's service by its label, the demo by its environment. */
function versionOf(c: ContainerFacts | undefined): string {
  return c?.labels[LABELS.version] ?? c?.env.VERSION ?? 'unknown';
}

function streams(
  experiment: Experiment,
  stack: Stack,
  targets: readonly string[],
  containers: readonly ContainerFacts[],
): TrafficStream[] {
  return stack.target.regions
    .map((r) => ({
      region: r.name,
      cohort: 'baseline' as const,
      version: versionOf(containers.find((c) => c.service === r.service)),
      baseUrl: regionUrl(stack.target, r),
      rps: targets.includes(r.name) ? experiment.load.rps : experiment.load.otherRegionsRps,
    }))
    .filter((s) => s.rps > 0);
}
