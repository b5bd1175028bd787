import { runGate, type GateRequest } from '../../gate/pipeline.ts';
import type { Regression } from '../../stack/target.ts';
import type { CommandContext } from '../main.ts';

export interface GateCommand {
  /** Required for the demo; a user's service defaults to its short commit. */
  version?: string;
  /** The demo's knob; undefined when not given. */
  failureRate?: number;
  config?: string;
  environment?: string;
  reportDir: string;
  only?: string[];
  experiments?: string;
  seed: number;
  keepStack: boolean;
  /** The demo's candidate restarts slowly after a crash (REGRESSION); refused with a user's service. */
  regression?: Regression;
}

/** The pipeline: the real gate, or a test's. */
export interface GateCommandDeps {
  runGate: typeof runGate;
}

const liveDeps: GateCommandDeps = { runGate };

/**
 * The command as the pipeline's request, every field named: a spread of the command, or of
 * conditional objects, escapes the excess-property check, so a renamed field (`experiments`
 * vs `experimentsDir`) dropped out silently.
 */
function gateRequest(command: GateCommand, cwd: string): GateRequest {
  return {
    version: command.version,
    failureRate: command.failureRate,
    config: command.config,
    environment: command.environment,
    reportDir: command.reportDir,
    only: command.only,
    experimentsDir: command.experiments,
    seed: command.seed,
    keepStack: command.keepStack,
    regression: command.regression,
    cwd,
  };
}

export async function runGateCommand(
  command: GateCommand,
  ctx: CommandContext,
  deps: GateCommandDeps = liveDeps,
): Promise<number> {
  const request = gateRequest(command, process.cwd());
  const outcome = await deps.runGate(request, { progress: ctx.progress, signal: ctx.signal, now: ctx.now });
  const { report, paths } = outcome;
  const { prediction } = report;
  ctx.out(
    [
      `deployment gate: ${report.deploymentGate} (overall ${report.overall})`,
      ...report.gate.reasons.map((r) => `  - ${r}`),
      ...(prediction
        ? [`prediction: risk ${prediction.risk.score}/100 (${prediction.risk.level}), ${prediction.action.action}`]
        : []),
      '',
      `report:  ${paths.html}`,
      `json:    ${paths.json}`,
      `junit:   ${paths.junit}`,
      `summary: ${paths.summary}`,
    ].join('\n'),
  );
  return outcome.exitCode;
}
