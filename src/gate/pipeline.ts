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
import { createRandom } from '../simulate/random.ts';
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
import { gateHistoryRecord, historyRunId, recordRun, runAccuracy } from './history.ts';
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
  /** 0 gate OPEN, 1 gate CLOSED, 3 the infrastructure failed part-way (the report says where). */
  exitCode: 0 | 1 | 3;
  infraFailure?: string;
}

export const BASELINE_SECONDS = 5;

export async function runGate(request: GateRequest, deps: GateDeps): Promise<GateOutcome> {
  const { progress, signal } = deps;
  const startedAt = deps.now();
  const runId = new Date(startedAt).toISOString();
  const config = request.plan ?? loadConfig(request.config, request.cwd, request.environment);
  refuseDemoKnobs(config, request.failureRate, request.regression);
  const failureRate = request.failureRate ?? 0;
  const home = projectDir(deps.env);
  const demoTarget = defaultStackTarget(home);
  const { experiments, note: suiteNote } = gateSuite(
    request,
    config,
    home,
    demoTarget.regions.map((r) => r.name),
  );
  const differential = differentialSetup(
    request,
    config,
    home,
    demoTarget.regions.map((r) => r.name),
  );
  requireDemoVersion(config, request.version);
  progress.step(
    `gate for ${request.version ?? 'your service at HEAD'}: ${experiments.length} experiment(s), then a ${config.rollout.strategy} rollout over ${config.rollout.regions.join(', ')}${config.environment ? ` (environment ${config.environment})` : ''}`,
  );

  const dockerVersion = await requireDocker();
  const timer = phaseTimer(deps.now);
  const run = await runTarget(config, { version: request.version, cwd: request.cwd }, demoTarget, { timer, progress });
  const { target, version, workload, prometheus } = run;
  let rolloutPlan = run.rolloutPlan;
  const stack = await ComposeStack.connect(target, { progress });
  const wardens = dockerWardens(target);
  const leftovers = await liftLeftovers({ stack, wardens, control: dockerControl, progress });
  const random = createRandom(request.seed);
  const notes: string[] = [
    ...leftovers.map((l) => `left by an earlier run: ${l}`),
    ...run.notes,
    ...(suiteNote ? [suiteNote] : []),
    ...('note' in differential ? [differential.note] : []),
  ];
  let results: ExperimentResult[] = [];
  let rollout: RolloutResult | null = null;
  let infraFailure: string | undefined;
  let live: LivePrediction | null = null;
  let closedByPrediction: string | undefined;
  let baselineVersion: string | null = null;
  let experimentsMs: number | null = null;
  let controls: ControlResult[] | null = null;
  try {
    progress.step('stack up');
    const up = await timer.time('stack_up', () => stack.up());
    deps.onStackUp?.();
    notes.push(...up.notes);
    await checkProbe(target, config.file);
    // Metrics promised but not served: the Prometheus checks would find nothing (exit 2).
    const metrics = await metricsNote(target);
    if (metrics) {
      notes.push(metrics);
      rolloutPlan = withoutPrometheus(rolloutPlan);
    }

    progress.step(`baseline: ${BASELINE_SECONDS} s of traffic on every region`);
    const judgement = suiteJudgement(config);
    const settled = await timer.time('baseline', () =>
      settledBaseline(
        () => measureBaseline(stack, BASELINE_SECONDS, 20, judgement.limits, () => random.next(), signal, workload),
        (problems) =>
          progress.warn(
            `baseline: ${problems}; measuring again (a stack just started on a busy host may still be warming up)`,
          ),
      ),
    );
    const { baseline } = settled;
    if (settled.attempts > 1)
      notes.push(
        `baseline measured ${settled.attempts} times: the first attempt(s) found errors on a stack just started`,
      );
    for (const b of baseline)
      notes.push(
        `baseline ${b.region} on ${b.version}: ${b.metrics.count} requests, error rate ${((b.metrics.errorRate ?? 0) * 100).toFixed(1)}%, p99 ${b.metrics.p99Ms?.toFixed(1) ?? '-'} ms${b.slow ? ` (slow: ${b.slow})` : ''}`,
      );
    baselineVersion = baseline.find((b) => b.region === config.rollout.regions[0])?.version ?? null;
    const unhealthy = baseline.filter((b) => b.problem);
    if (unhealthy.length > 0)
      throw new InfraError(
        'the stack is unhealthy before any fault',
        unhealthy.map((b) => `${b.region}: ${b.problem}`),
      );
    // A bad Prometheus query is a configuration error (exit 2): find it before the suite runs.
    if (rolloutPlan.analysis.sources.includes('prometheus') && prometheus.checks.length > 0) {
      const first = baseline[0];
      if (first)
        await preflight(prometheus, prometheusUrl(target), {
          region: first.region,
          version: first.version,
          canary_version: version,
          baseline_version: first.version,
          slot: 'stable',
        });
    }

    if (experiments.length > 0) {
      progress.step(`chaos suite: ${experiments.map((e) => e.name).join(', ')}`);
      const suiteStarted = deps.now();
      const suite = await timer.time('suite', () =>
        runSuite(experiments, {
          stack,
          control: dockerControl,
          progress,
          signal,
          seed: request.seed,
          judgement,
          prometheusUrl: prometheusUrl(target),
          wardens,
        }),
      );
      results = suite.results;
      experimentsMs = deps.now() - suiteStarted;
      if (suite.interrupted) signal.throwIfAborted();
      if (suite.infraFailure) throw new InfraError(`chaos suite stopped: ${suite.infraFailure}`);
    }

    if (config.predict.enabled) {
      const service = predictionService(target, run, config.rollout.regions);
      live = await timer.time('prediction', () =>
        livePrediction(
          {
            version,
            failureRate,
            rollout: config.rollout,
            predict: config.predict,
            seed: request.seed,
            cwd: request.cwd,
            experiments: results,
            ...(service ? { service } : {}),
          },
          { stack, progress, signal, random: () => random.next() },
        ),
      );
      signal.throwIfAborted();
      if (service)
        notes.push(
          `prediction's dependency model (from your dependencies file): ${describeGraph(live.prediction.dependencies.graph)}`,
        );
      const { risk, action } = live.prediction;
      progress.step(`prediction: risk ${risk.score}/100 (${risk.level}), ${action.action}: ${action.reason}`);
      if (action.action === 'close')
        closedByPrediction = `risk score ${risk.score} above predict.max_risk ${action.maxRisk}: closed before the rollout (${action.reason})`;
    }

    const failed = results.filter((r) => r.status !== 'PASS');
    if (closedByPrediction) {
      notes.push(`rollout skipped: ${closedByPrediction}`);
    } else if (failed.length > 0 && !config.gate.rolloutAfterFailedExperiments) {
      notes.push(
        `rollout skipped: ${failed.length} experiment(s) failed and gate.rollout_after_failed_experiments is false`,
      );
    } else {
      progress.step(`rollout of ${version}`);
      const plan = live ? predictedPlan(rolloutPlan, live.prediction) : rolloutPlan;
      const chaos =
        'experiments' in differential && differential.experiments.length > 0
          ? {
              differential: differentialHook(
                differential,
                {
                  stack,
                  control: dockerControl,
                  progress,
                  wardens,
                  token: target.service ? '' : await stack.faultToken(),
                  ...(workload ? { workload } : {}),
                },
                progress,
              ),
            }
          : {};
      controls = await gateControls(
        config,
        {
          stack,
          control: dockerControl,
          progress,
          signal,
          random: () => random.next(),
          plan,
          prometheus,
          ...(stack.probes ? { probes: stack.probes } : {}),
          ...(workload ? { workload } : {}),
        },
        timer,
        notes,
      );
      rollout = await timer.time('rollout', () =>
        runRollout(
          {
            version,
            failureRate,
            plan,
            prometheus,
            ...(request.regression ? { regression: request.regression } : {}),
            ...(run.candidateImage ? { image: run.candidateImage } : {}),
            ...(live ? { prediction: { stages: live.prediction.stages } } : {}),
          },
          {
            stack,
            progress,
            signal,
            random: () => random.next(),
            ...(stack.probes ? { probes: stack.probes } : {}),
            ...(workload ? { workload } : {}),
            ...chaos,
          },
        ),
      );
      signal.throwIfAborted();
    }
  } catch (e) {
    if (!(e instanceof InfraError)) throw e;
    infraFailure = [e.message, ...e.details].join('; ');
    progress.warn(`infrastructure failure: ${infraFailure}`);
  } finally {
    if (!request.keepStack)
      await timer
        .time('down', () => stack.down())
        .catch((e: unknown) => progress.warn(`stack down failed: ${e instanceof Error ? e.message : String(e)}`));
    else progress.info('stack left running (--keep-stack)');
  }

  const attributed = attributionNote(config.service, rollout?.stages ?? []);
  if (attributed) notes.push(attributed);
  if (infraFailure) notes.push(`infrastructure failure: ${infraFailure}`);
  let verdict = decideGate(results, rollout, {
    ...config.gate,
    requiredExperiments: [...config.gate.requiredExperiments],
  });
  if (closedByPrediction) verdict = closeGate(verdict, closedByPrediction);
  for (const finding of controlFindings(controls ?? [])) verdict = closeGate(verdict, finding);
  if (infraFailure) verdict = closeGate(verdict, `infrastructure failure: ${infraFailure}`);

  const prediction = live?.prediction ?? null;
  const record = gateHistoryRecord({
    runId: historyRunId(runId, deps.env ?? process.env),
    startedAt,
    endedAt: deps.now(),
    version,
    baselineVersion,
    gate: verdict.gate,
    regions: config.rollout.regions,
    preflightMs: live?.preflightMs ?? null,
    experimentsMs,
    experiments: experiments.length > 0 ? results : null,
    rollout,
    prediction,
  });
  const historyFile = resolve(request.cwd, config.predict.history.file);
  const recorded = await recordRun(historyFile, record, progress);
  const accuracy = runAccuracy(prediction, rollout);
  const report = buildReport({
    runId,
    commit: await commitOf(request.cwd, deps.env ?? process.env),
    version,
    failureRate,
    experiments: results,
    rollout,
    controls,
    gate: verdict,
    ...(live
      ? {
          prediction: predictionReport({
            prediction: live.prediction,
            preflight: { region: live.region, durationMs: live.preflightMs },
            stages: rollout?.stages ?? [],
            accuracy,
            history: {
              file: live.history.file,
              problems: live.history.problems,
              records: recorded ? [...live.history.records, record] : live.history.records,
              lastRuns: config.predict.history.runs,
            },
          }),
        }
      : {}),
    environment: {
      composeVersion: stack.cli.version,
      dockerVersion,
      node: process.version,
      injectionMethods: [...new Set(results.map((r) => r.fault.method))],
      notes,
      phases: timer.phases,
    },
  });
  const paths = await writeReports(resolve(request.cwd, request.reportDir), report);
  progress.step(`gate ${report.deploymentGate}: reports in ${request.reportDir}`);
  return {
    report,
    paths,
    exitCode: infraFailure ? 3 : report.deploymentGate === 'OPEN' ? 0 : 1,
    ...(infraFailure ? { infraFailure } : {}),
  };
}

/** The commit under test: GITHUB_SHA in the Action, else git in the workspace, else null. */
async function commitOf(cwd: string, env: Readonly<Record<string, string | undefined>>): Promise<string | null> {
  if (env.GITHUB_SHA) return env.GITHUB_SHA;
  const res = await execWrapper.exec('git', ['rev-parse', 'HEAD'], { cwd, timeoutMs: 5000 }).catch(() => undefined);
  return res?.exitCode === 0 ? res.stdout.trim() : null;
}
