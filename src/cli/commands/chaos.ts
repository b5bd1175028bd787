import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { TABLE_HEADER, tableRow } from '../../chaos/format.ts';
import type { ExperimentResult } from '../../chaos/result.ts';
import { runSuite, suiteExitCode, type SuiteOutcome } from '../../chaos/suite.ts';
import { loadConfig } from '../../config/load.ts';
import { fitSuite, selectSuite, suiteJudgement } from '../../gate/suite.ts';
import { toJsonText } from '../../util/json-text.ts';
import type { ComposeStack } from '../../stack/compose-stack.ts';
import { dockerControl } from '../../stack/docker-control.ts';
import { defaultStackTarget, prometheusUrl } from '../../stack/target.ts';
import { projectDir } from '../../util/paths.ts';
import type { CommandContext } from '../main.ts';
import { formatTable } from '../output.ts';
import { dockerWardens } from '../../stack/warden.ts';
import { clearLeftovers, openStack } from './stack.ts';

export interface ChaosCommand {
  only?: string[];
  experiments?: string;
  config?: string;
  environment?: string;
  seed?: number;
  json: boolean;
}

export const CHAOS_RESULT_FILE = 'reports/chaos.json';

/** What reports/chaos.json and --json hold (snake_case on disk). */
export interface ChaosReport {
  seed: number;
  status: 'PASS' | 'FAIL' | 'ERROR';
  startedAt: string;
  durationMs: number;
  experiments: ExperimentResult[];
  infraFailure?: string;
  interrupted?: boolean;
}

export async function runChaos(command: ChaosCommand, ctx: CommandContext): Promise<number> {
  const home = projectDir();
  const cwd = process.cwd();
  // The config and every experiment file are validated before the stack is touched (exit 2).
  const config = loadConfig(command.config, cwd, command.environment);
  const regions = defaultStackTarget(home).regions.map((r) => r.name);
  const suite = selectSuite({ cwd, only: command.only, experimentsDir: command.experiments }, config, home, regions);
  // `chaos` runs on the demo's stack: its experiments must fit the demo.
  const { dir } = suite;
  const experiments = fitSuite(suite.experiments, { kind: 'demo' });
  const seed = command.seed ?? Date.now() % 1_000_000;
  const started = Date.now();
  const stack = await openStack(ctx);
  await clearLeftovers(stack, ctx);
  await bringUpIfNeeded(stack, ctx);
  ctx.progress.step(
    `chaos: ${experiments.length} experiment(s) from ${dir}, seed ${seed} (rerun the same draws with --seed ${seed})`,
  );

  const judgement = suiteJudgement(config);
  const outcome = await runSuite(experiments, {
    stack,
    control: dockerControl,
    progress: ctx.progress,
    signal: ctx.signal,
    seed,
    judgement,
    prometheusUrl: prometheusUrl(stack.target),
    wardens: dockerWardens(stack.target),
  });

  const report = chaosReport(outcome, started, Date.now());
  const file = resolve(CHAOS_RESULT_FILE);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, toJsonText(report));
  ctx.out(command.json ? toJsonText(report) : summary(report));
  ctx.progress.info(`results written to ${file}`);
  if (outcome.interrupted) throw ctx.signal.reason;
  return suiteExitCode(outcome);
}

export function chaosReport(outcome: SuiteOutcome, started: number, ended: number): ChaosReport {
  const results = outcome.results;
  const status =
    results.some((r) => r.status === 'ERROR') || outcome.infraFailure !== undefined
      ? 'ERROR'
      : results.every((r) => r.status === 'PASS')
        ? 'PASS'
        : 'FAIL';
  return {
    seed: outcome.seed,
    status,
    startedAt: new Date(started).toISOString(),
    durationMs: ended - started,
    experiments: results,
    ...(outcome.infraFailure !== undefined ? { infraFailure: outcome.infraFailure } : {}),
    ...(outcome.interrupted ? { interrupted: true } : {}),
  };
}

export function summary(report: ChaosReport): string {
  const passed = report.experiments.filter((r) => r.status === 'PASS').length;
  const lines = [
    formatTable(TABLE_HEADER, report.experiments.map(tableRow)),
    '',
    `${passed} of ${report.experiments.length} experiment(s) passed (seed ${report.seed})`,
  ];
  if (report.infraFailure) lines.push(`stopped: ${report.infraFailure}`);
  return lines.join('\n');
}

/**
 * Up when every region answers, Prometheus is ready and the regions carry the fault token
 * (a region recreated without it refuses fault injection): otherwise `up`, which keeps every
 * region's version and gives them all the token.
 */
async function bringUpIfNeeded(stack: ComposeStack, ctx: CommandContext): Promise<void> {
  const status = await stack.status();
  const services = new Set(stack.target.regions.map((r) => r.service));
  const tokenless = (await stack.containers())
    .filter((c) => services.has(c.service) && !c.env.FAULT_TOKEN)
    .map((c) => c.service);
  const down = status.regions
    .filter((r) => r.stable?.state !== 'running' || r.stable.reportedVersion === undefined)
    .map((r) => r.region);
  if (down.length === 0 && tokenless.length === 0 && status.prometheus.ready) return;
  const why = [
    down.length ? `not answering: ${down.join(', ')}` : '',
    tokenless.length ? `no fault token: ${tokenless.join(', ')}` : '',
    status.prometheus.ready ? '' : 'Prometheus not ready',
  ]
    .filter(Boolean)
    .join('; ');
  ctx.progress.step(`bringing the stack up (${why})`);
  await stack.up();
}
