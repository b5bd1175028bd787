import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { loadConfig } from '../../config/load.ts';
import { ms, pct } from '../../util/format.ts';
import { toJsonText } from '../../util/json-text.ts';
import { runRollout, type RolloutRequest } from '../../rollout/controller.ts';
import type { Stack } from '../../stack/stack.ts';
import type { RolloutResult } from '../../rollout/result.ts';
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
    `deploying ${command.version} (failure rate ${command.failureRate}) with ${plan.strategy} over ${plan.regions.join(', ')}`,
  );
  const random = createRandom(Date.now() >>> 0);
  const knobs = {
    ...(command.dataFault ? { dataFault: command.dataFault } : {}),
    ...(command.regression ? { regression: command.regression } : {}),
  };
  const request: RolloutRequest = {
    version: command.version,
    failureRate: command.failureRate,
    ...knobs,
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
  return exitStatus(result);
}

/**
 * 0 only for a clean completion. A rollout that put even one region back is 1, also when
 * rollback: region kept the others on the candidate or continued to the end (finalState is
 * ROLLED_BACK then, with rollback.scope "region"): the candidate failed somewhere, and a
 * pipeline must not read that as success. 3: a rollback not verified (data check included).
 */
export function exitStatus(result: RolloutResult): number {
  return result.finalState === 'COMPLETED' ? 0 : result.finalState === 'ROLLED_BACK' ? 1 : 3;
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
  if (r.rollback.triggered) {
    lines.push(
      `rolled back because: ${r.rollback.reason ?? '?'}${r.rollback.failedRegion ? ` (in ${r.rollback.failedRegion})` : ''}`,
    );
    for (const d of r.rollback.decisions ?? [])
      lines.push(`rollback decision (${d.failedRegion}): ${d.decision.summary}`);
    if (r.rollback.scope === 'region')
      lines.push(
        `region-only rollback: ${(r.rollback.regions ?? []).join(', ')} put back; ${(r.rollback.kept ?? []).length > 0 ? `${(r.rollback.kept ?? []).join(', ')} left on ${r.version}` : 'no region left on the candidate'}`,
      );
    for (const m of r.mitigation ?? []) {
      if (!m.backup) continue;
      lines.push(
        `data in ${m.region}: ${m.restored ? `restored from backup (${m.restore?.durationMs ?? '?'} ms; backup took ${m.backup.durationMs} ms); ${m.candidateWritesUndone} of ${m.candidateWritesAcknowledged} acknowledged candidate writes undone by the restore, ${m.candidateWritesLostByCandidate} lost by the candidate itself` : 'integrity check passed, nothing restored'}; pre-deploy rows missing: ${m.preDeployWritesMissing} of ${m.preDeployWritesChecked}`,
      );
    }
    lines.push(
      `time to detect: ${r.timeToDetectMs === null ? 'n/a' : `${(r.timeToDetectMs / 1000).toFixed(2)} s`}, time to roll back: ${r.timeToRollbackMs === null ? 'n/a' : `${(r.timeToRollbackMs / 1000).toFixed(2)} s`}`,
    );
  }
  lines.push(...unverifiedLines(r));
  lines.push(
    '',
    formatTable(
      ['region', 'before', 'now', 'outcome'],
      r.regions.map((x) => [x.region, x.previous.version, x.finalVersion ?? '(no answer)', x.outcome ?? '']),
    ),
  );
  if (r.stages.length > 0) {
    lines.push(
      '',
      formatTable(
        [
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
        ],
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
      ),
    );
  }
  return lines.join('\n');
}
