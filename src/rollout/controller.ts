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
import { rollBack, type RollbackOutcome, type TouchedRegion } from './rollback.ts';
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
  const setup = await prepare(request, deps);
  const rollout = new Rollout(request, deps, setup);
  await rollout.drive();
  return rollout.result();
}

/** What a rollout needs before it touches anything: the regions, their stable versions, the tools. */
interface Setup {
  clock: RolloutClock;
  probes: RegionProbes;
  regions: RegionTarget[];
  previous: Map<string, Deployment>;
  /** The Prometheus checks, when Prometheus judges. */
  prometheus: PrometheusPlan | undefined;
  prometheusUrl: string;
  annotator: Annotator;
  admin: DataAdmin | null;
  store: ObservationStore;
  traffic: RolloutTraffic;
}

async function prepare(request: RolloutRequest, deps: RolloutDeps): Promise<Setup> {
  const { stack, progress } = deps;
  const { plan } = request;
  const regions = resolveRegions(stack, plan);
  const previous = await readStable(stack, regions);
  const judges = plan.analysis.sources.includes('prometheus') && (request.prometheus?.checks.length ?? 0) > 0;
  const prometheus = judges ? request.prometheus : undefined;
  const promUrl = prometheusUrl(stack.target);
  if (prometheus)
    await preflightChecks(prometheus, promUrl, request.version, regions[0] as RegionTarget, previous, progress);
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
  return {
    clock: deps.clock ?? systemRolloutClock,
    probes: deps.probes ?? httpProbes,
    regions,
    previous,
    prometheus,
    prometheusUrl: promUrl,
    annotator,
    admin,
    store,
    traffic,
  };
}

/** The Prometheus checks against the stable version of the first region, before anything changes. */
async function preflightChecks(
  prometheus: PrometheusPlan,
  url: string,
  version: string,
  first: RegionTarget,
  previous: ReadonlyMap<string, Deployment>,
  progress: Progress,
): Promise<void> {
  const stable = (previous.get(first.name) as Deployment).version;
  progress.step(`pre-flight: ${prometheus.checks.length} Prometheus check(s) against ${stable} in ${first.name}`);
  await preflight(prometheus, url, {
    region: first.name,
    version: stable,
    canary_version: version,
    baseline_version: stable,
    slot: 'stable',
  });
}

type RollingBack = Extract<RolloutState, { kind: 'ROLLING_BACK' }>;
type Final = Extract<RolloutState, { kind: 'COMPLETED' | 'ROLLED_BACK' | 'FAILED' }>;

/**
 * One rollout: its state, what it recorded, and the loop that drives it. Waves run until the
 * rollout ends or aborts; an abort is rolled back (all touched regions, or the failing one),
 * after which the rollout ends or, after a region-only rollback, goes on.
 */
class Rollout {
  private state: RolloutState;
  private readonly startedAt: number;
  private readonly timeline: TimelineEntry[] = [];
  private readonly stages: StageRecord[] = [];
  private readonly replaced = new Set<string>();
  private readonly verified = new Set<string>();
  private readonly backups = new Map<string, BackupRecord>();
  private readonly rollbacks: RollbackRecord[] = [];
  private readonly verifications: Verification[] = [];
  private readonly problems: string[] = [];
  private readonly mitigation: MitigationRecord[] = [];
  private readonly rolledBack = new Set<string>();
  private readonly differential: DifferentialResult[] = [];
  private abortedAt: number | undefined;
  private timeToDetectMs: number | null = null;
  private readonly ctx: WaveContext;
  private readonly request: RolloutRequest;
  private readonly deps: RolloutDeps;
  private readonly setup: Setup;

  constructor(request: RolloutRequest, deps: RolloutDeps, setup: Setup) {
    this.request = request;
    this.deps = deps;
    this.setup = setup;
    this.state = initialState(request.plan.regions, stageCount(request.plan));
    this.startedAt = setup.clock.now();
    this.ctx = this.waveContext();
  }

  async drive(): Promise<void> {
    const { traffic } = this.setup;
    traffic.start();
    try {
      for (;;) {
        await this.runWaves();
        if (this.state.kind !== 'ROLLING_BACK') break;
        // Nothing new reaches the candidate while regions are put back; what is in flight finishes.
        await traffic.stop();
        await this.rollBackAborted(this.state);
        if (isTerminal(this.state)) break;
        traffic.start();
      }
    } finally {
      await traffic.close();
    }
    await this.setup.annotator.flush();
  }

  private send(event: RolloutEvent): void {
    const { clock, annotator } = this.setup;
    const from = this.state;
    this.state = transition(from, event);
    const at = clock.now();
    if (event.type === 'ABORT') this.abortedAt = at;
    if (event.type === 'NEXT_REGION' && from.kind === 'PROMOTED') this.verified.add(from.region);
    const entry = timelineEntry(from, this.state, event, at, this.startedAt);
    this.timeline.push(entry);
    annotator.annotate(transitionAnnotation(entry, this.startedAt, this.request.version));
    this.deps.progress.step(describe(this.request.plan, from, this.state, event));
  }

  /** Runs canary stages and promotions until the rollout ends or aborts; an error aborts it. */
  private async runWaves(): Promise<void> {
    const { signal } = this.deps;
    try {
      // A signal during a region-only rollback: do not go on to the next region.
      if (signal.aborted && this.state.kind !== 'PENDING') throw signal.reason;
      if (this.state.kind === 'PENDING') this.send({ type: 'START' });
      for (let s = this.state; s.kind === 'CANARY' || s.kind === 'PAUSED' || s.kind === 'PROMOTED'; s = this.state) {
        if (s.kind === 'PROMOTED') await runPromotion(this.ctx, s);
        else await runCanaryStage(this.ctx, s);
      }
    } catch (e) {
      if (isTerminal(this.state) || this.state.kind === 'ROLLING_BACK') throw e;
      this.send(abortOnError(e, signal));
    }
  }

  /** Decides which regions to put back, puts them back, verifies them, and records it all. */
  private async rollBackAborted(aborting: RollingBack): Promise<void> {
    const { plan } = this.request;
    const policy = rollbackPolicy(plan);
    const decision = decideRollback({
      scope: policy.scope,
      onRegionFailure: policy.onRegionFailure,
      failedRegion: aborting.failedRegion,
      reason: aborting.reason,
      cause: aborting.cause,
      touched: aborting.touched,
      evidence: regionEvidence(aborting.touched, aborting.failedRegion, this.stages, this.verified),
      alpha: plan.analysis.alpha,
    });
    this.deps.progress.info(`rollback decision: ${decision.summary}`);
    if (decision.scope === 'region')
      this.send({ type: 'SCOPE_ROLLBACK', regions: decision.rollBack, then: decision.then });
    const targets = (this.state as RollingBack).rollBack;
    const outcome = await this.putBack(targets);
    const at = this.setup.clock.now();
    for (const name of targets) this.forget(name);
    this.verifications.push(...outcome.verifications);
    this.problems.push(...outcome.problems);
    this.mitigation.push(...outcome.mitigation);
    for (const m of outcome.mitigation) reportMitigation(m, this.deps.progress);
    this.rollbacks.push({
      failedRegion: aborting.failedRegion,
      reason: aborting.reason,
      cause: aborting.cause,
      decision,
      regions: [...targets],
      durationMs: at - (this.abortedAt ?? at),
      ok: outcome.ok,
    });
    const problems = outcome.problems.join('; ');
    this.send(outcome.ok ? { type: 'ROLLBACK_VERIFIED' } : { type: 'ROLLBACK_FAILED', reason: problems });
  }

  /** Puts `targets` back on their previous deployment (rollback.ts), with the rollback hook around it. */
  private async putBack(targets: readonly string[]): Promise<RollbackOutcome> {
    const { clock, probes, admin, store, regions, previous } = this.setup;
    const { stack, progress } = this.deps;
    const touched = targets.map((name) => ({
      region: regions[this.request.plan.regions.indexOf(name)] as RegionTarget,
      previous: previous.get(name) as Deployment,
      replaced: this.replaced.has(name),
    }));
    // A hook that fails must not keep the regions from being put back.
    const lift = await this.deps.duringRollback?.(touched.map((t) => t.region)).catch((e: unknown) => {
      progress.warn(`during the rollback: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    });
    const candidateVersion = this.request.version;
    const mitigate = (admin: DataAdmin) => (t: TouchedRegion) =>
      mitigateRegion({
        admin,
        region: t.region,
        backup: this.backups.get(t.region.name),
        stableVersion: t.previous.version,
        candidateVersion,
        writes: store.acknowledgedWrites(t.region.name),
      });
    return rollBack(stack, touched, {
      health: this.request.plan.health,
      clock,
      progress,
      probes,
      ...(admin ? { mitigate: mitigate(admin) } : {}),
    }).finally(() => lift?.());
  }

  /** A region put back: no longer replaced, verified, backed up or running a canary. */
  private forget(name: string): void {
    this.rolledBack.add(name);
    this.ctx.canaryRunning.delete(name);
    this.replaced.delete(name);
    this.verified.delete(name);
    this.backups.delete(name);
  }

  /** What the waves (waves.ts) see of the rollout. */
  private waveContext(): WaveContext {
    const { request, deps, setup } = this;
    const candidate: Deployment = {
      version: request.version,
      failureRate: request.failureRate,
      ...(request.dataFault ? { dataFault: request.dataFault } : {}),
      ...(request.regression ? { regression: request.regression } : {}),
      ...(request.image ? { image: request.image } : {}),
    };
    const differential = deps.differential && {
      ...deps.differential,
      record: (r: readonly DifferentialResult[]) => void this.differential.push(...r),
    };
    return {
      stack: deps.stack,
      plan: request.plan,
      store: setup.store,
      traffic: setup.traffic,
      progress: deps.progress,
      signal: deps.signal,
      send: (event) => this.send(event),
      clock: setup.clock,
      probes: setup.probes,
      candidate,
      state: () => this.state,
      regionTarget: (name) => setup.regions[request.plan.regions.indexOf(name)] as RegionTarget,
      previous: (name) => setup.previous.get(name) as Deployment,
      markReplaced: (name) => void this.replaced.add(name),
      recordStage: (record) => void this.stages.push(record),
      detected: (ms) => {
        this.timeToDetectMs ??= ms;
      },
      canaryRunning: new Set(),
      prometheus: setup.prometheus,
      prometheusUrl: setup.prometheusUrl,
      ...(request.prediction ? { prediction: request.prediction.stages } : {}),
      ...(differential ? { differential } : {}),
      ...(deps.afterCanaryDeploy ? { afterCanaryDeploy: deps.afterCanaryDeploy } : {}),
      beforeCandidate: (region) => this.backUp(region),
    };
  }

  /** The region's database, backed up once before the candidate first reaches it. */
  private async backUp(region: RegionTarget): Promise<void> {
    const { admin, clock } = this.setup;
    if (!admin || this.backups.has(region.name)) return;
    const name = backupName(region.name, this.request.version, clock.now());
    const backup = await takeRegionBackup(admin, region, name, () => clock.now());
    this.backups.set(region.name, backup);
    this.deps.progress.info(
      `backed up ${region.name}'s database before ${this.request.version}: ` +
        `${backup.rows} rows, ${backup.bytes} bytes in ${backup.durationMs} ms`,
    );
  }

  async result(): Promise<RolloutResult> {
    const { request, setup, rollbacks } = this;
    const final = this.state as Final;
    const status = await this.deps.stack.status().catch(() => undefined);
    const endedAt = setup.clock.now();
    const first = rollbacks[0];
    const outcome = (name: string) =>
      this.rolledBack.has(name) ? 'rolled_back' : final.touched.includes(name) ? 'promoted' : 'untouched';
    return {
      version: request.version,
      failureRate: request.failureRate,
      strategy: request.plan.strategy,
      finalState: final.kind,
      startedAt: new Date(this.startedAt).toISOString(),
      endedAt: new Date(endedAt).toISOString(),
      durationMs: endedAt - this.startedAt,
      regions: setup.regions.map((r) => ({
        region: r.name,
        previous: setup.previous.get(r.name) as Deployment,
        finalVersion: status?.regions.find((s) => s.region === r.name)?.stable?.reportedVersion,
        outcome: outcome(r.name),
      })),
      timeline: this.timeline,
      stages: this.stages,
      differential: this.differential,
      rollback: {
        triggered: rollbacks.length > 0,
        reason: final.kind === 'FAILED' ? final.abortReason : final.kind === 'ROLLED_BACK' ? final.reason : null,
        failedRegion: final.kind === 'COMPLETED' ? null : final.failedRegion,
        verifications: this.verifications,
        problems: this.problems,
        scope: rollbackScope(final, rollbacks),
        regions: [...this.rolledBack],
        kept: final.kind === 'ROLLED_BACK' ? [...final.kept] : [],
        decisions: rollbacks,
      },
      mitigation: this.mitigation,
      timeToDetectMs: this.timeToDetectMs,
      // The first abort to its regions verified: what users waited on.
      timeToRollbackMs: first && first.ok && final.kind === 'ROLLED_BACK' ? first.durationMs : null,
      traffic: {
        sent: setup.traffic.stats.sent,
        skipped: setup.traffic.stats.skipped,
        acknowledgedWrites: setup.store.acknowledgedWrites().length,
        missingReads: setup.traffic.stats.missingReads,
        untimed: setup.traffic.stats.untimed,
        maxClientStallMs: setup.traffic.stats.maxClientStallMs,
      },
    };
  }
}

/** The ABORT an error in a wave raises: a signal, the infrastructure, or anything else. */
function abortOnError(e: unknown, signal: AbortSignal): RolloutEvent {
  if (signal.aborted) {
    const why = (signal.reason as Error | undefined)?.message ?? 'signal';
    return { type: 'ABORT', reason: `interrupted: ${why}`, cause: 'interrupted' };
  }
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof InfraError) return { type: 'ABORT', reason: `infrastructure: ${message}`, cause: 'infrastructure' };
  return { type: 'ABORT', reason: `error: ${message}`, cause: 'other' };
}

/** all: the final rollback, or any one, put back every touched region; region: only failing ones; null: none. */
function rollbackScope(final: Final, rollbacks: readonly RollbackRecord[]): 'all' | 'region' | null {
  if (final.kind === 'ROLLED_BACK') return final.scope;
  if (rollbacks.length === 0) return null;
  return rollbacks.some((r) => r.decision.scope === 'all') ? 'all' : 'region';
}

/**
 * The region services' /admin endpoints; without the stack's token, no backups (and a
 * warning), not a failed rollout.
 */
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
  const problem = m.problems.length > 0 ? `; PROBLEM: ${m.problems.join('; ')}` : '';
  const line = `${m.region} data: ${m.restored ? restoredWords(m) : intactWords(m)}${problem}`;
  if (m.problems.length > 0) progress.warn(line);
  else progress.info(line);
}

function intactWords(m: MitigationRecord): string {
  return `integrity check passed (${m.preDeployWritesChecked} pre-deploy rows intact): nothing to restore`;
}

function restoredWords(m: MitigationRecord): string {
  const readBack = m.preDeployWritesChecked - m.preDeployWritesMissing;
  return [
    `integrity check failed (${m.integrity?.problems.join('; ') ?? '?'}): ` +
      `restored the backup in ${m.restore?.durationMs ?? '?'} ms`,
    `${readBack} of ${m.preDeployWritesChecked} pre-deploy rows read back`,
    `${m.candidateWritesUndone} of ${m.candidateWritesAcknowledged} acknowledged candidate writes undone by the ` +
      `restore (${m.candidateWritesLostByCandidate} lost by the candidate itself)`,
  ].join('; ');
}

/** Every region the plan names must be one the stack runs; refused before anything is touched. */
function resolveRegions(stack: Stack, plan: RolloutPlan): RegionTarget[] {
  const known = stack.target.regions.map((r) => r.name).join(', ');
  return plan.regions.map((name, i) => {
    const region = stack.target.regions.find((r) => r.name === name);
    if (!region) {
      throw new UsageError([
        {
          source: 'configuration',
          path: `rollout.regions[${i}]`,
          rule: `${JSON.stringify(name)} is not a region of the stack (${known})`,
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

function regionOf(state: RolloutState): string | undefined {
  return 'region' in state ? state.region : 'failedRegion' in state ? state.failedRegion : undefined;
}

function timelineEntry(
  from: RolloutState,
  to: RolloutState,
  event: RolloutEvent,
  at: number,
  startedAt: number,
): TimelineEntry {
  const region = regionOf(to);
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
  const region = regionOf(to);
  const stage = 'stage' in to ? ` stage ${to.stage + 1}/${plan.stages.length} (${plan.stages[to.stage]?.weight}%)` : '';
  const reason = 'reason' in event ? `: ${event.reason}` : '';
  return `${from.kind} -> ${to.kind}${region ? ` ${region}` : ''}${stage}${reason}`;
}
