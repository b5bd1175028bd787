import { faultAnnotation, grafanaAnnotator, type Annotator } from '../grafana/annotations.ts';
import type { ContainerControl } from '../stack/docker-control.ts';
import { InfraError } from '../stack/errors.ts';
import type { Stack } from '../stack/stack.ts';
import type { Wardens } from '../stack/warden.ts';
import { grafanaUrl } from '../stack/target.ts';
import type { Progress } from '../util/progress.ts';
import type { Experiment } from './experiment.ts';
import { resultLine } from './format.ts';
import { ensureHealthy } from './health.ts';
import type { JudgementConfig } from './measure.ts';
import type { ExperimentResult } from './result.ts';
import { runExperiment } from './runner.ts';

// The suite, one experiment after another on a stack checked healthy (or repaired) before
// each. A fault that could not be lifted, or a stack that cannot be repaired, ends the suite:
// nothing measured on a broken stack would mean anything.

export interface SuiteDeps {
  stack: Stack;
  control: ContainerControl;
  progress: Progress;
  signal: AbortSignal;
  seed: number;
  judgement: JudgementConfig;
  prometheusUrl?: string;
  /** Where fault windows are annotated; by default Grafana on the stack, when it answers. */
  annotator?: Annotator;
  /** Arms a warden for each fault (stack/warden.ts), so it lifts even if the gate dies. */
  wardens?: Wardens;
  /** The clock the experiments are timed by; Date.now when not given. */
  now?: () => number;
}

export interface SuiteOutcome {
  seed: number;
  results: ExperimentResult[];
  /** Why the suite stopped early because of the infrastructure (exit 3). */
  infraFailure?: string;
  interrupted: boolean;
}

export async function runSuite(experiments: readonly Experiment[], deps: SuiteDeps): Promise<SuiteOutcome> {
  const { stack, control, progress } = deps;
  // A user's service has no fault endpoint, so no token (its experiments inject from outside).
  const token = stack.target.service ? '' : await stack.faultToken();
  const results: ExperimentResult[] = [];
  const annotator = deps.annotator ?? (await grafanaAnnotator(grafanaUrl(stack.target), progress));
  try {
    await clearLeftoverDelays(stack, control);
    return await runEach(experiments, deps, token, results, annotator);
  } finally {
    await annotator.flush();
  }
}

async function runEach(
  experiments: readonly Experiment[],
  deps: SuiteDeps,
  token: string,
  results: ExperimentResult[],
  annotator: Annotator,
): Promise<SuiteOutcome> {
  const { stack, control, progress, signal } = deps;
  for (const experiment of experiments) {
    if (signal.aborted) break;
    try {
      const repairs = await ensureHealthy(stack, control, token, stack.target.regions, progress);
      if (repairs.length > 0)
        progress.warn(`the stack needed repairs before ${experiment.name}: ${repairs.join('; ')}`);
    } catch (e) {
      if (!(e instanceof InfraError)) throw e;
      return {
        seed: deps.seed,
        results,
        interrupted: signal.aborted,
        infraFailure: `before ${experiment.name}: ${e.message}: ${e.details.join('; ')}`,
      };
    }
    const result = await runUntilEffect(
      () => runExperiment(experiment, { ...deps, token }),
      (line) => progress.warn(line),
      signal,
    );
    results.push(result);
    // The window is annotated once it is known, so the dashboard shows why the lines moved.
    if (result.faultWindow.toMs > result.faultWindow.fromMs) annotator.annotate(faultAnnotation(result));
    progress.step(resultLine(result));
    if (!result.reverted) {
      return {
        seed: deps.seed,
        results,
        interrupted: signal.aborted,
        infraFailure: `${experiment.name}: the fault could not be lifted or the stack not repaired afterwards`,
      };
    }
  }
  return { seed: deps.seed, results, interrupted: signal.aborted };
}

/**
 * A fault that did not take effect (a busy loop starved by a loaded host, say) is run once more; a second miss is
 * could not run, with both attempts' evidence. A fault that could not be lifted is never retried.
 */
export async function runUntilEffect(
  run: () => Promise<ExperimentResult>,
  warn: (line: string) => void,
  signal: AbortSignal,
): Promise<ExperimentResult> {
  const first = await run();
  if (first.faultEffect?.tookEffect !== false || !first.reverted || signal.aborted) return first;
  const missed = first.error ?? 'the fault had no measurable effect';
  warn(`${first.name}: ${missed}; running it again`);
  const second = await run();
  const notes = [`attempt 1 of 2 could not run: ${missed}`, ...(second.notes ?? [])];
  if (second.faultEffect?.tookEffect !== false) return { ...second, notes };
  return { ...second, notes, error: `no measurable effect in 2 attempts: ${second.error ?? ''}` };
}

/** A netem delay survives the process that added it; one left by a run killed outright is removed here. */
async function clearLeftoverDelays(stack: Stack, control: ContainerControl): Promise<void> {
  const services = new Set(stack.target.regions.map((r) => r.service));
  const running = (await stack.containers()).filter(
    (c) => services.has(c.service) && c.state === 'running' && c.pid > 1,
  );
  await Promise.all(running.map((c) => control.clearDelay(c.pid).catch(() => undefined)));
}
