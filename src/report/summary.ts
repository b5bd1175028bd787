import { pct } from '../util/format.ts';
import { replaceControls } from '../util/text.ts';
import { formatDuration, formatThreshold, formatValue, stageLabel } from './format.ts';
import { differentialRow, headline, policyText, type Figure, type SidePair } from './headline.ts';
import type { DifferentialVerdict } from '../analysis/differential.ts';
import type { ControlResult } from '../rollout/control-verdict.ts';
import type { Report, ReportMitigation, RolloutReport, Scenario } from './model.ts';
import type { PredictionReport } from './prediction.ts';

// The GitHub job's step summary (Markdown): the verdict line, the findings that decided it,
// the key figures, a table of experiments and the rollout (with chaos on the candidate),
// then every finding (folded). The Action writes it as raw text (core.summary.addRaw or the
// GITHUB_STEP_SUMMARY file). @actions/core does not escape table cells, so everything from
// outside goes through md() here: a `|` would split a cell, `<`/`&` would be read as HTML,
// `*_[]` and backticks as formatting, and a newline would end the table. Control characters
// become U+FFFD on the whole text at the end (after md() turned CR and LF into <br>).

const ICON = { OPEN: '✅', CLOSED: '⛔', PASS: '✅', FAIL: '❌', ERROR: '⚠️' } as const;
const EFFECT = { closes: '⛔', advisory: '⚠️', pass: '✅' } as const;

/** Inline Markdown text: escaped, and on one line. */
export function md(s: string): string {
  return mdCell(s).replace(/<br>/g, ' ');
}

/** A table cell: escaped; line breaks become <br> (the only HTML we add ourselves). */
export function mdCell(s: string): string {
  return s
    .replace(/[\\`*_[\]|~#!]/g, (c) => `\\${c}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\r\n|\r|\n/g, '<br>');
}

export function renderSummary(report: Report): string {
  const { gate } = report;
  const top = headline(report);
  const f = top.figures;
  // The same order as report.html: the verdict, the one to three findings that decided it,
  // the key figures; then the tables, and every finding last (folded). Nothing of unbounded
  // length comes before the first table: at most 3 reasons, a "more" line and two figure lines.
  const more = top.more === 0 ? [] : [`- … and ${top.more} more (every finding is at the end)`];
  const out: string[] = [
    `## ${ICON[top.status]} Deployment gate ${top.status}: ${md(report.version)} ${report.overall}`,
    '',
    ...top.reasons.map((r) => `- ${EFFECT[r.effect]} ${md(r.text)}`),
    ...more,
    '',
    [f.experiments, f.rollout, f.detect, f.rollback].map((x) => figureText(x, x === f.rollout)).join(' · '),
    '',
    ...(report.prediction ? [predictionLine(report.prediction), ''] : []),
    `<sub>Commit ${md(report.commit ?? 'unknown')} · run ${md(report.runId)} · candidate failure rate ` +
      `${pct(report.failureRate)}</sub>`,
    '',
    '### Experiments',
    '',
  ];
  if (report.scenarios.length === 0) out.push('_No experiments ran._');
  else {
    out.push('| Experiment | Result | Fault | Recovery | Failed measurements |', '| --- | --- | --- | --- | --- |');
    for (const s of report.scenarios) out.push(experimentRow(s));
  }
  out.push('', '### Rollout', '');
  if (!report.rollout) out.push('_No rollout was run._');
  else out.push(...rolloutLines(report.rollout), ...differentialLines(report.rollout));
  if (report.controls) out.push(...controlLines(report.controls));
  out.push(
    '',
    // GitHub renders Markdown inside <details> when blank lines surround it.
    `<details><summary>Every finding (${gate.findings.length}) and the policy</summary>`,
    '',
    ...gate.findings.map((x) => `- ${EFFECT[x.effect]} ${md(x.text)}`),
    '',
    md(`Overall ${report.overall}. Policy: ${policyText(gate.policy)}.`),
    '',
    '</details>',
  );
  out.push(
    '',
    `<sub>report_version ${md(report.reportVersion)}. The full report (report.html, report.json, junit.xml) ` +
      `is in the report directory and the run's artifact.</sub>`,
    '',
  );
  return replaceControls(out.join('\n'));
}

/** "**Rollout** ROLLED BACK (1 of 4 regions promoted)": the value, and its context where it says what went wrong. */
function figureText(f: Figure, withDetail: boolean): string {
  return `**${f.label}** ${md(f.value)}${withDetail || f.tone === 'fail' ? ` (${md(f.detail)})` : ''}`;
}

/** One line: the risk and what it did; the ranges are in the HTML report. */
function predictionLine(p: PredictionReport): string {
  const accuracy =
    p.accuracy?.share == null
      ? ''
      : ` · ${p.accuracy.inside} of ${p.accuracy.stages} stages inside the predicted ranges`;
  return (
    `**Risk ${p.risk.score}/100** (${p.risk.level}, max ${p.risk.maxRisk}) ` +
    `· action ${md(p.action.action)}${accuracy}`
  );
}

function experimentRow(s: Scenario): string {
  const recovery =
    s.recoveryTimeSeconds === null && s.thresholdSeconds === null
      ? 'n/a'
      : formatValue(s.recoveryTimeSeconds, 's') +
        (s.thresholdSeconds === null ? '' : ` (threshold ${formatValue(s.thresholdSeconds, 's')})`);
  const failed =
    s.status === 'ERROR'
      ? `could not run: ${s.error ?? 'no reason given'}`
      : s.measurements
          .filter((m) => !m.pass)
          .map((m) => `${m.name} ${formatValue(m.value, m.unit)} (needs ${formatThreshold(m)})`)
          .join('\n') || 'none';
  const cells = [s.name, `${ICON[s.status]} ${s.status}`, `${s.fault.kind} via ${s.fault.method}`, recovery, failed];
  return `| ${cells.map(mdCell).join(' | ')} |`;
}

// could_not_run closes the gate like an experiment that could not run.
const DIFFERENTIAL_ICON: Record<DifferentialVerdict, string> = {
  pass: '✅',
  regression: '❌',
  could_not_run: '⚠️',
};

/** Chaos on the candidate: the columns of report.html's table, the headline last. */
function differentialLines(r: RolloutReport): string[] {
  const head = ['', '#### Chaos on the candidate', ''];
  if (r.differential.length === 0) return [...head, '_No differential runs._'];
  const vs = (p: SidePair) => `${p.candidate} vs ${p.baseline}`;
  const rows = r.differential.map((d) => {
    const x = differentialRow(d, r);
    const cells = [
      x.experiment,
      x.region,
      x.stage,
      x.fault,
      `${DIFFERENTIAL_ICON[x.verdict]} ${x.verdictText}`,
      vs(x.errorRate),
      vs(x.p99),
      vs(x.recovery),
      vs(x.writesLost),
      x.headline,
    ];
    return `| ${cells.map(mdCell).join(' | ')} |`;
  });
  return [
    ...head,
    'Each figure: candidate vs baseline, under the same fault at once.',
    '',
    '| Experiment | Region | Stage | Fault | Verdict | Error rate (n) | p99 | Recovery | Writes lost | Headline |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ];
}

function restoreLine(m: ReportMitigation): string {
  const lost = m.preDeployWritesMissing + m.acknowledgedReadBack.missing;
  const data =
    lost > 0 ? `${lost} pre-deploy write(s) MISSING` : `all ${m.preDeployWritesChecked} pre-deploy writes back`;
  return (
    `🗄️ ${m.region}'s database restored from its ` +
    `backup${m.restore ? ` in ${formatDuration(m.restore.durationMs)}` : ''}: ${data}; ` +
    `${m.candidateWritesUndone} of ${m.candidateWritesAcknowledged} candidate writes undone ` +
    `(${m.candidateWritesLostByCandidate} lost by the candidate itself).`
  );
}

function rolloutLines(r: RolloutReport): string[] {
  const icon = r.finalState === 'COMPLETED' ? '✅' : '⛔';
  const promoted = r.regions.filter((w) => w.status === 'PASSED').length;
  const aborted = r.stages.find((s) => s.outcome === 'aborted');
  const where = r.rollback.failedRegion
    ? ` in ${r.rollback.failedRegion}${aborted ? ` ${stageLabel(aborted.stage, aborted.weight)}` : ''}`
    : '';
  const why = r.rollback.reason ? `: ${r.rollback.reason}` : '';
  const detected = r.timeToDetectMs === null ? '' : ` Detected in ${formatDuration(r.timeToDetectMs)}.`;
  const back = !r.rollback.triggered
    ? ''
    : r.finalState === 'FAILED'
      ? ' The rollback could NOT be verified.'
      : ` Rolled back in ${formatDuration(r.timeToRollbackMs)}.`;
  const times = `${detected}${back}`;
  const lines = [
    md(
      `${icon} ${r.version} ${r.finalState} (${r.strategy}, ${promoted} of ${r.regions.length} regions promoted, ` +
        `${formatDuration(r.durationMs)})${where}${why}.`,
    ) + times,
    ...(r.rollback.scope === 'region'
      ? [
          '',
          md(
            `↩️ Region-only rollback: ${r.rollback.regions.join(', ') || 'no region'} rolled back, ` +
              `${r.rollback.kept.join(', ') || 'no region'} kept on ${r.version}.`,
          ),
        ]
      : []),
    ...r.mitigation
      .filter((m) => m.restored)
      .map((m) => ['', md(restoreLine(m))])
      .flat(),
    '',
    '| Wave | Region | Result | Stages passed | Final version |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const w of r.regions) {
    const kept = w.outcome === 'promoted' && r.rollback.scope === 'region' ? ', kept on the candidate' : '';
    const result =
      w.status === 'PASSED'
        ? `✅ passed${w.rolledBack ? ', rolled back' : kept}`
        : w.status === 'FAILED'
          ? '❌ failed'
          : '⏭️ not reached';
    lines.push(
      `| ${[String(w.wave), w.region, result, String(w.stagesPassed), w.finalVersion ?? 'no answer']
        .map(mdCell)
        .join(' | ')} |`,
    );
  }
  return lines;
}

const CONTROL_ICON: Record<ControlResult['verdict'], string> = {
  pass: '✅',
  fail: '❌',
  could_not_run: '⚠️',
  skipped: '⏭️',
};

/** The controls: would the checks catch a bad release and pass a good one, in this run. */
function controlLines(controls: readonly ControlResult[]): string[] {
  return [
    '',
    '### Controls',
    '',
    '| Control | Region | Result | Outcome | Time | Why |',
    '| --- | --- | --- | --- | --- | --- |',
    ...controls.map(
      (c) =>
        `| ${[
          c.name,
          c.region,
          `${CONTROL_ICON[c.verdict]} ${c.verdict}`,
          c.finalState,
          `${(c.durationMs / 1000).toFixed(1)} s`,
          c.reason,
        ]
          .map(mdCell)
          .join(' | ')} |`,
    ),
  ];
}
