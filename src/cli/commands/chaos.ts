import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { TABLE_HEADER, tableRow } from '../../chaos/format.ts';
import type { ExperimentResult } from '../../chaos/result.ts';
import { runSuite, type SuiteOutcome } from '../../chaos/suite.ts';
import { suiteExitCode } from '../../gate/exit.ts';
import { loadConfig } from '../../config/load.ts';
import { chaosSuite } from '../../gate/suite.ts';
import { toJsonText } from '../../util/json-text.ts';
import type { Stack } from '../../stack/stack.ts';
import { dockerControl } from '../../stack/docker-control.ts';
import { defaultStackTarget, prometheusUrl } from '../../stack/target.ts';
import { projectDir } from '../../util/paths.ts';
import type { CommandContext } from '../main.ts';
import { formatTable } from '../output.ts';
import { dockerWardens } from '../../stack/warden.ts';
import { clearLeftovers, isUp, openStack } from './stack.ts';

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

/** The stack and the suite: the Compose stack and the live runner, or a test's. */
export interface ChaosDeps {
  openStack: (ctx: Pick<CommandContext, 'progress'>) => Promise<Stack>;
  /** Lifts faults a dead run left and brings the stack up when it is not ready for faults. */
  prepareStack: (stack: Stack, ctx: Pick<CommandContext, 'progress'>) => Promise<void>;
  runSuite: typeof runSuite;
  /** The user's folder: the config, the experiments and reports/chaos.json are relative to it. */
  cwd: () => string;
}

const liveDeps: ChaosDeps = {
  openStack,
  prepareStack: async (stack, ctx) => {
    await clearLeftovers(stack, ctx);
    await bringUpIfNeeded(stack, ctx);
  },
  runSuite,
  cwd: () => process.cwd(),
};

export async function runChaos(
  command: ChaosCommand,
  ctx: CommandContext,
  deps: ChaosDeps = liveDeps,
): Promise<number> {
  const cwd = deps.cwd();
  const home = projectDir();
  // The config and every experiment file are validated before the stack is touched (exit 2).
  const { experiments, dir, judgement } = chaosSuite(
    { cwd, only: command.only, experimentsDir: command.experiments },
    loadConfig(command.config, cwd, command.environment),
    home,
    defaultStackTarget(home).regions.map((r) => r.name),
  );
  const seed = command.seed ?? ctx.now() % 1_000_000;
  const started = ctx.now();
  const stack = await deps.openStack(ctx);
  await deps.prepareStack(stack, ctx);
  ctx.progress.step(
    `chaos: ${experiments.length} experiment(s) from ${dir}, seed ${seed} (rerun the same draws with --seed ${seed})`,
  );
  const outcome = await deps.runSuite(experiments, {
    stack,
    control: dockerControl,
    progress: ctx.progress,
    signal: ctx.signal,
    seed,
    judgement,
    prometheusUrl: prometheusUrl(stack.target),
    wardens: dockerWardens(stack.target),
    now: ctx.now,
  });

  const report = chaosReport(outcome, started, ctx.now());
  const file = resolve(cwd, CHAOS_RESULT_FILE);
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
async function bringUpIfNeeded(stack: Stack, ctx: Pick<CommandContext, 'progress'>): Promise<void> {
  const status = await stack.status();
  const services = new Set(stack.target.regions.map((r) => r.service));
  const tokenless = (await stack.containers())
    .filter((c) => services.has(c.service) && !c.env.FAULT_TOKEN)
    .map((c) => c.service);
  const down = status.regions.filter((r) => !isUp(r.stable)).map((r) => r.region);
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
