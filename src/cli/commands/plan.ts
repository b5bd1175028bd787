import { loadConfig, type LoadedConfig } from '../../config/load.ts';
import { EXIT } from '../../gate/exit.ts';
import { planPreflight, seconds, type PlanPreflight } from '../../plan/preflight.ts';
import type { RolloutPlan } from '../../plan/rollout.ts';
import { UsageError, type InputIssue } from '../../util/errors.ts';
import { num } from '../../util/format.ts';
import { toJsonText } from '../../util/json-text.ts';
import type { CommandContext } from '../main.ts';
import { formatTable } from '../output.ts';

// `chaos-gate plan`: the plan pre-flight (plan/preflight.ts) of the configured rollout, before
// anything is deployed. A plan that could never reach a verdict is exit 2, as it is for every
// other command, but its numbers are still printed: they are what the user has to change.

export interface PlanCommand {
  config?: string;
  json: boolean;
}

export function runPlan(command: PlanCommand, ctx: CommandContext): Promise<number> {
  const { config, refused } = load(command.config);
  const preflight = planPreflight(config.rollout);
  const issues = refused?.issues ?? [];
  const file = config.file ?? 'defaults';
  ctx.out(command.json ? planJson(file, preflight, issues) : planText(file, preflight, config.rollout));
  if (!refused) return Promise.resolve(EXIT.ok);
  for (const line of refused.message.split('\n')) ctx.err(`error: ${line}`);
  return Promise.resolve(EXIT.usage);
}

/**
 * The config as every command loads it; when only the pre-flight refuses it, loaded again
 * without that check, so the numbers behind the refusal can be shown.
 */
function load(file: string | undefined): { config: LoadedConfig; refused?: UsageError } {
  try {
    return { config: loadConfig(file) };
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    let config: LoadedConfig;
    try {
      config = loadConfig(file, process.cwd(), undefined, { planPreflight: false });
    } catch {
      throw e; // other problems too: every one of them, as any command reports them
    }
    // The line numbers come from the first load; the issues are the pre-flight's alone.
    return { config, refused: e };
  }
}

/** What --json prints: snake_case keys, as every other JSON output. */
export function planJson(file: string, preflight: PlanPreflight, issues: readonly InputIssue[]): string {
  return toJsonText({ file, ...preflight, issues });
}

/** The pre-flight for a person: a table of the stages, then the worst cases per region and in total. */
export function planText(file: string, p: PlanPreflight, plan: RolloutPlan): string {
  const { minSamples, alpha, stageDeadlineSeconds, pauseBudgetSeconds } = plan.analysis;
  const rows = p.stages.map((s) => [
    p.strategy === 'rolling' ? 'rolling' : `${num(s.weight)}%`,
    `${num(s.rates.canary)} / ${num(s.rates.baseline)}`,
    `${seconds(s.secondsToNeeds.canary)} / ${baselineTime(s)}`,
    `${Math.floor(s.bakeGives.canary)} / ${Math.floor(s.bakeGives.baseline)}`,
    s.passSeconds === null ? 'never' : seconds(s.passSeconds),
    seconds(s.worstSeconds),
    s.red.requests === null ? '-' : `${s.red.requests} (${seconds(s.red.seconds ?? 0)})`,
    notes(s, stageDeadlineSeconds).join('; '),
  ]);
  const header = ['stage', 'req/s c/b', `${minSamples} req c/b`, 'bake gives', 'pass', 'worst', 'red at 2x', 'notes'];
  const region = p.regions[0];
  return [
    `plan pre-flight of ${file}: ${p.strategy}, ${num(p.trafficRps)} request/s per region, ` +
      `min_samples ${minSamples}, alpha ${num(alpha)}, stage deadline ${seconds(stageDeadlineSeconds)}, ` +
      `pause budget ${seconds(pauseBudgetSeconds)}`,
    formatTable(header, rows),
    'pass: when the stage passes if every analysis is green; worst: the longest it can run (its deadline);',
    'red at 2x: canary requests for the error limit to turn red on a candidate at twice max_error_rate.',
    ...(region
      ? [
          `per region (${p.regions.map((r) => r.region).join(', ')}): promote at worst ` +
            `${seconds(region.promoteSeconds)}, roll back at worst ${seconds(region.rollbackSeconds)}`,
        ]
      : []),
    `whole rollout: ${p.greenSeconds === null ? 'never green' : `${seconds(p.greenSeconds)} of stages if green`}; ` +
      `every region promoted at worst ${seconds(p.promoteAllSeconds)}; ` +
      `with rollbacks at worst ${seconds(p.worstSeconds)} (container starts not counted)`,
  ].join('\n');
}

function baselineTime(s: PlanPreflight['stages'][number]): string {
  if (s.needs.baseline === 0) return '-';
  return s.secondsToNeeds.baseline === null ? 'never' : seconds(s.secondsToNeeds.baseline);
}

/** What a person should know of a stage beyond its numbers. */
function notes(s: PlanPreflight['stages'][number], deadline: number): string[] {
  return [
    ...(s.verdictInTime ? [] : ['NEVER JUDGED: too few canary requests by the deadline']),
    ...(s.needs.baseline > 0 && !s.compared ? ['no baseline comparison: limits only'] : []),
    ...redNote(s, deadline),
    ...(s.pauseRoom ? [] : ['a full pause budget leaves no time to bake']),
  ];
}

/** Weak power is shown, not refused: a red that needs more requests than the bake, or the deadline, gives. */
function redNote(s: PlanPreflight['stages'][number], deadline: number): string[] {
  if (s.red.requests === null || s.red.seconds === null) return [];
  if (s.red.seconds > deadline) return ['red at 2x needs more requests than the deadline gives'];
  return s.red.requests > s.bakeGives.canary ? ['red at 2x needs more requests than the bake gives'] : [];
}
