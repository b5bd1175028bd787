import * as cache from '@actions/cache';
import * as core from '@actions/core';
import { loadConfig } from '../config/load.ts';
import { UsageError } from '../util/errors.ts';
import { EXIT } from '../gate/exit.ts';
import { historyFile } from '../gate/history.ts';
import { runGate, type GateOutcome } from '../gate/pipeline.ts';
import { headline } from '../report/headline.ts';
import { InfraError } from '../stack/errors.ts';
import { annotationOf } from './annotations.ts';
import { restoreHistoryFile, saveHistoryFile } from './history-cache.ts';
import { gateRequestOf, readInputs } from './inputs.ts';
import { actionIssue } from './issues.ts';
import { actionProgress } from './progress.ts';
import { writeSummary } from './summary.ts';

// The main step only orchestrates: typed inputs -> the gate pipeline (the same one the CLI
// runs) -> outputs, step summary, exit status. The user's files are relative to the
// workspace; the action's own files (compose, service, observability) to its own folder.
export async function run(): Promise<void> {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => controller.abort(new Error(`interrupted by ${signal}`));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const workspace = process.env.GITHUB_WORKSPACE ?? process.cwd();
  // Known once the config is read (with history-cache on): from then on the history is saved
  // whatever happens, so a run that ended in an error still keeps what was recorded.
  let historyToSave: string | undefined;
  try {
    // Untrimmed, so an input of only whitespace is refused rather than read as left out.
    const inputs = readInputs((name) => core.getInput(name, { trimWhitespace: false }));
    const request = gateRequestOf(inputs, workspace);
    // Read once, here, for the history file's path: the gate takes it as it is.
    const plan = loadConfig(request.config, workspace, request.environment);
    if (inputs.historyCache) {
      historyToSave = historyFile(plan, workspace);
      await restoreHistory(historyToSave);
    }
    const outcome = await runGate(
      { ...request, plan },
      {
        progress: actionProgress(),
        signal: controller.signal,
        now: Date.now,
        onStackUp: () => core.saveState('stackUp', inputs.keepStack ? 'kept' : 'true'),
      },
    );
    core.saveState('stackUp', inputs.keepStack ? 'kept' : 'false');
    await publish(outcome, inputs.failOnClosedGate);
  } catch (e) {
    fail(e, workspace);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (historyToSave !== undefined) await saveHistory(historyToSave);
  }
}

/** The outcome as the step's outputs, its summary and its status. */
async function publish(outcome: GateOutcome, failOnClosedGate: boolean): Promise<void> {
  const { report, paths } = outcome;
  core.setOutput('gate', report.deploymentGate);
  core.setOutput('overall', report.overall);
  core.setOutput('report-json', paths.json);
  core.setOutput('report-html', paths.html);
  core.setOutput('junit', paths.junit);
  core.setOutput('risk-score', report.prediction ? String(report.prediction.risk.score) : '');
  core.setOutput('prediction-action', report.prediction?.action.action ?? '');
  await writeSummary(paths.summary);
  if (outcome.exitCode === EXIT.infra) {
    core.setFailed(`infrastructure failure: ${outcome.infraFailure ?? ''}`);
  } else if (report.deploymentGate === 'CLOSED') {
    const { reasons, more } = headline(report);
    const and = more > 0 ? `; and ${more} more` : '';
    const why = `deployment gate CLOSED: ${reasons.map((f) => f.text).join('; ')}${and}`;
    if (failOnClosedGate) core.setFailed(why);
    else core.warning(why);
  } else core.info('deployment gate OPEN');
}

/**
 * Every failure fails the step. Bad input is an annotation per issue, naming the input or the
 * config file and line where the mistake was written, never a stack trace; an internal error
 * keeps its stack for the bug report.
 */
function fail(e: unknown, workspace: string): void {
  if (e instanceof UsageError) {
    for (const issue of e.issues.map(actionIssue)) {
      const { message, properties } = annotationOf(issue, workspace);
      core.error(message, properties);
    }
    core.setFailed(`bad input (${e.issues.length} problem(s)); nothing was run`);
  } else if (e instanceof InfraError) {
    core.setFailed(`infrastructure failure: ${[e.message, ...e.details].join('\n')}`);
  } else {
    core.setFailed(e instanceof Error ? (e.stack ?? e.message) : String(e));
  }
}

async function restoreHistory(file: string): Promise<void> {
  await core.group('restore the run history', () => restoreHistoryFile(file, cache, process.env, core));
}

/** The history is a convenience: not saving it is a warning, never a failed step. */
async function saveHistory(file: string): Promise<void> {
  try {
    await core.group('save the run history', () => saveHistoryFile(file, cache, process.env, core));
  } catch (e) {
    core.warning(
      `history: not saved (${e instanceof Error ? e.message : String(e)}): the next run starts without this one`,
    );
  }
}
