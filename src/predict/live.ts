import { setTimeout as sleep } from 'node:timers/promises';
import { resolve } from 'node:path';
import type { ExperimentResult } from '../chaos/result.ts';
import type { LoadProfile, PredictPlan } from './config.ts';
import { readHistory, type HistoryRead } from '../history/file.ts';
import type { HistoryRecord } from '../history/schema.ts';
import type { RolloutPlan } from '../plan/rollout.ts';
import { InfraError } from '../stack/errors.ts';
import type { Stack } from '../stack/stack.ts';
import { regionUrl, type ImageRef, type RegionTarget } from '../stack/target.ts';
import { TrafficGenerator } from '../traffic/generator.ts';
import type { RequestMix } from '../traffic/mix.ts';
import { ObservationStore } from '../traffic/store.ts';
import type { Workload } from '../traffic/workload.ts';
import type { DependencyGraph } from './dependencies.ts';
import type { Progress } from '../util/progress.ts';
import { cohortMeasurement, predict, type PredictInput, type Prediction, type PreflightMeasurement } from './index.ts';

// The live pre-flight, the I/O edge of predict/: the candidate runs as the pre-flight
// region's canary beside its stable version, both get the same synthetic load at each load
// profile, and the measurements, the history and the experiments go to the pure predict().
// The canary is removed on every exit path (an error, SIGINT/SIGTERM through the signal),
// because a leftover canary would skew the rollout that follows.

export interface LivePredictionRequest {
  version: string;
  failureRate: number;
  rollout: RolloutPlan;
  predict: PredictPlan;
  seed: number;
  /** Where a relative history file is resolved. */
  cwd: string;
  experiments?: readonly ExperimentResult[];
  /** A user's service: the candidate's image, its requests, and the graph of its dependencies file. */
  service?: { image: ImageRef; workload: Workload; dependencies: DependencyGraph };
}

export interface LivePredictionDeps {
  stack: Stack;
  progress: Progress;
  signal: AbortSignal;
  random: () => number;
}

export interface LivePrediction {
  prediction: Prediction;
  history: HistoryRead;
  region: string;
  preflightMs: number;
  measurements: PreflightMeasurement[];
}

/**
 * The profile's request mix: its write share, the rest split between reads of earlier writes
 * and health checks. Without writes there is nothing to read back, so the rest is health.
 */
export function profileMix(writeShare: number): RequestMix {
  if (writeShare <= 0) return { health: 1, write: 0, read: 0 };
  const rest = (1 - writeShare) / 2;
  return { health: rest, write: writeShare, read: rest };
}

export function preflightRegion(rollout: RolloutPlan, plan: PredictPlan): string {
  const region = plan.preflight.region ?? rollout.regions[0];
  if (region === undefined) throw new InfraError('no region to run the pre-flight in: rollout.regions is empty');
  return region;
}

export async function livePrediction(
  request: LivePredictionRequest,
  deps: LivePredictionDeps,
): Promise<LivePrediction> {
  const history = await readHistory(resolve(request.cwd, request.predict.history.file));
  for (const p of history.problems) deps.progress.warn(`history: ${p}`);
  const started = Date.now();
  const { region, measurements } = await runPreflight(request, deps);
  const preflightMs = Date.now() - started;
  const prediction = predict(predictionInput(request, measurements, history.records));
  return { prediction, history, region, preflightMs, measurements };
}

/**
 * What predict() gets from a live run: the request's plan, config and dependency model with what was measured. Pure.
 */
export function predictionInput(
  request: LivePredictionRequest,
  measurements: readonly PreflightMeasurement[],
  history: readonly HistoryRecord[],
): PredictInput {
  return {
    plan: request.rollout,
    preflight: measurements,
    history,
    ...(request.experiments ? { experiments: request.experiments } : {}),
    seed: request.seed,
    config: request.predict,
    // The configured model wins; a user's dependencies file gives it otherwise.
    dependencies:
      Object.keys(request.predict.dependencies).length > 0
        ? request.predict.dependencies
        : (request.service?.dependencies ?? {}),
  };
}

/** Candidate beside stable in one region, one window of synthetic load per profile. */
export async function runPreflight(
  request: LivePredictionRequest,
  deps: LivePredictionDeps,
): Promise<{ region: string; measurements: PreflightMeasurement[] }> {
  const { stack, progress, signal } = deps;
  const name = preflightRegion(request.rollout, request.predict);
  const region = stack.target.regions.find((r) => r.name === name);
  if (!region)
    throw new InfraError(
      `pre-flight region ${name} is not a region of the stack (${stack.target.regions.map((r) => r.name).join(', ')})`,
    );
  const status = (await stack.status()).regions.find((r) => r.region === name);
  const stable = status?.stable?.reportedVersion;
  if (stable === undefined)
    throw new InfraError(
      `pre-flight region ${name}: its stable service does not answer (is the stack up? run \`chaos-gate up\` first)`,
    );
  const { profiles, secondsPerProfile } = request.predict.preflight;
  progress.step(
    `pre-flight of ${request.version} beside ${stable} in ${name}: ` +
      `${profiles.map((p) => `${p.name} ${p.rps} rps`).join(', ')}, ${secondsPerProfile} s each`,
  );
  try {
    if (status?.canary) await stack.removeCanary(region);
    await stack.deploy(region, 'canary', {
      version: request.version,
      failureRate: request.failureRate,
      ...(request.service ? { image: request.service.image } : {}),
    });
    const measurements: PreflightMeasurement[] = [];
    for (const profile of profiles) {
      signal.throwIfAborted();
      const m = await measureProfile(
        stack,
        region,
        profile,
        secondsPerProfile,
        { candidate: request.version, stable },
        { ...deps, workload: request.service?.workload },
      );
      progress.info(
        `${profile.name}: candidate ${m.canary.count} requests, ${m.canary.errors} errors; ` +
          `stable ${m.baseline.count} requests, ${m.baseline.errors} errors`,
      );
      measurements.push(m);
    }
    return { region: name, measurements };
  } catch (e) {
    // An interrupted wait throws an AbortError; the signal's reason says which signal it was.
    throw signal.aborted ? signal.reason : e;
  } finally {
    await stack
      .removeCanary(region)
      .catch((e: unknown) =>
        progress.warn(
          `pre-flight canary in ${name} could not be removed: ${e instanceof Error ? e.message : String(e)}`,
        ),
      );
  }
}

async function measureProfile(
  stack: Stack,
  region: RegionTarget,
  profile: LoadProfile,
  seconds: number,
  versions: { candidate: string; stable: string },
  deps: LivePredictionDeps & { workload: Workload | undefined },
): Promise<PreflightMeasurement> {
  const store = new ObservationStore();
  const traffic = new TrafficGenerator({
    store,
    random: deps.random,
    mix: profileMix(profile.writeShare),
    maxDurationMs: (seconds + 10) * 1000,
    ...(deps.workload ? { workload: deps.workload } : {}),
  });
  traffic.setStreams([
    {
      region: region.name,
      cohort: 'baseline',
      version: versions.stable,
      baseUrl: regionUrl(stack.target, region),
      rps: profile.rps,
    },
    {
      region: region.name,
      cohort: 'canary',
      version: versions.candidate,
      baseUrl: regionUrl(stack.target, region, 'canary'),
      rps: profile.rps,
    },
  ]);
  const from = Date.now();
  traffic.start();
  try {
    // The load runs for the profile's duration: this is the measurement window, not a wait for readiness.
    await sleep(seconds * 1000, undefined, { signal: deps.signal });
  } finally {
    await traffic.close();
  }
  const to = Date.now();
  return {
    region: region.name,
    profile: profile.name,
    rps: profile.rps,
    writeShare: profile.writeShare,
    durationMs: to - from,
    canary: cohortMeasurement(versions.candidate, store.select({ cohort: 'canary' })),
    baseline: cohortMeasurement(versions.stable, store.select({ cohort: 'baseline' })),
  };
}
