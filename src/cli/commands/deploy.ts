import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { loadConfig } from '../../config/load.ts';
import { ms, pct } from '../../util/format.ts';
import { toJsonText } from '../../util/json-text.ts';
import { runRollout, type RolloutRequest } from '../../rollout/controller.ts';
import type { Stack } from '../../stack/stack.ts';
import type { MitigationRecord } from '../../rollout/mitigation.ts';
import type { RolloutResult } from '../../rollout/result.ts';
import { rolloutExitCode } from '../../gate/exit.ts';
import { createRandom } from '../../util/random.ts';
import type { CommandContext } from '../main.ts';
import { formatTable } from '../output.ts';
import { clearLeftovers, openStack } from './stack.ts';
import type { DataFault, Regression } from '../../stack/target.ts';

export interface DeployCommand {
  version: string;
  failureRate: number;
  strategy?: 'canary' | 'rolling';
  config?: string;
  json: boolean;
  resultFile?: string;
  dataFault?: DataFault;
  /** The demo's candidate restarts slowly after a crash (REGRESSION). */
  regression?: Regression;
}

export const DEFAULT_RESULT_FILE = 'reports/rollout.json';

/** The stack and the rollout: the Compose stack and the live controller, or a test's. */
export interface DeployDeps {
  openStack: (ctx: Pick<CommandContext, 'progress'>) => Promise<Stack>;
  runRollout: typeof runRollout;
  /** Lifts faults a dead run left (stack.ts); none in tests whose stack is never touched. */
  clearLeftovers?: (stack: Stack, ctx: Pick<CommandContext, 'progress'>) => Promise<string[]>;
}

const liveDeps: DeployDeps = { openStack, runRollout, clearLeftovers };

export async function runDeploy(
  command: DeployCommand,
  ctx: CommandContext,
  deps: DeployDeps = liveDeps,
): Promise<number> {
  // Everything the user wrote is validated before the stack is touched.
  const config = loadConfig(command.config);
  const plan = command.strategy ? { ...config.rollout, strategy: command.strategy } : config.rollout;
  const stack = await deps.openStack(ctx);
  await deps.clearLeftovers?.(stack, ctx);
  ctx.progress.step(
    `deploying ${command.version} (failure rate ${command.failureRate}) with ${plan.strategy}` +
      ` over ${plan.regions.join(', ')}`,
  );
  const random = createRandom(ctx.now() >>> 0);
  const request: RolloutRequest = {
    version: command.version,
    failureRate: command.failureRate,
    ...(command.dataFault ? { dataFault: command.dataFault } : {}),
    ...(command.regression ? { regression: command.regression } : {}),
    plan,
    prometheus: config.prometheus,
  };
  const rolloutDeps = { stack, progress: ctx.progress, signal: ctx.signal, random: () => random.next() };
  const result = await deps.runRollout(request, rolloutDeps);

  const file = resolve(command.resultFile ?? DEFAULT_RESULT_FILE);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, toJsonText(result));
  ctx.out(command.json ? toJsonText(result) : summary(result));
  // stdout stays pure JSON, but an unverified rollback must not hide inside it.
  if (command.json) for (const line of unverifiedLines(result)) ctx.err(line);
  ctx.progress.info(`result written to ${file}`);
  return rolloutExitCode(result);
}

/**
 * The loud part of a FAILED rollout: every region whose rollback could not be verified with
 * the state it was left in (rollback.ts names both), then the regions that did get back.
 */
export function unverifiedLines(r: RolloutResult): string[] {
  if (r.finalState !== 'FAILED') return [];
  const { problems, verifications } = r.rollback;
  const back = verifications.filter((v) => v.ok && !problems.some((p) => p.startsWith(`${v.region}: `)));
  return [
    'ROLLBACK COULD NOT BE VERIFIED. Regions left in these states:',
    ...problems.map((p) => `  ${p}`),
    ...back.map((v) => `  ${v.region}: back on ${v.expectedVersion}, verified (${v.healthChecks} health checks)`),
  ];
}

export function summary(r: RolloutResult): string {
  const lines = [`rollout of ${r.version}: ${r.finalState} in ${(r.durationMs / 1000).toFixed(1)} s (${r.strategy})`];
  if (r.rollback.triggered) lines.push(...rollbackLines(r));
  lines.push(...unverifiedLines(r));
  lines.push('', regionsTable(r));
  if (r.stages.length > 0) lines.push('', stagesTable(r));
  return lines.join('\n');
}

/** Why and how the rollout went back: the reason, each decision, the scope, the data, the timings. */
function rollbackLines(r: RolloutResult): string[] {
  const { rollback } = r;
  const where = rollback.failedRegion ? ` (in ${rollback.failedRegion})` : '';
  const lines = [`rolled back because: ${rollback.reason ?? '?'}${where}`];
  for (const d of rollback.decisions ?? []) lines.push(`rollback decision (${d.failedRegion}): ${d.decision.summary}`);
  if (rollback.scope === 'region') lines.push(regionOnlyLine(r));
  for (const m of r.mitigation ?? []) if (m.backup) lines.push(mitigationLine(m, m.backup));
  lines.push(`time to detect: ${seconds(r.timeToDetectMs)}, time to roll back: ${seconds(r.timeToRollbackMs)}`);
  return lines;
}

function regionOnlyLine(r: RolloutResult): string {
  const back = (r.rollback.regions ?? []).join(', ');
  const kept = r.rollback.kept ?? [];
  const left = kept.length > 0 ? `${kept.join(', ')} left on ${r.version}` : 'no region left on the candidate';
  return `region-only rollback: ${back} put back; ${left}`;
}

/** What happened to a region's data: restored from its backup, or checked and left alone. */
function mitigationLine(m: MitigationRecord, backup: NonNullable<MitigationRecord['backup']>): string {
  const restored =
    `restored from backup (${m.restore?.durationMs ?? '?'} ms; backup took ${backup.durationMs} ms); ` +
    `${m.candidateWritesUndone} of ${m.candidateWritesAcknowledged} acknowledged candidate writes undone ` +
    `by the restore, ${m.candidateWritesLostByCandidate} lost by the candidate itself`;
  const outcome = m.restored ? restored : 'integrity check passed, nothing restored';
  const preDeploy = `pre-deploy rows missing: ${m.preDeployWritesMissing} of ${m.preDeployWritesChecked}`;
  return `data in ${m.region}: ${outcome}; ${preDeploy}`;
}

/** "1.23 s", or "n/a" when there is no time to show. */
function seconds(ms: number | null): string {
  return ms === null ? 'n/a' : `${(ms / 1000).toFixed(2)} s`;
}

function regionsTable(r: RolloutResult): string {
  return formatTable(
    ['region', 'before', 'now', 'outcome'],
    r.regions.map((x) => [x.region, x.previous.version, x.finalVersion ?? '(no answer)', x.outcome ?? '']),
  );
}

const STAGE_COLUMNS = [
  'region',
  'stage',
  'weight',
  'verdict',
  'canary n',
  'canary err',
  'base err',
  'canary p99',
  'base p99',
  'reason',
];

function stagesTable(r: RolloutResult): string {
  return formatTable(
    STAGE_COLUMNS,
    r.stages.map((s) => [
      s.region,
      String(s.stage + 1),
      `${s.weight}%`,
      s.verdict,
      String(s.canary.count),
      pct(s.canary.errorRate),
      pct(s.baseline.errorRate),
      ms(s.canary.p99Ms),
      ms(s.baseline.p99Ms),
      s.reasons[0] ?? '',
    ]),
  );
}
