import { ms, num, pct } from '../util/format.ts';
import { describeGraph } from './dependencies.ts';
import type { Prediction } from './index.ts';
import type { Range } from './latency.ts';
import { prob } from '../util/round.ts';

// The prediction for a terminal: what `chaos-gate predict` prints without --json. Plain text,
// fixed precision, no colours (the CLI adds those if it wants), stable for a given seed.

const rate = (r: Range) => `${pct(r.low)} .. ${pct(r.high)} (exp ${pct(r.expected)})`;
const latency = (r: Range | null) =>
  r === null ? 'not predicted' : `${ms(r.low)} .. ${ms(r.high)} (exp ${ms(r.expected)})`;

function pad(cells: readonly string[][]): string[] {
  const widths = cells[0]?.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length))) ?? [];
  return cells.map((row) =>
    row
      .map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

export function formatPrediction(p: Prediction): string {
  const out: string[] = [];
  out.push(`prediction for ${p.candidate ?? 'the candidate'} (stable ${p.baseline ?? 'unknown'}), seed ${p.seed}`);
  if (p.preflight.profiles.length === 0) out.push('  pre-flight: none');
  else {
    out.push(`  pre-flight in ${p.preflight.regions.join(', ')}:`);
    for (const prof of p.preflight.profiles) {
      const cohort = (c: Prediction['preflight']['profiles'][number]['canary']) =>
        `${c.errors}/${c.count} errors` +
        (c.latency ? `, p50 ${ms(c.latency.medianMs)}, p99 ${ms(c.latency.p99Ms)}` : '');
      out.push(
        `    ${prof.names.join('/')} ${num(prof.rps)} rps, ${pct(prof.writeShare)} writes: ` +
          `candidate ${cohort(prof.canary)}; stable ${cohort(prof.baseline)}`,
      );
    }
  }
  const prior = p.models.errorRate.prior;
  out.push(
    `  models: error rate Beta-Binomial, prior Beta(${num(prior.alpha)}, ${num(prior.beta)}) ` +
      `(${prior.source === 'history' ? `history of ${prior.runs} run(s)` : 'no history'}); p99 lognormal, ` +
      `${p.models.latency.monteCarloSamples} Monte Carlo samples; ranges are central 90%`,
  );
  const shared = p.dependencies.shared.map((d) => `${d.dependency} by ${d.regions.join(', ')}`);
  out.push(
    `  dependencies: ${describeGraph(p.dependencies.graph)} ` +
      `(${shared.length > 0 ? `shared: ${shared.join('; ')}` : 'none shared'})`,
  );
  out.push('');
  const rows = [['stage', 'weight', 'requests', 'error rate', 'p99', 'P(breach)']];
  for (const s of p.stages) {
    const breach = Math.max(s.breach.errorRate, s.breach.p99);
    rows.push([
      String(s.stage + 1),
      `${num(s.weight)}%`,
      String(s.requests),
      rate(s.errorRate),
      latency(s.p99Ms),
      `${prob(breach)}${s.extrapolated ? ' *' : ''}`,
    ]);
  }
  out.push(...pad(rows).map((l) => `  ${l}`));
  if (p.stages.some((s) => s.extrapolated))
    out.push('  * load outside the measured profiles: the nearest profile stands in');
  out.push('');
  out.push(`  risk ${num(p.risk.score)}/100 (${p.risk.level})`);
  for (const c of p.risk.components) {
    if (c.points <= 0 && c.value <= 0) continue;
    out.push(`    ${num(c.points).padStart(5)}  ${c.name}: ${c.explanation}`);
  }
  if (p.risk.failurePoints.length > 0) {
    out.push('  likely failure points:');
    for (const f of p.risk.failurePoints) {
      const where = [f.region, f.metric, f.experiment && `experiment ${f.experiment}`].filter(Boolean).join(', ');
      out.push(`    ${num(f.points).padStart(5)}  ${where ? `[${where}] ` : ''}${f.explanation}`);
    }
  }
  out.push(`  action: ${p.action.action}: ${p.action.reason}`);
  if (p.action.action === 'small-tiers') out.push(`  stages: ${p.action.weights.map((w) => `${num(w)}%`).join(', ')}`);
  for (const n of p.notes) out.push(`  note: ${n}`);
  return out.join('\n');
}
