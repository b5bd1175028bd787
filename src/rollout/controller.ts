import { UsageError } from '../util/errors.ts';
import type { PrometheusPlan } from '../prometheus/config.ts';
import type { StagePrediction } from '../predict/model.ts';
import { grafanaAnnotator, transitionAnnotation, type Annotator } from '../grafana/annotations.ts';
import { preflight } from '../prometheus/live.ts';
import { grafanaUrl, prometheusUrl } from '../stack/target.ts';
import { InfraError } from '../stack/errors.ts';
import type { Stack } from '../stack/stack.ts';
import type { DataFault, Deployment, ImageRef, RegionTarget, Regression } from '../stack/target.ts';
import type { Workload } from '../traffic/workload.ts';
import { TrafficGenerator } from '../traffic/generator.ts';
import { ObservationStore } from '../traffic/store.ts';
import type { Progress } from '../util/progress.ts';
import { initialState, isTerminal, transition, type RolloutEvent, type RolloutState } from './machine.ts';
import { rollbackPolicy, stageCount, type RolloutPlan } from '../plan/rollout.ts';
import type { RollbackRecord, RolloutResult, StageRecord, TimelineEntry } from './result.ts';
import { regionEvidence } from './evidence.ts';
import { mitigateRegion, takeRegionBackup, type BackupRecord, type MitigationRecord } from './mitigation.ts';
import { httpProbes, type RegionProbes, type Verification } from './verify.ts';
import { systemRolloutClock, type RolloutClock } from './clock.ts';
import { decideRollback } from './scope.ts';
import { backupName, httpDataAdmin, type DataAdmin } from '../stack/data-admin.ts';
import { rollBack, type TouchedRegion } from './rollback.ts';
import { runCanaryStage, runPromotion, type DifferentialHook, type WaveContext } from './waves.ts';
import type { DifferentialResult } from '../analysis/differential.ts';

// Drives the pure state machine against the live stack. Any abort (red verdict, spent pause
// budget, a deploy or verification error, SIGINT/SIGTERM) ends in a rollback, verified: of
// every touched region, or (rollout.rollback: region, when decideRollback finds the evidence
// points at the failing region alone) of that region only, after which the rollout stops or
// continues with the regions not yet touched. Each region's database is backed up before the
// candidate reaches it and checked when it is rolled back (mitigation.ts). Decisions are
// step()'s and decideRollback()'s; this file only orchestrates. The clock, the probes and the
// traffic are dependencies (live ones by default), so a unit test drives a whole rollout
// against an in-memory stack on virtual time.

/** The synthetic traffic as a rollout drives it. */
export type RolloutTraffic = Pick<TrafficGenerator, 'setStreams' | 'start' | 'stop' | 'close' | 'stats'>;

export interface RolloutDeps {
  stack: Stack;
  progress: Progress;
  signal: AbortSignal;
  random: () => number;
  store?: ObservationStore;
  /** Where transitions are annotated; by default Grafana on the stack, when it answers. */
  annotator?: Annotator;
  /**
   * Backups before the candidate reaches a region, data checks on rollback; by default the
   * region service's /admin endpoints with the stack's token. null: no backups, no checks.
   */
  dataAdmin?: DataAdmin | null;
  /** The system clock by default. */
  clock?: RolloutClock;
  /** How a region's version and health are read; HTTP on the stack by default. */
  probes?: RegionProbes;
  /** Synthetic traffic recording into `store` (pass both); undici against the stack by default. */
  traffic?: RolloutTraffic;
  /** The requests the default traffic sends; the demo's by default. */
  workload?: Workload;
  /** Chaos on the candidate in one stage of one region (waves.ts); none by default. */
  differential?: Omit<DifferentialHook, 'record'>;
  /** Runs once a region's canary is up, before its first analysis (the gate's known-bad control). */
  afterCanaryDeploy?: (region: RegionTarget) => Promise<void>;
  /**
   * Runs as a rollback begins, on the regions it puts back (a fault: rollback under fire);
   * what it returns runs once they are back, whatever happened.
   */
  duringRollback?: (regions: readonly RegionTarget[]) => Promise<() => Promise<void>>;
}

export interface RolloutRequest {
  version: string;
  failureRate: number;
  /** The test service's deliberate data bug on the candidate (DATA_FAULT). */
  dataFault?: DataFault;
  /** The demo's resilience regression written into the candidate (REGRESSION). */
  regression?: Regression;
  /** A user's service: the candidate's image (the demo's candidate is its version alone). */
  image?: ImageRef;
  plan: RolloutPlan;
  /** Checks judged from Prometheus when plan.analysis.sources includes it. */
  prometheus?: PrometheusPlan;
  /**
   * The prediction made before the rollout (predict/): when present, every analysis of a
   * canary stage is held to the stage's predicted ranges (classifyStage), one entry per stage
   * of `plan` in order.
   */
  prediction?: { stages: readonly StagePrediction[] };
}

export async function runRollout(request: RolloutRequest, deps: RolloutDeps): Promise<RolloutResult> {
  const { stack, progress, signal } = deps;
  const clock = deps.clock ?? systemRolloutClock;
  const probes = deps.probes ?? httpProbes;
  const { plan } = request;
  const regions = resolveRegions(stack, plan);
  const previous = await readStable(stack, regions);
  const prometheus =
    plan.analysis.sources.includes('prometheus') && request.prometheus && request.prometheus.checks.length > 0
      ? request.prometheus
      : undefined;
  const promUrl = prometheusUrl(stack.target);
  if (prometheus) {
    const first = regions[0] as RegionTarget;
    const stable = (previous.get(first.name) as Deployment).version;
    progress.step(`pre-flight: ${prometheus.checks.length} Prometheus check(s) against ${stable} in ${first.name}`);
    await preflight(prometheus, promUrl, {
      region: first.name,
      version: stable,
      canary_version: request.version,
      baseline_version: stable,
      slot: 'stable',
    });
  }
  await removeLeftoverCanaries(stack, regions, progress);
  const annotator = deps.annotator ?? (await grafanaAnnotator(grafanaUrl(stack.target), progress));
  const admin = deps.dataAdmin === undefined ? await defaultDataAdmin(stack, progress) : deps.dataAdmin;

  const store = deps.store ?? new ObservationStore();
  const traffic =
    deps.traffic ??
    new TrafficGenerator({
      store,
      random: deps.random,
      maxDurationMs: 60 * 60_000,
      ...(deps.workload ? { workload: deps.workload } : {}),
    });
  const startedAt = clock.now();
  const timeline: TimelineEntry[] = [];
  const stages: StageRecord[] = [];
  const replaced = new Set<string>();
  const verified = new Set<string>();
  const backups = new Map<string, BackupRecord>();
  const rollbacks: RollbackRecord[] = [];
  const verifications: Verification[] = [];
  const problems: string[] = [];
  const mitigation: MitigationRecord[] = [];
  const rolledBack = new Set<string>();
  const differential: DifferentialResult[] = [];
  const policy = rollbackPolicy(plan);
  let state: RolloutState = initialState(plan.regions, stageCount(plan));
  let abortedAt: number | undefined;
  let timeToDetectMs: number | null = null;

  const send = (event: RolloutEvent) => {
    const from = state;
    state = transition(state, event);
    const at = clock.now();
    if (event.type === 'ABORT') abortedAt = at;
    if (event.type === 'NEXT_REGION' && from.kind === 'PROMOTED') verified.add(plan.regions[from.region] as string);
    const entry = timelineEntry(plan, from, state, event, at, startedAt);
    timeline.push(entry);
    annotator.annotate(transitionAnnotation(entry, startedAt, request.version));
    progress.step(describe(plan, from, state, event));
  };
  const candidate: Deployment = {
    version: request.version,
    failureRate: request.failureRate,
    ...(request.dataFault ? { dataFault: request.dataFault } : {}),
    ...(request.regression ? { regression: request.regression } : {}),
    ...(request.image ? { image: request.image } : {}),
  };
  const ctx: WaveContext = {
    stack,
    plan,
    store,
    traffic,
    progress,
    signal,
    send,
    clock,
    probes,
    candidate,
    state: () => state,
    regionTarget: (i) => regions[i] as RegionTarget,
    previous: (name) => previous.get(name) as Deployment,
    markReplaced: (name) => void replaced.add(name),
    recordStage: (record) => void stages.push(record),
    detected: (ms) => {
      timeToDetectMs ??= ms;
    },
    canaryRunning: new Set(),
    prometheus,
    prometheusUrl: promUrl,
    ...(request.prediction ? { prediction: request.prediction.stages } : {}),
    ...(deps.differential
      ? { differential: { ...deps.differential, record: (r) => void differential.push(...r) } }
      : {}),
    ...(deps.afterCanaryDeploy ? { afterCanaryDeploy: deps.afterCanaryDeploy } : {}),
    beforeCandidate: async (region) => {
      if (!admin || backups.has(region.name)) return;
      const backup = await takeRegionBackup(admin, region, backupName(region.name, request.version, clock.now()), () =>
        clock.now(),
      );
      backups.set(region.name, backup);
      progress.info(
        `backed up ${region.name}'s database before ${request.version}: ${backup.rows} rows, ${backup.bytes} bytes in ${backup.durationMs} ms`,
      );
    },
  };

  traffic.start();
  try {
    for (;;) {
      try {
        // A signal during a region-only rollback: do not go on to the next region.
        if (signal.aborted && state.kind !== 'PENDING') throw signal.reason;
        if (state.kind === 'PENDING') send({ type: 'START' });
        while (state.kind === 'CANARY' || state.kind === 'PAUSED' || state.kind === 'PROMOTED') {
          if (state.kind === 'PROMOTED') await runPromotion(ctx, state);
          else await runCanaryStage(ctx, state);
        }
      } catch (e) {
        if (isTerminal(state) || state.kind === 'ROLLING_BACK') throw e;
        const cause = signal.aborted ? 'interrupted' : e instanceof InfraError ? 'infrastructure' : 'other';
        const why = signal.aborted
          ? `interrupted: ${(signal.reason as Error | undefined)?.message ?? 'signal'}`
          : `${e instanceof InfraError ? 'infrastructure' : 'error'}: ${e instanceof Error ? e.message : String(e)}`;
        send({ type: 'ABORT', reason: why, cause });
      }
      if (state.kind !== 'ROLLING_BACK') break;
      // Nothing new reaches the candidate while regions are put back; what is in flight finishes.
      await traffic.stop();
      const aborting: Extract<RolloutState, { kind: 'ROLLING_BACK' }> = state;
      const decision = decideRollback({
        scope: policy.scope,
        onRegionFailure: policy.onRegionFailure,
        failedRegion: aborting.failedRegion,
        reason: aborting.reason,
        cause: aborting.cause,
        touched: aborting.touched,
        evidence: regionEvidence(aborting.touched, aborting.failedRegion, stages, verified),
        alpha: plan.analysis.alpha,
      });
      progress.info(`rollback decision: ${decision.summary}`);
      if (decision.scope === 'region')
        send({ type: 'SCOPE_ROLLBACK', regions: decision.rollBack, then: decision.then });
      const targets = state.rollBack;
      const touched = targets.map((name) => ({
        region: regions[plan.regions.indexOf(name)] as RegionTarget,
        previous: previous.get(name) as Deployment,
        replaced: replaced.has(name),
      }));
      // A hook that fails must not keep the regions from being put back.
      const lift = await deps.duringRollback?.(touched.map((t) => t.region)).catch((e: unknown) => {
        progress.warn(`during the rollback: ${e instanceof Error ? e.message : String(e)}`);
        return undefined;
      });
      const outcome = await rollBack(stack, touched, {
        health: plan.health,
        clock,
        progress,
        probes,
        ...(admin
          ? {
              mitigate: (t: TouchedRegion) =>
                mitigateRegion({
                  admin,
                  region: t.region,
                  backup: backups.get(t.region.name),
                  stableVersion: t.previous.version,
                  candidateVersion: request.version,
                  writes: store.acknowledgedWrites(t.region.name),
                }),
            }
          : {}),
      }).finally(() => lift?.());
      const at = clock.now();
      for (const name of targets) {
        rolledBack.add(name);
        ctx.canaryRunning.delete(name);
        replaced.delete(name);
        verified.delete(name);
        backups.delete(name);
      }
      verifications.push(...outcome.verifications);
      problems.push(...outcome.problems);
      mitigation.push(...outcome.mitigation);
      for (const m of outcome.mitigation) reportMitigation(m, progress);
      rollbacks.push({
        failedRegion: aborting.failedRegion,
        reason: aborting.reason,
        cause: aborting.cause,
        decision,
        regions: [...targets],
        durationMs: at - (abortedAt ?? at),
        ok: outcome.ok,
      });
      send(
        outcome.ok ? { type: 'ROLLBACK_VERIFIED' } : { type: 'ROLLBACK_FAILED', reason: outcome.problems.join('; ') },
      );
      if (isTerminal(state)) break;
      traffic.start();
    }
  } finally {
    await traffic.close();
  }

  await annotator.flush();
  const final = state as Extract<RolloutState, { kind: 'COMPLETED' | 'ROLLED_BACK' | 'FAILED' }>;
  const status = await stack.status().catch(() => undefined);
  const endedAt = clock.now();
  const first = rollbacks[0];
  return {
    version: request.version,
    failureRate: request.failureRate,
    strategy: plan.strategy,
    finalState: final.kind,
    startedAt: new Date(startedAt).toISOString(),
    endedAt: new Date(endedAt).toISOString(),
    durationMs: endedAt - startedAt,
    regions: regions.map((r) => ({
      region: r.name,
      previous: previous.get(r.name) as Deployment,
      finalVersion: status?.regions.find((s) => s.region === r.name)?.stable?.reportedVersion,
      outcome: rolledBack.has(r.name) ? 'rolled_back' : final.touched.includes(r.name) ? 'promoted' : 'untouched',
    })),
    timeline,
    stages,
    differential,
    rollback: {
      triggered: rollbacks.length > 0,
      reason: final.kind === 'FAILED' ? final.abortReason : final.kind === 'ROLLED_BACK' ? final.reason : null,
      failedRegion: final.kind === 'COMPLETED' ? null : final.failedRegion,
      verifications,
      problems,
      scope:
        final.kind === 'ROLLED_BACK'
          ? final.scope
          : rollbacks.length > 0
            ? rollbacks.some((r) => r.decision.scope === 'all')
              ? 'all'
              : 'region'
            : null,
      regions: [...rolledBack],
      kept: final.kind === 'ROLLED_BACK' ? [...final.kept] : [],
      decisions: rollbacks,
    },
    mitigation,
    timeToDetectMs,
    // The first abort to its regions verified: what users waited on.
    timeToRollbackMs: first && first.ok && final.kind === 'ROLLED_BACK' ? first.durationMs : null,
    traffic: {
      sent: traffic.stats.sent,
      skipped: traffic.stats.skipped,
      acknowledgedWrites: store.acknowledgedWrites().length,
      missingReads: traffic.stats.missingReads,
      untimed: traffic.stats.untimed,
      maxClientStallMs: traffic.stats.maxClientStallMs,
    },
  };
}

/** The region services' /admin endpoints; without the stack's token, no backups (and a warning), not a failed rollout. */
async function defaultDataAdmin(stack: Stack, progress: Progress): Promise<DataAdmin | null> {
  try {
    return httpDataAdmin(stack.target, await stack.faultToken());
  } catch (e) {
    progress.warn(`no database backups in this rollout: ${e instanceof Error ? e.message : String(e)}`);
    return null;
  }
}

function reportMitigation(m: MitigationRecord, progress: Progress): void {
  if (!m.backup) return;
  const what = m.restored
    ? `integrity check failed (${m.integrity?.problems.join('; ') ?? '?'}): restored the backup in ${m.restore?.durationMs ?? '?'} ms; ${m.preDeployWritesChecked - m.preDeployWritesMissing} of ${m.preDeployWritesChecked} pre-deploy rows read back; ${m.candidateWritesUndone} of ${m.candidateWritesAcknowledged} acknowledged candidate writes undone by the restore (${m.candidateWritesLostByCandidate} lost by the candidate itself)`
    : `integrity check passed (${m.preDeployWritesChecked} pre-deploy rows intact): nothing to restore`;
  (m.problems.length > 0 ? progress.warn : progress.info).call(
    progress,
    `${m.region} data: ${what}${m.problems.length > 0 ? `; PROBLEM: ${m.problems.join('; ')}` : ''}`,
  );
}

/** Every region the plan names must be one the stack runs; refused before anything is touched. */
function resolveRegions(stack: Stack, plan: RolloutPlan): RegionTarget[] {
  return plan.regions.map((name, i) => {
    const region = stack.target.regions.find((r) => r.name === name);
    if (!region) {
      throw new UsageError([
        {
          source: 'configuration',
          path: `rollout.regions[${i}]`,
          rule: `${JSON.stringify(name)} is not a region of the stack (${stack.target.regions.map((r) => r.name).join(', ')})`,
        },
      ]);
    }
    return region;
  });
}

/** The stable version of each region, as the running stack reports it. */
async function readStable(stack: Stack, regions: readonly RegionTarget[]): Promise<Map<string, Deployment>> {
  const status = await stack.status();
  const previous = new Map<string, Deployment>();
  const down: string[] = [];
  for (const region of regions) {
    const s = status.regions.find((r) => r.region === region.name)?.stable;
    if (!s || s.state !== 'running' || s.reportedVersion === undefined) {
      down.push(`${region.name}: ${s ? `${s.state}, not answering` : 'no container'}`);
      continue;
    }
    const image = s.deployment?.image;
    previous.set(region.name, {
      version: s.reportedVersion,
      failureRate: s.deployment?.failureRate ?? 0,
      ...(image ? { image } : {}),
    });
  }
  if (down.length > 0) throw new InfraError('the stack is not up: run `chaos-gate up` first', down);
  return previous;
}

async function removeLeftoverCanaries(
  stack: Stack,
  regions: readonly RegionTarget[],
  progress: Progress,
): Promise<void> {
  const status = await stack.status();
  for (const region of regions) {
    if (status.regions.find((r) => r.region === region.name)?.canary) {
      progress.warn(`removing a canary left over from an earlier run in ${region.name}`);
      await stack.removeCanary(region);
    }
  }
}

function regionOf(plan: RolloutPlan, state: RolloutState): string | undefined {
  return 'region' in state && typeof state.region === 'number'
    ? plan.regions[state.region]
    : 'failedRegion' in state
      ? state.failedRegion
      : undefined;
}

function timelineEntry(
  plan: RolloutPlan,
  from: RolloutState,
  to: RolloutState,
  event: RolloutEvent,
  at: number,
  startedAt: number,
): TimelineEntry {
  const region = regionOf(plan, to);
  const detail = 'reason' in event ? event.reason : undefined;
  return {
    at: new Date(at).toISOString(),
    atMs: at - startedAt,
    event: event.type,
    from: from.kind,
    to: to.kind,
    ...(region ? { region } : {}),
    ...('stage' in to ? { stage: to.stage } : {}),
    ...(detail ? { detail } : {}),
  };
}

function describe(plan: RolloutPlan, from: RolloutState, to: RolloutState, event: RolloutEvent): string {
  const region = regionOf(plan, to);
  const stage = 'stage' in to ? ` stage ${to.stage + 1}/${plan.stages.length} (${plan.stages[to.stage]?.weight}%)` : '';
  return `${from.kind} -> ${to.kind}${region ? ` ${region}` : ''}${stage}${'reason' in event ? `: ${event.reason}` : ''}`;
}
