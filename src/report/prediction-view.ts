import { ms, num, pct } from '../util/format.ts';
import type { Range } from '../predict/latency.ts';
import type { Calibration } from '../predict/tiers.ts';
import { prob } from '../util/round.ts';
import { formatDuration, stageLabel } from './format.ts';
import { edges } from './charts.ts';
import type { ObservedMetric, PredictionReport } from './prediction.ts';
import { riskTrendChart } from './trend-chart.ts';

// The prediction section of report.html as a view: every number formatted, the trend
// chart's geometry computed. The template (templates/prediction.ts) only places it.

const POSITION_TONE = { inside: 'green', above: 'yellow', below: 'inconclusive', unknown: 'inconclusive' } as const;
const LEVEL_TONE = { low: 'green', medium: 'yellow', high: 'red' } as const;
const ACTION_TONE = { proceed: 'green', 'small-tiers': 'yellow', close: 'red' } as const;

const rateRange = (r: Range | null) => (r === null ? 'not predicted' : `${pct(r.low)} to ${pct(r.high)}`);
const msRange = (r: Range | null) => (r === null ? 'not predicted' : `${ms(r.low)} to ${ms(r.high)}`);

/** The calibration beside a range: what the baseline beside the canary changed (tiers.ts calibrate). */
function calibrated(c: Calibration | null): { errorRate: string; p99: string } {
  return {
    errorRate: c && c.errorRateShift > 0 ? ` (calibrated +${pct(c.errorRateShift)})` : '',
    p99: c && c.p99Factor > 1 ? ` (calibrated x${num(c.p99Factor)})` : '',
  };
}

function observed(m: ObservedMetric, format: (x: number | null) => string, range: (r: Range | null) => string) {
  return {
    value: m.observed === null ? 'n/a' : `${format(m.observed)} (${m.position})`,
    range: range(m.range),
    tone: POSITION_TONE[m.position],
  };
}

export function predictionView(p: PredictionReport) {
  const trend = riskTrendChart(p.history.trends.points, p.risk.maxRisk);
  const t = p.history.trends;
  return {
    score: num(p.risk.score),
    level: p.risk.level,
    levelTone: LEVEL_TONE[p.risk.level],
    action: p.action.action,
    actionTone: ACTION_TONE[p.action.action],
    actionReason: p.action.reason,
    maxRisk: num(p.risk.maxRisk),
    formula: p.risk.formula,
    preflight: `${p.preflight.region}, ${formatDuration(p.preflight.durationMs)}`,
    accuracy:
      p.accuracy === null || p.accuracy.share === null
        ? 'no stage judged against the prediction'
        : `${p.accuracy.inside} of ${p.accuracy.stages} stages inside the predicted ranges (${pct(p.accuracy.share)})`,
    components: p.risk.components.map((c) => ({
      name: c.name,
      weight: num(c.weight),
      value: prob(c.value),
      points: num(c.points),
      explanation: c.explanation,
    })),
    failurePoints: p.risk.failurePoints.map((f) => ({
      points: num(f.points),
      where: [f.region, f.metric, f.experiment && `experiment ${f.experiment}`].filter(Boolean).join(', '),
      explanation: f.explanation,
    })),
    stages: p.stages.map((s) => ({
      label: stageLabel(s.stage, s.weight),
      breach: prob(s.breachProbability),
      errorRate: rateRange(s.errorRate),
      p99: msRange(s.p99Ms),
      observed: s.observed.map((o) => {
        const e = observed(o.errorRate, pct, rateRange);
        const l = observed(o.p99Ms, ms, msRange);
        const c = calibrated(o.calibration);
        return {
          region: o.region,
          requests: o.requests,
          errorObserved: e.value,
          errorRange: e.range + c.errorRate,
          errorTone: e.tone,
          p99Observed: l.value,
          p99Range: l.range + c.p99,
          p99Tone: l.tone,
        };
      }),
    })),
    profiles: p.preflight.profiles.map((x) => ({
      name: x.name,
      rps: num(x.rps),
      writes: pct(x.writeShare),
      canaryCounts: `${x.canary.count} / ${x.canary.errors}`,
      canaryLatency: `${ms(x.canary.p50Ms)} / ${ms(x.canary.p99Ms)}`,
      baselineCounts: `${x.baseline.count} / ${x.baseline.errors}`,
      baselineLatency: `${ms(x.baseline.p50Ms)} / ${ms(x.baseline.p99Ms)}`,
    })),
    trend: trend ? edges(trend) : null,
    trendSummary:
      `${t.runs} run(s): ${t.openShare === null ? '' : `${pct(t.openShare)} open, `}${t.rolledBack} ` +
      `rolled back${t.meanRisk === null ? '' : `, mean risk ${num(t.meanRisk)}`}` +
      (t.meanAccuracy === null ? '' : `, mean accuracy ${pct(t.meanAccuracy)}`),
    historyProblems: p.history.problems,
    notes: p.notes,
  };
}
