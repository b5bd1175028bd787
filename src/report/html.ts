import Handlebars from 'handlebars';
import { ms, num, pct } from '../util/format.ts';
import type { WindowMetrics } from '../analysis/metrics.ts';
import { edges, errorRateChart, latencyBars, recoveryChart, round, textWidth } from './charts.ts';
import { replaceControls } from '../util/text.ts';
import { formatDuration, formatThreshold, formatValue, stageLabel } from './format.ts';
import { differentialRow, headline, policyText } from './headline.ts';
import type { DifferentialResult, DifferentialVerdict } from '../analysis/differential.ts';
import type { RegionOutcomeKind, Report, ReportMitigation, RolloutReport, Scenario } from './model.ts';
import { predictionView } from './prediction-view.ts';
import type { Finding } from './verdict.ts';
import { swimlanes } from './swimlanes.ts';
import { EXPERIMENT } from './templates/experiment.ts';
import { PREDICTION } from './templates/prediction.ts';
import { PAGE } from './templates/page.ts';
import { ROLLOUT } from './templates/rollout.ts';
import { STYLE } from './templates/style.ts';
import { LATENCY_CHART, RATE_CHART, RECOVERY_CHART, SWIMLANES, TREND_CHART } from './templates/svg.ts';

// report.html: one self-contained page rendered from the Report. This file turns the report
// into a view (every string formatted, every chart's geometry computed) and the templates
// place it. Templates are TS string constants, not .hbs files read at run time, so that the
// esbuild bundle of the Action carries them (import.meta.url points into dist/ there).
//
// Escaping: every value reaches the page through {{ }}, which HTML-escapes & < > " ' ` =.
// strict mode makes a template that names a missing field throw instead of printing "",
// and knownHelpersOnly rules out helpers we did not mean to have. Control characters from
// outside become U+FFFD on the whole page at the end (the templates hold none of their own).

const hb = Handlebars.create();
hb.registerPartial({
  style: STYLE,
  experiment: EXPERIMENT,
  rollout: ROLLOUT,
  latencyChart: LATENCY_CHART,
  rateChart: RATE_CHART,
  recoveryChart: RECOVERY_CHART,
  swimlanes: SWIMLANES,
  prediction: PREDICTION,
  trendChart: TREND_CHART,
});
const page = hb.compile(PAGE, { strict: true, knownHelpersOnly: true });

export function renderHtml(report: Report): string {
  return replaceControls(page(pageView(report)));
}

const TAGS = { closes: 'closes gate', advisory: 'advisory', pass: 'pass' } as const;

const REASONS_LABEL = {
  closes: 'Why it is closed',
  advisory: 'Open, but these failed (advisory under the policy)',
  pass: 'Why it is open',
} as const;

function findingView(f: Finding) {
  return { text: f.text, tone: f.effect, label: TAGS[f.effect] };
}

export function pageView(report: Report) {
  const { gate } = report;
  const top = headline(report);
  return {
    reportVersion: report.reportVersion,
    runId: report.runId,
    commit: report.commit ?? 'unknown',
    version: report.version,
    failureRate: pct(report.failureRate),
    gate: {
      status: top.status,
      tone: top.status.toLowerCase(),
      overall: report.overall,
      overallTone: report.overall.toLowerCase(),
      policy: policyText(gate.policy),
      // The one to three findings that decided it, on top; every finding below, one click away.
      reasons: top.reasons.map(findingView),
      reasonsEffect: top.reasons[0]?.effect ?? 'pass',
      reasonsLabel: REASONS_LABEL[top.reasons[0]?.effect ?? 'pass'],
      more:
        top.more === 0
          ? ''
          : `and ${top.more} more ` +
            (top.reasons[0]?.effect === 'advisory' ? 'advisory findings' : 'reasons that close the gate') +
            `: every finding is in the list below`,
      findings: gate.findings.map(findingView),
      figures: Object.values(top.figures),
    },
    hasExperiments: report.scenarios.length > 0,
    experiments: report.scenarios.map(experimentView),
    rollout: report.rollout ? rolloutView(report.rollout) : null,
    controls: (report.controls ?? []).map((c) => ({
      ...c,
      tone: CONTROL_TONE[c.verdict],
      time: `${(c.durationMs / 1000).toFixed(1)} s`,
    })),
    prediction: report.prediction ? predictionView(report.prediction) : null,
    environment: {
      docker: report.environment.dockerVersion ?? 'unknown',
      compose: report.environment.composeVersion ?? 'unknown',
      node: report.environment.node,
      injectionMethods: report.environment.injectionMethods.join(', ') || 'none',
      notes: report.environment.notes,
    },
  };
}

function experimentView(s: Scenario, index: number) {
  const recoveryMeasurement = s.measurements.find((m) => m.name === 'recovery_time_seconds');
  const recovery = recoveryChart(s.recoveryTimeSeconds, s.thresholdSeconds, recoveryMeasurement?.pass ?? true);
  const latency = latencyBars(s.windows);
  const rate = errorRateChart(s.series, s.faultWindow, s.durationMs);
  const params = Object.entries(s.fault.params)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return {
    anchor: `experiment-${index + 1}`,
    name: s.name,
    status: s.status,
    tone: s.status.toLowerCase(),
    description: s.description,
    error: s.error,
    fault: `${s.fault.kind} via ${s.fault.method}`,
    params,
    targets: s.targets.join(', ') || 'none',
    faultWindow:
      s.faultWindow.toMs > s.faultWindow.fromMs
        ? `${formatDuration(s.faultWindow.fromMs)} to ${formatDuration(s.faultWindow.toMs)}`
        : 'not injected',
    duration: formatDuration(s.durationMs),
    reverted: s.reverted ? 'yes' : 'no',
    notes: s.notes,
    writesLost: num(s.acknowledgedWritesLost),
    hasCharts: latency !== null || rate !== null || recovery !== null,
    latency: latency ? edges(latency) : null,
    rate: rate ? { ...edges(rate), emptyY: round(rate.plot.y + rate.plot.height - 2) } : null,
    recovery: recovery
      ? {
          ...edges(recovery),
          barClass: recovery.bar?.pass === false ? 'bar-fail' : 'bar-pass',
          thresholdTop: recovery.plot.y - 10,
          noteY: round(recovery.plot.y + recovery.plot.height / 2 + 4),
          // Keep the label inside the chart when the threshold sits near the right edge.
          thresholdAnchor: !recovery.threshold
            ? 'middle'
            : recovery.threshold.x + textWidth(recovery.threshold.label) / 2 >
                recovery.plot.x + recovery.plot.width + 20
              ? 'end'
              : recovery.threshold.x - textWidth(recovery.threshold.label) / 2 < 0
                ? 'start'
                : 'middle',
        }
      : null,
    measurements: s.measurements.map((m) => ({
      name: m.name,
      value: formatValue(m.value, m.unit),
      threshold: formatThreshold(m),
      result: m.pass ? 'pass' : 'fail',
      tone: m.pass ? 'pass' : 'fail',
      detail: m.detail ?? '',
    })),
    windows: s.windows.map((w) => ({
      window: w.window,
      from: formatDuration(w.fromMs),
      to: formatDuration(w.toMs),
      count: w.count,
      errors: w.errors,
      errorRate: pct(w.errorRate),
      p50: ms(w.p50Ms),
      p95: ms(w.p95Ms),
      p99: ms(w.p99Ms),
      throughput: `${num(w.throughputRps)} rps`,
    })),
  };
}

const CONTROL_TONE = { pass: 'pass', fail: 'fail', could_not_run: 'yellow', skipped: 'skipped' } as const;

function rolloutView(r: RolloutReport) {
  const lanes = edges(swimlanes(r));
  return {
    version: r.version,
    finalState: r.finalState,
    tone: r.finalState.toLowerCase(),
    strategy: r.strategy,
    failureRate: pct(r.failureRate),
    duration: formatDuration(r.durationMs),
    detect: formatDuration(r.timeToDetectMs),
    rollbackTime: formatDuration(r.timeToRollbackMs),
    traffic:
      `${r.traffic.sent} requests sent, ${r.traffic.acknowledgedWrites} writes acknowledged, ` +
      `${r.traffic.missingReads} missing reads` +
      (r.traffic.untimed > 0
        ? `, ${r.traffic.untimed} not timed (the gate's event loop stalled up to ${r.traffic.maxClientStallMs} ms)`
        : ''),
    rollbackReason: r.rollback.reason,
    failedRegion: r.rollback.failedRegion,
    lanes: { ...lanes, lanes: lanes.lanes.map(laneView) },
    regions: r.regions.map((w) => ({
      wave: w.wave,
      region: w.region,
      status: w.status.replace('_', ' '),
      tone: w.status.toLowerCase(),
      stagesPassed: w.stagesPassed,
      previous: w.previousVersion,
      finalVersion: w.finalVersion ?? 'no answer',
      outcome: w.outcome,
      outcomeText: OUTCOME[w.outcome].text,
      outcomeTone: OUTCOME[w.outcome].tone,
      reason: w.reason ?? '',
    })),
    scope: r.rollback.scope ?? 'none',
    rolledBackRegions: r.rollback.regions.join(', ') || 'none',
    keptRegions: r.rollback.kept.join(', ') || 'none',
    decisions: r.rollback.decisions.map((d) => ({
      failedRegion: d.failedRegion,
      scope: d.decision.scope,
      tone: d.decision.scope === 'region' ? 'advisory' : 'closes',
      summary: d.decision.summary,
      evidence: d.decision.evidence,
      result: d.ok ? 'verified' : 'NOT verified',
      duration: formatDuration(d.durationMs),
    })),
    mitigation: r.mitigation.map(mitigationView),
    differential: r.differential.map((d) => differentialView(d, r)),
    stages: r.stages.map(stageView),
    checks: r.stages.flatMap(checkViews),
    verifications: r.rollback.verifications.map(verificationView),
    problems: r.rollback.problems,
    timeline: r.timeline.map(timelineView),
  };
}

type Stage = RolloutReport['stages'][number];

function laneView(l: ReturnType<typeof swimlanes>['lanes'][number]) {
  return {
    ...l,
    yEnd: l.y + l.height,
    nameY: round(l.y + l.height / 2 - 2),
    statusY: round(l.y + l.height / 2 + 11),
    noteY: round(l.y + l.height / 2 + 4),
    statusTone: l.status.toLowerCase(),
    statusText: `${l.status.replace('_', ' ')}${l.status === 'PASSED' && l.rolledBack ? ' · ROLLED BACK' : ''}`,
    blocks: l.blocks.map((b) => ({
      ...b,
      labelX: round(b.x + b.width / 2),
      labelY: round(b.y + b.height / 2 + 4),
      labelClass: b.tone === 'promotion' || b.tone === 'yellow' ? 'on-light' : '',
    })),
  };
}

function stageView(s: Stage) {
  return {
    region: s.region,
    label: stageLabel(s.stage, s.weight),
    verdict: s.verdict,
    aborted: s.outcome === 'aborted',
    duration: s.endedAtMs === null ? 'n/a' : formatDuration(s.endedAtMs - s.startedAtMs),
    analyses: s.analyses,
    canaryCounts: `${s.canary.count} / ${s.canary.errors}`,
    canaryErrorRate: pct(s.canary.errorRate),
    baselineErrorRate: baselineText(s.baseline, pct(s.baseline.errorRate)),
    canaryP99: ms(s.canary.p99Ms),
    baselineP99: baselineText(s.baseline, ms(s.baseline.p99Ms)),
    reasons: s.reasons,
    // Green stages explain themselves in a closed box; anything else is open at once.
    reasonsOpen: s.verdict !== 'green' || s.outcome === 'aborted',
  };
}

function checkViews(s: Stage) {
  return s.checks.map((c) => ({
    region: s.region,
    stage: stageLabel(s.stage, s.weight),
    source: c.source,
    name: c.name,
    query: c.query,
    value: c.value === null ? 'no data' : num(c.value),
    range: rangeText(c.min, c.max),
    samples: c.samples,
    verdict: c.verdict,
  }));
}

function verificationView(v: RolloutReport['rollback']['verifications'][number]) {
  return {
    region: v.region,
    result: v.ok ? 'verified' : 'failed',
    tone: v.ok ? 'pass' : 'fail',
    expected: v.expectedVersion,
    reported: v.reportedVersion ?? 'no answer',
    container: v.containerState,
    healthChecks: v.healthChecks,
    problem: v.problem ?? '',
  };
}

function timelineView(e: RolloutReport['timeline'][number]) {
  return {
    at: formatDuration(e.atMs),
    event: e.event,
    from: e.from,
    to: e.to,
    region: e.region ?? '',
    stage: e.stage === null ? '' : String(e.stage + 1),
    detail: e.detail ?? '',
  };
}

const OUTCOME: Record<RegionOutcomeKind, { text: string; tone: string }> = {
  promoted: { text: 'on the candidate', tone: 'passed' },
  rolled_back: { text: 'rolled back', tone: 'rolled_back' },
  untouched: { text: 'untouched', tone: 'not_reached' },
};

// could_not_run closes the gate like a failure: red, as an experiment that could not run.
const DIFFERENTIAL_TONE: Record<DifferentialVerdict, string> = {
  pass: 'pass',
  regression: 'fail',
  could_not_run: 'error',
};

function differentialView(d: DifferentialResult, r: RolloutReport) {
  return { ...differentialRow(d, r), tone: DIFFERENTIAL_TONE[d.verdict], reasons: d.reasons, notes: d.notes };
}

function mitigationView(m: ReportMitigation) {
  const i = m.integrity;
  return {
    region: m.region,
    backup: m.backup ? `${m.backup.durationMs} ms (${num(m.backup.rows)} rows)` : 'no backup',
    integrity: !i ? 'not checked' : i.ok ? 'intact' : 'damaged',
    integrityTone: !i ? 'not_reached' : i.ok ? 'pass' : 'fail',
    integrityProblems: i?.problems ?? [],
    restored: m.restored
      ? `yes${m.restore ? `, in ${m.restore.durationMs} ms (${num(m.restore.rowsRestored)} rows)` : ''}`
      : 'no',
    preDeploy: `${m.preDeployWritesChecked} / ${m.preDeployWritesMissing}`,
    candidate: `${m.candidateWritesUndone} / ${m.candidateWritesLostByCandidate} of ${m.candidateWritesAcknowledged}`,
    problems: m.problems,
  };
}

function rangeText(min: number | null, max: number | null): string {
  if (min !== null && max !== null) return `${num(min)} to ${num(max)}`;
  if (max !== null) return `<= ${num(max)}`;
  return min !== null ? `>= ${num(min)}` : 'any';
}

/** A window with no baseline traffic: say so instead of "n/a". */
function baselineText(b: WindowMetrics, text: string): string {
  return b.count === 0 ? 'no baseline' : text;
}
