import { resolve } from 'node:path';
import type { ExperimentResult } from '../chaos/result.ts';
import { liftLeftovers } from '../chaos/leftovers.ts';
import { runSuite } from '../chaos/suite.ts';
import { loadConfig, type LoadedConfig } from '../config/load.ts';
import { preflight } from '../prometheus/live.ts';
import { livePrediction, type LivePrediction } from '../predict/live.ts';
import { predictedPlan } from '../predict/index.ts';
import { buildReport, type Report } from '../report/model.ts';
import { predictionReport } from '../report/prediction.ts';
import { closeGate, decideGate } from '../report/verdict.ts';
import { writeReports, type ReportPaths } from '../report/write.ts';
import { describeGraph } from '../predict/dependencies.ts';
import { runRollout } from '../rollout/controller.ts';
import type { RolloutResult } from '../rollout/result.ts';
import { createRandom } from '../util/random.ts';
import { ComposeStack } from '../stack/compose-stack.ts';
import { dockerControl } from '../stack/docker-control.ts';
import { requireDocker } from '../stack/docker.ts';
import { InfraError } from '../stack/errors.ts';
import { defaultStackTarget, prometheusUrl, type Regression } from '../stack/target.ts';
import { execWrapper } from '../stack/exec.ts';
import { dockerWardens } from '../stack/warden.ts';
import { projectDir } from '../util/paths.ts';
import { phaseTimer } from '../util/phases.ts';
import type { Progress } from '../util/progress.ts';
import { measureBaseline, settledBaseline } from './baseline.ts';
import { gateHistoryRecord, historyFile, historyRunId, recordRun, runAccuracy } from './history.ts';
import {
  attributionNote,
  checkProbe,
  metricsNote,
  predictionService,
  refuseDemoKnobs,
  requireDemoVersion,
  runTarget,
  withoutPrometheus,
} from './service.ts';
import { differentialHook, differentialSetup } from './differential.ts';
import { gateControls } from './controls.ts';
import { controlFindings, type ControlResult } from '../rollout/control-verdict.ts';
import { gateSuite, suiteJudgement } from './suite.ts';
import type { Experiment } from '../chaos/experiment.ts';
import type { JudgementConfig } from '../chaos/measure.ts';
import type { HistoryRecord } from '../history/schema.ts';
import type { RolloutPlan } from '../plan/rollout.ts';
import type { Random } from '../util/random.ts';
import type { StackTarget } from '../stack/target.ts';
import type { Wardens } from '../stack/warden.ts';
import type { PhaseTimer } from '../util/phases.ts';
import type { GateVerdict } from '../report/verdict.ts';
import type { RegionBaseline } from './baseline.ts';
import type { DifferentialSetup } from './differential.ts';
import type { RunTarget } from './service.ts';
import { gateExitCode } from './exit.ts';

// The whole gate, one pipeline for the CLI and the Action:
// config -> stack up -> baseline -> chaos suite -> prediction -> rollout -> verdict -> history
// -> reports -> stack down. The prediction comes after the suite so that failed experiments
// raise the risk; a risk above predict.max_risk closes the gate or shrinks the first tiers.
// Everything the user wrote is validated before the stack is touched; the stack comes down
// at the end whatever happened (an error, SIGINT/SIGTERM), unless keepStack.

export interface GateRequest {
  /** The candidate's label; with a user's service optional (default: its short commit). */
  version?: string | undefined;
  /** The demo's knob; undefined: not given (0 for the demo, refused with a user's service). */
  failureRate?: number | undefined;
  /** The demo's resilience regression in the candidate (--regression); refused with a user's service. */
  regression?: Regression | undefined;
  /** Relative to cwd; chaos-gate.yml in cwd when undefined. */
  config?: string | undefined;
  environment?: string | undefined;
  reportDir: string;
  /** Experiments to run; undefined: the config's selection or the whole suite; []: none. */
  only?: readonly string[] | undefined;
  experimentsDir?: string | undefined;
  seed: number;
  keepStack: boolean;
  /** The user's workspace: config, experiments and reports are relative to it. */
  cwd: string;
  /** The configuration already loaded from `config` (the Action reads it first, for the history's path). */
  plan?: LoadedConfig | undefined;
}

export interface GateDeps {
  progress: Progress;
  signal: AbortSignal;
  now: () => number;
  env?: Readonly<Record<string, string | undefined>>;
  /** Called once the stack is up (the Action saves state for its post step). */
  onStackUp?: () => void;
}

export interface GateOutcome {
  report: Report;
  paths: ReportPaths;
  /** gateExitCode: 0 gate OPEN, 1 gate CLOSED, 3 the infrastructure failed part-way (the report says where). */
  exitCode: 0 | 1 | 3;
  infraFailure?: string;
}

export const BASELINE_SECONDS = 5;

export async function runGate(request: GateRequest, deps: GateDeps): Promise<GateOutcome> {
  const startedAt = deps.now();
  const runId = new Date(startedAt).toISOString();
  const plan = planGate(request, deps.env);
  deps.progress.step(gateHeadline(request, plan));
  const dockerVersion = await requireDocker();
  const ctx = await connectGate(request, deps, plan);
  const found = await runPhases(ctx);
  ctx.notes.push(...closingNotes(plan.config, found));
  const verdict = gateVerdict(plan.config, found);
  const history = await recordHistory(ctx, found, verdict, { runId, startedAt });
  const commit = await commitOf(request.cwd, deps.env ?? process.env);
  const report = gateReport(ctx, found, verdict, history, { runId, commit, dockerVersion });
  const paths = await writeReports(resolve(request.cwd, request.reportDir), report);
  deps.progress.step(`gate ${report.deploymentGate}: reports in ${request.reportDir}`);
  const { infraFailure } = found;
  return {
    report,
    paths,
    exitCode: gateExitCode(report.deploymentGate, infraFailure),
    ...(infraFailure ? { infraFailure } : {}),
  };
}

/** What the gate will run, from the request and the configuration alone: known before the stack is touched. */
interface GatePlan {
  config: LoadedConfig;
  failureRate: number;
  demoTarget: StackTarget;
  experiments: Experiment[];
  differential: DifferentialSetup | { note: string };
  /** Why part of the suite or the chaos on the candidate will not run. */
  notes: string[];
}

/** The gate once its stack is known: what every phase works with. */
interface GateContext {
  request: GateRequest;
  deps: GateDeps;
  plan: GatePlan;
  run: RunTarget;
  stack: ComposeStack;
  wardens: Wardens;
  timer: PhaseTimer;
  random: Random;
  /** The report's notes, in the order the run met them. */
  notes: string[];
  /** The rollout's plan; without Prometheus when the metrics it promised are not served. */
  rolloutPlan: RolloutPlan;
}

/** What the phases found; each stays as it was when a phase did not run or an infrastructure failure ended them. */
interface GateFindings {
  results: ExperimentResult[];
  experimentsMs: number | null;
  baselineVersion: string | null;
  live: LivePrediction | null;
  closedByPrediction?: string;
  controls: ControlResult[] | null;
  rollout: RolloutResult | null;
  infraFailure?: string;
}

/** Everything the user wrote, validated (exit 2) before the stack is touched. */
function planGate(request: GateRequest, env: GateDeps['env']): GatePlan {
  const config = request.plan ?? loadConfig(request.config, request.cwd, request.environment);
  refuseDemoKnobs(config, request.failureRate, request.regression);
  const home = projectDir(env);
  const demoTarget = defaultStackTarget(home);
  const regions = demoTarget.regions.map((r) => r.name);
  const suite = gateSuite(request, config, home, regions);
  const differential = differentialSetup(request, config, home, regions);
  requireDemoVersion(config, request.version);
  return {
    config,
    failureRate: request.failureRate ?? 0,
    demoTarget,
    experiments: suite.experiments,
    differential,
    notes: [...(suite.note ? [suite.note] : []), ...('note' in differential ? [differential.note] : [])],
  };
}

function gateHeadline(request: GateRequest, plan: GatePlan): string {
  const { rollout, environment } = plan.config;
  return (
    `gate for ${request.version ?? 'your service at HEAD'}: ${plan.experiments.length} experiment(s), ` +
    `then a ${rollout.strategy} rollout over ${rollout.regions.join(', ')}` +
    (environment ? ` (environment ${environment})` : '')
  );
}

/** The target built or pulled, its stack connected, and the faults a dead run left lifted. */
async function connectGate(request: GateRequest, deps: GateDeps, plan: GatePlan): Promise<GateContext> {
  const { progress } = deps;
  const timer = phaseTimer(deps.now);
  const target = { version: request.version, cwd: request.cwd };
  const run = await runTarget(plan.config, target, plan.demoTarget, { timer, progress });
  const stack = await ComposeStack.connect(run.target, { progress });
  const wardens = dockerWardens(run.target);
  const leftovers = await liftLeftovers({ stack, wardens, control: dockerControl, progress });
  const notes = [...leftovers.map((l) => `left by an earlier run: ${l}`), ...run.notes, ...plan.notes];
  const random = createRandom(request.seed);
  return { request, deps, plan, run, stack, wardens, timer, random, notes, rolloutPlan: run.rolloutPlan };
}

/**
 * Stack up -> baseline -> chaos suite -> prediction -> rollout. An infrastructure failure ends
 * the phases (the report says where); the stack comes down whatever happened, unless keepStack.
 */
async function runPhases(ctx: GateContext): Promise<GateFindings> {
  const found: GateFindings = {
    results: [],
    experimentsMs: null,
    baselineVersion: null,
    live: null,
    controls: null,
    rollout: null,
  };
  try {
    await stackUp(ctx);
    const judgement = suiteJudgement(ctx.plan.config);
    const baseline = await baselinePhase(ctx, judgement, found);
    await checkQueries(ctx, baseline);
    await suitePhase(ctx, judgement, found);
    await predictPhase(ctx, found);
    await rolloutPhase(ctx, found);
  } catch (e) {
    if (!(e instanceof InfraError)) throw e;
    found.infraFailure = [e.message, ...e.details].join('; ');
    ctx.deps.progress.warn(`infrastructure failure: ${found.infraFailure}`);
  } finally {
    await stackDown(ctx);
  }
  return found;
}

async function stackUp(ctx: GateContext): Promise<void> {
  const { deps, timer, stack, notes, run } = ctx;
  deps.progress.step('stack up');
  const up = await timer.time('stack_up', () => stack.up());
  deps.onStackUp?.();
  notes.push(...up.notes);
  await checkProbe(run.target, ctx.plan.config.file);
  // Metrics promised but not served: the Prometheus checks would find nothing (exit 2).
  const metrics = await metricsNote(run.target);
  if (metrics) {
    notes.push(metrics);
    ctx.rolloutPlan = withoutPrometheus(ctx.rolloutPlan);
  }
}

/** Traffic on every region before any fault: a region unhealthy already is an infrastructure failure. */
async function baselinePhase(
  ctx: GateContext,
  judgement: JudgementConfig,
  found: GateFindings,
): Promise<RegionBaseline[]> {
  const { deps, timer, stack, notes, random, run } = ctx;
  const { progress, signal } = deps;
  progress.step(`baseline: ${BASELINE_SECONDS} s of traffic on every region`);
  const measure = () =>
    measureBaseline(stack, BASELINE_SECONDS, 20, judgement.limits, () => random.next(), signal, run.workload);
  const again = (problems: string) =>
    progress.warn(
      `baseline: ${problems}; measuring again (a stack just started on a busy host may still be warming up)`,
    );
  const settled = await timer.time('baseline', () => settledBaseline(measure, again));
  const { baseline } = settled;
  if (settled.attempts > 1)
    notes.push(
      `baseline measured ${settled.attempts} times: the first attempt(s) found errors on a stack just started`,
    );
  notes.push(...baseline.map(baselineNote));
  found.baselineVersion = baseline.find((b) => b.region === ctx.plan.config.rollout.regions[0])?.version ?? null;
  const unhealthy = baseline.filter((b) => b.problem);
  if (unhealthy.length > 0)
    throw new InfraError(
      'the stack is unhealthy before any fault',
      unhealthy.map((b) => `${b.region}: ${b.problem}`),
    );
  return baseline;
}

function baselineNote(b: RegionBaseline): string {
  const errorRate = ((b.metrics.errorRate ?? 0) * 100).toFixed(1);
  const slow = b.slow ? ` (slow: ${b.slow})` : '';
  return (
    `baseline ${b.region} on ${b.version}: ${b.metrics.count} requests, error rate ${errorRate}%, ` +
    `p99 ${b.metrics.p99Ms?.toFixed(1) ?? '-'} ms${slow}`
  );
}

/** A bad Prometheus query is a configuration error (exit 2): found before the suite runs. */
async function checkQueries(ctx: GateContext, baseline: readonly RegionBaseline[]): Promise<void> {
  const { prometheus, target, version } = ctx.run;
  const first = baseline[0];
  if (!ctx.rolloutPlan.analysis.sources.includes('prometheus') || prometheus.checks.length === 0 || !first) return;
  await preflight(prometheus, prometheusUrl(target), {
    region: first.region,
    version: first.version,
    canary_version: version,
    baseline_version: first.version,
    slot: 'stable',
  });
}

async function suitePhase(ctx: GateContext, judgement: JudgementConfig, found: GateFindings): Promise<void> {
  const { experiments } = ctx.plan;
  if (experiments.length === 0) return;
  const { deps, timer, stack, wardens, request } = ctx;
  const { progress, signal } = deps;
  progress.step(`chaos suite: ${experiments.map((e) => e.name).join(', ')}`);
  const started = deps.now();
  const suite = await timer.time('suite', () =>
    runSuite(experiments, {
      stack,
      control: dockerControl,
      progress,
      signal,
      seed: request.seed,
      judgement,
      prometheusUrl: prometheusUrl(ctx.run.target),
      wardens,
      now: deps.now,
    }),
  );
  found.results = suite.results;
  found.experimentsMs = deps.now() - started;
  if (suite.interrupted) signal.throwIfAborted();
  if (suite.infraFailure) throw new InfraError(`chaos suite stopped: ${suite.infraFailure}`);
}

/** The risk of the rollout, after the suite so that failed experiments raise it. */
async function predictPhase(ctx: GateContext, found: GateFindings): Promise<void> {
  const { config, failureRate } = ctx.plan;
  if (!config.predict.enabled) return;
  const { deps, timer, stack, run, random, request } = ctx;
  const { progress, signal } = deps;
  const service = predictionService(run.target, run, config.rollout.regions);
  const predictionRequest = {
    version: run.version,
    failureRate,
    rollout: config.rollout,
    predict: config.predict,
    seed: request.seed,
    cwd: request.cwd,
    experiments: found.results,
    ...(service ? { service } : {}),
  };
  const live = await timer.time('prediction', () =>
    livePrediction(predictionRequest, { stack, progress, signal, random: () => random.next() }),
  );
  found.live = live;
  signal.throwIfAborted();
  if (service) {
    const graph = describeGraph(live.prediction.dependencies.graph);
    ctx.notes.push(`prediction's dependency model (from your dependencies file): ${graph}`);
  }
  const { risk, action } = live.prediction;
  progress.step(`prediction: risk ${risk.score}/100 (${risk.level}), ${action.action}: ${action.reason}`);
  if (action.action === 'close')
    found.closedByPrediction =
      `risk score ${risk.score} above predict.max_risk ${action.maxRisk}: ` +
      `closed before the rollout (${action.reason})`;
}

/** Why the rollout does not run, or undefined when it does. */
function rolloutSkipped(config: LoadedConfig, found: GateFindings): string | undefined {
  if (found.closedByPrediction) return found.closedByPrediction;
  const failed = found.results.filter((r) => r.status !== 'PASS');
  if (failed.length > 0 && !config.gate.rolloutAfterFailedExperiments)
    return `${failed.length} experiment(s) failed and gate.rollout_after_failed_experiments is false`;
  return undefined;
}

/** The controls, then the rollout of the candidate (with chaos on it when there is any). */
async function rolloutPhase(ctx: GateContext, found: GateFindings): Promise<void> {
  const { config, failureRate } = ctx.plan;
  const skipped = rolloutSkipped(config, found);
  if (skipped) {
    ctx.notes.push(`rollout skipped: ${skipped}`);
    return;
  }
  const { deps, timer, stack, run, random, request } = ctx;
  const { progress, signal } = deps;
  progress.step(`rollout of ${run.version}`);
  const plan = found.live ? predictedPlan(ctx.rolloutPlan, found.live.prediction) : ctx.rolloutPlan;
  const chaos = await candidateChaos(ctx);
  const probes = stack.probes ? { probes: stack.probes } : {};
  const workload = run.workload ? { workload: run.workload } : {};
  const live = { stack, progress, signal, random: () => random.next(), ...probes, ...workload };
  found.controls = await gateControls(
    config,
    {
      ...live,
      control: dockerControl,
      plan,
      prometheus: run.prometheus,
      token: run.target.service ? '' : await stack.faultToken(),
    },
    timer,
    ctx.notes,
  );
  const rolloutRequest = {
    version: run.version,
    failureRate,
    plan,
    prometheus: run.prometheus,
    ...(request.regression ? { regression: request.regression } : {}),
    ...(run.candidateImage ? { image: run.candidateImage } : {}),
    ...(found.live ? { prediction: { stages: found.live.prediction.stages } } : {}),
  };
  found.rollout = await timer.time('rollout', () => runRollout(rolloutRequest, { ...live, ...chaos }));
  signal.throwIfAborted();
}

/** The rollout's hook for chaos on the candidate, when the plan has experiments for it. */
async function candidateChaos(ctx: GateContext): Promise<{ differential?: ReturnType<typeof differentialHook> }> {
  const { differential } = ctx.plan;
  if (!('experiments' in differential) || differential.experiments.length === 0) return {};
  const { stack, wardens, run } = ctx;
  const { progress } = ctx.deps;
  const env = {
    stack,
    control: dockerControl,
    progress,
    wardens,
    token: run.target.service ? '' : await stack.faultToken(),
    ...(run.workload ? { workload: run.workload } : {}),
  };
  return { differential: differentialHook(differential, env, progress) };
}

async function stackDown(ctx: GateContext): Promise<void> {
  const { progress } = ctx.deps;
  if (ctx.request.keepStack) {
    progress.info('stack left running (--keep-stack)');
    return;
  }
  await ctx.timer
    .time('down', () => ctx.stack.down())
    .catch((e: unknown) => progress.warn(`stack down failed: ${e instanceof Error ? e.message : String(e)}`));
}

/** The notes only the end of the run knows: errors by hop, and an infrastructure failure. */
function closingNotes(config: LoadedConfig, found: GateFindings): string[] {
  const attributed = attributionNote(config.service, found.rollout?.stages ?? []);
  return [
    ...(attributed ? [attributed] : []),
    ...(found.infraFailure ? [`infrastructure failure: ${found.infraFailure}`] : []),
  ];
}

/** The experiments and the rollout decide; the prediction, a failed control or the infrastructure can close. */
function gateVerdict(config: LoadedConfig, found: GateFindings): GateVerdict {
  let verdict = decideGate(found.results, found.rollout, {
    ...config.gate,
    requiredExperiments: [...config.gate.requiredExperiments],
  });
  if (found.closedByPrediction) verdict = closeGate(verdict, found.closedByPrediction);
  for (const finding of controlFindings(found.controls ?? [])) verdict = closeGate(verdict, finding);
  if (found.infraFailure) verdict = closeGate(verdict, `infrastructure failure: ${found.infraFailure}`);
  return verdict;
}

interface RecordedRun {
  record: HistoryRecord;
  /** Whether the record reached the history file. */
  recorded: boolean;
}

async function recordHistory(
  ctx: GateContext,
  found: GateFindings,
  verdict: GateVerdict,
  started: { runId: string; startedAt: number },
): Promise<RecordedRun> {
  const { deps, request, plan, run } = ctx;
  const { config } = plan;
  const record = gateHistoryRecord({
    runId: historyRunId(started.runId, deps.env ?? process.env),
    startedAt: started.startedAt,
    endedAt: deps.now(),
    version: run.version,
    baselineVersion: found.baselineVersion,
    gate: verdict.gate,
    regions: config.rollout.regions,
    preflightMs: found.live?.preflightMs ?? null,
    experimentsMs: found.experimentsMs,
    experiments: plan.experiments.length > 0 ? found.results : null,
    rollout: found.rollout,
    prediction: found.live?.prediction ?? null,
  });
  const recorded = await recordRun(historyFile(config, request.cwd), record, deps.progress);
  return { record, recorded };
}

function gateReport(
  ctx: GateContext,
  found: GateFindings,
  verdict: GateVerdict,
  history: RecordedRun,
  run: { runId: string; commit: string | null; dockerVersion: string },
): Report {
  const { results } = found;
  return buildReport({
    runId: run.runId,
    commit: run.commit,
    version: ctx.run.version,
    failureRate: ctx.plan.failureRate,
    experiments: results,
    rollout: found.rollout,
    controls: found.controls,
    gate: verdict,
    ...predictionSection(ctx.plan.config, found, history),
    environment: {
      composeVersion: ctx.stack.cli.version,
      dockerVersion: run.dockerVersion,
      node: process.version,
      injectionMethods: [...new Set(results.map((r) => r.fault.method))],
      notes: ctx.notes,
      phases: ctx.timer.phases,
    },
  });
}

/** The report's prediction: what was predicted, how it compares with the rollout, and the history it drew on. */
function predictionSection(
  config: LoadedConfig,
  found: GateFindings,
  history: RecordedRun,
): { prediction?: ReturnType<typeof predictionReport> } {
  const { live, rollout } = found;
  if (!live) return {};
  const { records, file, problems } = live.history;
  return {
    prediction: predictionReport({
      prediction: live.prediction,
      preflight: { region: live.region, durationMs: live.preflightMs },
      stages: rollout?.stages ?? [],
      accuracy: runAccuracy(live.prediction, rollout),
      history: {
        file,
        problems,
        records: history.recorded ? [...records, history.record] : records,
        lastRuns: config.predict.history.runs,
      },
    }),
  };
}

/** The commit under test: GITHUB_SHA in the Action, else git in the workspace, else null. */
async function commitOf(cwd: string, env: Readonly<Record<string, string | undefined>>): Promise<string | null> {
  if (env.GITHUB_SHA) return env.GITHUB_SHA;
  const res = await execWrapper.exec('git', ['rev-parse', 'HEAD'], { cwd, timeoutMs: 5000 }).catch(() => undefined);
  return res?.exitCode === 0 ? res.stdout.trim() : null;
}
