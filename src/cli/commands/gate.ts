import { runGate } from '../../gate/pipeline.ts';
import type { CommandContext } from '../main.ts';

export interface GateCommand {
  version: string;
  failureRate: number;
  config?: string;
  environment?: string;
  reportDir: string;
  only?: string[];
  experiments?: string;
  seed: number;
  keepStack: boolean;
}

export async function runGateCommand(command: GateCommand, ctx: CommandContext): Promise<number> {
  const outcome = await runGate({ ...command, cwd: process.cwd() }, { progress: ctx.progress, signal: ctx.signal, now: Date.now });
  const { report, paths } = outcome;
  ctx.out([
    `deployment gate: ${report.deploymentGate.status} (overall ${report.overall})`,
    ...report.deploymentGate.reasons.map((r) => `  - ${r}`),
    ...(report.prediction ? [`prediction: risk ${report.prediction.risk.score}/100 (${report.prediction.risk.level}), ${report.prediction.action.action}`] : []),
    '',
    `report:  ${paths.html}`,
    `json:    ${paths.json}`,
    `junit:   ${paths.junit}`,
    `summary: ${paths.summary}`,
  ].join('\n'));
  return outcome.exitCode;
}
