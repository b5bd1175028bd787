import { loadConfig } from '../../config/load.ts';
import { studyBudgetIssues } from '../../config/simulation.ts';
import type { RolloutPlan } from '../../plan/rollout.ts';
import { runStudy, simulate, studyCandidates, type StudyResult, type StudyShare } from '../../simulate/index.ts';
import type { SimulationScenario } from '../../simulate/scenario.ts';
import { UsageError } from '../../util/errors.ts';
import { ms, num, pct } from '../../util/format.ts';
import type { CommandContext } from '../main.ts';
import { formatTable } from '../output.ts';

export interface SimulateCommand {
  /** The seed of a single simulation (a study runs seeds 1..study.seeds). */
  seed: number;
  config?: string;
  /** `--study`: the plan over many seeds and derived candidates instead of one rollout. */
  study?: { seeds: number; json: boolean };
}

export async function runSimulate(command: SimulateCommand, ctx: CommandContext): Promise<number> {
  const config = loadConfig(command.config);
  // A simulation has no Prometheus: its synthetic traffic is the only judge.
  const plan = { ...config.rollout, analysis: { ...config.rollout.analysis, sources: ['synthetic' as const] } };
  if (command.study) return runSimulateStudy(plan, config.simulation, command.study, ctx);
  const result = await simulate(plan, config.simulation, command.seed);
  ctx.out(JSON.stringify(result, null, 2));
  return 0;
}

async function runSimulateStudy(
  plan: RolloutPlan,
  scenario: SimulationScenario,
  options: { seeds: number; json: boolean },
  ctx: CommandContext,
): Promise<number> {
  const rollouts = studyCandidates(plan, scenario).length;
  const issues = studyBudgetIssues(plan, scenario, options.seeds, rollouts);
  if (issues.length > 0) throw new UsageError(issues);
  const started = ctx.now();
  ctx.progress.step(`simulating ${count(options.seeds * rollouts)} rollouts (${rollouts} candidates)...`);
  const study = await runStudy(plan, scenario, options.seeds, (s, i, of) =>
    ctx.progress.info(`${i + 1}/${of} ${s.name}: rolled back ${s.rolled_back.count} of ${options.seeds}`),
  );
  // Time is the one thing that is not a function of the inputs: it stays out of the result.
  const seconds = (ctx.now() - started) / 1000;
  if (options.json) ctx.out(JSON.stringify({ ...study, elapsed_seconds: Number(seconds.toFixed(2)) }, null, 2));
  else ctx.out(studyText(study, seconds));
  return 0;
}

const share = (s: StudyShare) => `${s.count} (${pct(s.share)})`;
const interval = (s: StudyShare) => `${pct(s.low)}-${pct(s.high)}`;
const count = (n: number | null) => (n === null ? 'n/a' : n.toLocaleString('en-US'));
const pair = (a: number | null, b: number | null) => `${count(a)} / ${count(b)}`;
const virtualSeconds = (x: number | null) => (x === null ? 'n/a' : `${(x / 1000).toFixed(1)} s`);

/** The study as a person reads it: one row per candidate, then the false alarms and the time taken. */
export function studyText(study: StudyResult, elapsedSeconds: number): string {
  const b = study.baseline;
  const t = study.tolerances;
  const rows = study.candidates.map((c) => [
    c.name,
    `${pct(c.canary.error_rate)}, ${ms(c.canary.median_ms)} / ${ms(c.canary.p99_ms)}`,
    share(c.rolled_back),
    interval(c.rolled_back),
    share(c.promoted),
    pair(c.canary_requests.p50, c.canary_requests.p95),
    pair(c.requests.p50, c.requests.p95),
    virtualSeconds(c.decision_ms.p50),
  ]);
  const header = [
    'candidate',
    'errors, p50 / p99',
    'rolled back',
    '95% interval',
    'promoted',
    'canary req p50 / p95',
    'all req p50 / p95',
    'decided p50',
  ];
  const f = study.false_rollback;
  const total = study.seeds * study.candidates.length;
  return [
    `Study of the plan over seeds 1-${study.seeds} per candidate; ` +
      `baseline ${b.version}: ${pct(b.error_rate)} errors, p50 ${ms(b.median_ms)}, p99 ${ms(b.p99_ms)}.`,
    `Tolerated: errors +${pct(t.max_error_rate_increase)}, median +${pct(t.max_latency_increase_ratio)} + ` +
      `${num(t.max_latency_increase_ms)} ms (the candidates below are sized by these).`,
    '',
    formatTable(header, rows),
    '',
    ...study.candidates.map((c) => `${c.name}: ${c.description}`),
    '',
    `False rollbacks (identical candidate rolled back): ${f.count} of ${count(study.seeds)} ` +
      `(${pct(f.share)}, 95% interval ${interval(f)}).`,
    `Requests and decision time are up to the decision: the abort, or the last promotion (virtual time).`,
    `${count(total)} rollouts in ${elapsedSeconds.toFixed(1)} s.`,
  ].join('\n');
}
