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
import type { ReadBack } from './recording.ts';
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
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

async function waitRecovered(
  session: Session,
  kind: FaultKind,
  regions: readonly string[],
  from: number,
  deadline: number,
  signal: AbortSignal,
): Promise<boolean> {
  const rec = { kind, crashed: kind === 'kill', injectAt: from, revertAt: from, recoveryDeadline: deadline };
  while (Date.now() <= deadline) {
    const now = {
      ...rec,
      probes: session.monitor.probes,
      observations: kind === 'dependency' ? session.store.select() : [],
    };
    if (regions.every((r) => recoveredAt(now, r) !== null)) return true;
    await sleep(100, undefined, { signal });
  }
  return false;
}

export async function runExperiment(experiment: Experiment, deps: RunnerDeps): Promise<ExperimentResult> {
  const { stack, progress, signal, control, token } = deps;
  const t0 = Date.now();
  const regionNames = stack.target.regions.map((r) => r.name);
  const targetNames = resolveTargets(experiment, regionNames, deps.seed);
  const targetRegions = targetNames
    .map((n) => stack.target.regions.find((r) => r.name === n))
    .filter((r): r is RegionTarget => r !== undefined);
  const session = new Session(experiment, deps, targetNames);
  const notes: string[] = [];
  const { fault, windows } = experiment;
  let method = 'not injected';
  let error: string | undefined;
  let injection: Injection | undefined;
  let warden: ArmedWarden | undefined;
  let lifted = false;
  let before: Map<string, ContainerFacts> | undefined;
  const times: {
    injectStart?: number;
    injectAt?: number;
    revertAt?: number;
    recoveryDeadline?: number;
    afterFrom?: number;
  } = {};

  progress.step(`${experiment.name}: ${fault.kind} on ${targetNames.join(', ')}`);
  try {
    if (targetRegions.length !== targetNames.length)
      throw new Error(`unknown target region in ${targetNames.join(', ')}`);
    before = await session.targetFacts();
    const targets: TargetContainer[] = targetRegions.map((r) => ({
      region: r.name,
      baseUrl: regionUrl(stack.target, r),
      innerUrl: innerUrl(stack.target, r),
      container: before?.get(r.name) as ContainerFacts,
    }));
    const proxyOf = (region: string) => {
      const r = targetRegions.find((x) => x.name === region);
      return r ? proxyUrl(stack.target, r) : undefined;
    };
    injection = injectionFor(fault, {
      control,
      token,
      targets,
      facts: (region) => session.facts(region),
      dependency: (name) => session.dependency(name),
      proxyUrl: proxyOf,
    });
    session.start(streams(experiment, stack, targetNames, await stack.containers()));

    await sleep(windows.beforeSeconds * 1000, undefined, { signal });
    warden = await armWarden(experiment, targetNames, injection, deps);
    times.injectStart = Date.now();
    const outcome = await injection.inject();
    times.injectAt = Date.now();
    method = outcome.method;
    notes.push(...outcome.notes);
    progress.info(
      `${experiment.name}: injected (${method})${outcome.notes.length ? `: ${outcome.notes.join('; ')}` : ''}`,
    );

    const deadlineMs = windows.recoveryDeadlineSeconds * 1000;
    if (fault.kind === 'kill') {
      await waitRecovered(session, fault.kind, targetNames, times.injectAt, times.injectAt + deadlineMs, signal);
      times.revertAt = Date.now();
    } else {
      await sleep(faultSeconds(fault) * 1000, undefined, { signal });
      times.revertAt = Date.now();
      await injection.revert();
      lifted = true;
      progress.info(`${experiment.name}: fault lifted`);
    }
    const from = fault.kind === 'kill' ? times.injectAt : times.revertAt;
    times.recoveryDeadline = from + deadlineMs;
    if (!(await waitRecovered(session, fault.kind, targetNames, from, times.recoveryDeadline, signal))) {
      progress.warn(
        `${experiment.name}: ${targetNames.join(', ')} not healthy again within ${windows.recoveryDeadlineSeconds} s`,
      );
      notes.push(
        ...(await repairStack(stack, control, token, targetRegions, progress)).map(
          (a) => `repair after the recovery deadline: ${a}`,
        ),
      );
    }
    times.afterFrom = Date.now();
    await sleep(windows.afterSeconds * 1000, undefined, { signal });
  } catch (e) {
    error = signal.aborted ? message(signal.reason) : message(e);
    progress.warn(`${experiment.name}: ${error}`);
  } finally {
    if (injection && !lifted) {
      try {
        await injection.revert();
        lifted = true;
      } catch (e) {
        notes.push(
          `the fault could not be lifted: ${message(e)}${warden ? `; its warden ${warden.name} tries again at its expiry` : ''}`,
        );
        progress.warn(`${experiment.name}: the fault could not be lifted: ${message(e)}`);
      }
    }
    if (warden && lifted) {
      const fired = await warden.disarm().catch((e: unknown) => {
        progress.warn(`${experiment.name}: warden ${warden?.name} not removed: ${message(e)}`);
      });
      if (fired) notes.push(`the fault's warden fired before the gate lifted the fault itself (${fired})`);
    }
    await session.stop();
  }
  const end = Date.now();

  // Afterwards: is the stack fit again (repairing it if not), were writes kept, did the target restart?
  let healthy = true;
  if ((await stackProblems(stack, token, targetRegions)).length > 0) {
    try {
      notes.push(
        ...(await repairStack(stack, control, token, targetRegions, progress)).map(
          (a) => `repair after the experiment: ${a}`,
        ),
      );
    } catch (e) {
      healthy = false;
      notes.push(`the stack could not be repaired: ${message(e)}`);
    }
  }
  const restarts = before ? await session.restarts(before) : { crashed: false, notes: [], outcomes: [] };
  notes.push(...restarts.notes);
  const readBack: ReadBack =
    signal.aborted || times.injectAt === undefined
      ? { checked: 0, missing: 0, unverified: 0 }
      : await readBackWrites(
          session.store.acknowledgedWrites(),
          (region) => regionUrl(stack.target, stack.target.regions.find((r) => r.name === region) as RegionTarget),
          session.workload ? { workload: session.workload } : {},
        );

  const { injectStart, injectAt, revertAt, recoveryDeadline, afterFrom } = times;
  const complete =
    injectStart !== undefined &&
    injectAt !== undefined &&
    revertAt !== undefined &&
    recoveryDeadline !== undefined &&
    afterFrom !== undefined;
  const crashed = fault.kind === 'kill' || restarts.crashed;
  return buildResult(
    {
      experiment,
      targets: targetNames,
      method,
      notes,
      reverted: lifted && healthy,
      t0,
      end,
      observations: session.store.select(),
      ...(error !== undefined ? { error } : {}),
      ...(complete
        ? {
            recording: {
              kind: fault.kind,
              targets: targetNames,
              t0,
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
              crashed,
              readBack,
              notes: restarts.notes,
            },
          }
        : {}),
    },
    deps.judgement,
  );
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
