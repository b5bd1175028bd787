import type { DifferentialResult, DifferentialVerdict, SideSummary } from '../analysis/differential.ts';
import { ms, num, pct } from '../util/format.ts';
import { cleanText, formatDuration, stageLabel } from './format.ts';
import type { Report, ReportGate, RolloutReport } from './model.ts';
import type { Finding } from './verdict.ts';

// The verdict as a person reads it in five seconds, shared by report.html and summary.md:
// the status, the one to three findings that decided it, and the key figures (experiments,
// rollout, time to detect and to roll back, risk). Everything else (every finding, the
// policy) stays below, for whoever opens it.
//
// Which findings decided it: for a closed gate, those that close it, in the verdict's order
// (the prediction or infrastructure first, then required experiments, experiments, the
// rollout, data loss; beyond three, see fewest()); for an open gate, the failures the policy
// let through (advisory);
// for an open gate with nothing but passes, one line that says so instead of every pass
// (a pass lists every measurement: that is detail, not a reason).

const MAX_REASONS = 3;

/** A key figure: label, value, one line of context, and a tone for its colour. */
export interface Figure {
  label: string;
  value: string;
  detail: string;
  /** pass, fail, warn or neutral. */
  tone: 'pass' | 'fail' | 'warn' | 'neutral';
}

export interface Headline {
  status: ReportGate['status'];
  /** One to three findings that decided the verdict. */
  reasons: Finding[];
  /** Findings of the same kind as `reasons` that did not fit (they are in the full list). */
  more: number;
  figures: { experiments: Figure; rollout: Figure; detect: Figure; rollback: Figure; risk: Figure };
}

export function headline(report: Report): Headline {
  const { gate } = report;
  const { reasons, more } = deciding(gate, report);
  return { status: gate.status, reasons, more, figures: figures(report) };
}

function deciding(gate: ReportGate, report: Report): { reasons: Finding[]; more: number } {
  const of = (effect: Finding['effect']) => gate.findings.filter((f) => f.effect === effect);
  const closes = of('closes');
  const advisory = of('advisory');
  const picked: Finding[] =
    closes.length > 0
      ? closes
      : gate.status === 'CLOSED'
        ? [{ effect: 'closes', text: 'the gate is closed, but no reason was recorded' }]
        : advisory.length > 0
          ? advisory
          : [{ effect: 'pass', text: passText(report) }];
  const shown = fewest(picked);
  return { reasons: shown, more: picked.length - shown.length };
}

/**
 * At most MAX_REASONS of the findings, in their order. When there are more, the findings about
 * something other than one experiment (the prediction, the infrastructure, a required
 * experiment missing, the rollout, lost data) keep their place and failed experiments fill the
 * rest: five failed experiments must not push a rollback out of sight (the Experiments figure
 * counts them all).
 */
function fewest(findings: Finding[]): Finding[] {
  if (findings.length <= MAX_REASONS) return findings;
  const isExperiment = (f: Finding) => f.experiment !== undefined;
  const others = findings.filter((f) => !isExperiment(f)).slice(0, MAX_REASONS);
  const keep = new Set([...others, ...findings.filter(isExperiment).slice(0, MAX_REASONS - others.length)]);
  return findings.filter((f) => keep.has(f));
}

/** The gate policy in one sentence, for the page and the job summary. */
export function policyText(p: ReportGate['policy']): string {
  return [
    `experiment failures ${p.failOnExperiment ? 'close' : 'do not close'} the gate`,
    `rollbacks ${p.failOnRollback ? 'close' : 'do not close'} it`,
    ...(p.requiredExperiments.length > 0 ? [`required: ${p.requiredExperiments.join(', ')}`] : []),
  ].join('; ');
}

/** An open gate with nothing but passes, in one line. */
function passText(report: Report): string {
  const t = report.totals;
  const r = report.rollout;
  const parts = [
    ...(t.experiments === 0
      ? []
      : [t.experiments === 1 ? 'the one experiment passed' : `all ${t.experiments} experiments passed`]),
    ...(r
      ? [
          `the rollout of ${JSON.stringify(r.version)} ` +
            `${r.finalState === 'COMPLETED' ? 'completed' : `ended ${r.finalState}`}, ` +
            `${promoted(report)} of ${r.regions.length} regions promoted`,
        ]
      : []),
  ];
  return `nothing closes the gate: ${parts.join(' and ') || 'every finding passed'}`;
}

function promoted(report: Report): number {
  return report.rollout?.regions.filter((w) => w.status === 'PASSED').length ?? 0;
}

function figures(report: Report): Headline['figures'] {
  const t = report.totals;
  const r = report.rollout;
  const p = report.prediction;
  const rolledBack = r?.rollback.triggered ?? false;
  return {
    experiments: {
      label: 'Experiments',
      value: t.experiments === 0 ? 'none' : `${t.passed} of ${t.experiments} passed`,
      detail: t.experiments === 0 ? 'no experiment ran' : `${t.failed} failed, ${t.errors} could not run`,
      tone: t.experiments === 0 ? 'neutral' : t.passed === t.experiments ? 'pass' : 'fail',
    },
    rollout: {
      label: 'Rollout',
      // ROLLED BACK, not ROLLED_BACK: a figure wraps at the space on a phone.
      value: r ? r.finalState.replace('_', ' ') : 'not run',
      detail: r ? `${promoted(report)} of ${r.regions.length} regions promoted` : 'no rollout in this run',
      tone: !r ? 'neutral' : r.finalState === 'COMPLETED' ? 'pass' : 'fail',
    },
    detect: {
      label: 'Time to detect',
      value: r ? formatDuration(r.timeToDetectMs) : 'n/a',
      detail: !r
        ? 'no rollout'
        : r.timeToDetectMs !== null
          ? 'first bad canary request to red verdict'
          : rolledBack
            ? 'aborted without a red verdict'
            : 'nothing to detect: no rollback',
      tone: 'neutral',
    },
    rollback: {
      label: 'Time to roll back',
      value: r ? formatDuration(r.timeToRollbackMs) : 'n/a',
      detail: !r
        ? 'no rollout'
        : !rolledBack
          ? 'no rollback was needed'
          : r.finalState === 'FAILED'
            ? 'the rollback was NOT verified'
            : r.rollback.scope === 'region'
              ? `${r.rollback.regions.join(', ') || 'no region'} back, verified; ` +
                `${r.rollback.kept.join(', ') || 'no region'} kept on the candidate`
              : 'every touched region back, verified',
      tone: r?.finalState === 'FAILED' && rolledBack ? 'fail' : 'neutral',
    },
    risk: {
      label: 'Risk score',
      value: p ? `${num(p.risk.score)}/100` : 'n/a',
      detail: p
        ? `${p.risk.level} (max ${num(p.risk.maxRisk)}), action ${p.action.action}`
        : 'no prediction in this run',
      tone: !p ? 'neutral' : p.risk.level === 'low' ? 'pass' : p.risk.level === 'medium' ? 'warn' : 'fail',
    },
  };
}

/** A figure for the candidate and for the baseline, under the same fault. */
export interface SidePair {
  candidate: string;
  baseline: string;
}

/** One differential run as a table row: report.html and summary.md show the same columns. */
export interface DifferentialRow {
  experiment: string;
  region: string;
  /** "stage 2 (25%)": 1-based, with the weight when the stage was recorded. */
  stage: string;
  fault: string;
  verdict: DifferentialVerdict;
  verdictText: string;
  errorRate: SidePair;
  p99: SidePair;
  recovery: SidePair;
  writesLost: SidePair;
  headline: string;
}

const DIFFERENTIAL_VERDICT: Record<DifferentialVerdict, string> = {
  pass: 'PASS',
  regression: 'REGRESSION',
  could_not_run: 'COULD NOT RUN',
};

export function differentialRow(d: DifferentialResult, r: Pick<RolloutReport, 'stages'>): DifferentialRow {
  const weight = r.stages.find((s) => s.region === d.region && s.stage === d.stage)?.weight;
  const both = (f: (s: SideSummary) => string): SidePair => ({ candidate: f(d.candidate), baseline: f(d.baseline) });
  return {
    experiment: d.experiment,
    region: d.region,
    stage: weight === undefined ? `stage ${d.stage + 1}` : stageLabel(d.stage, weight),
    fault: `${d.fault.description} via ${d.fault.method}`,
    verdict: d.verdict,
    verdictText: DIFFERENTIAL_VERDICT[d.verdict],
    errorRate: both((s) => `${pct(s.errorRate)} (n=${s.requests})`),
    p99: both((s) => ms(s.p99Ms)),
    // null: it did not serve again by the deadline (analysis/differential.ts).
    recovery: both((s) => (s.recoverySeconds === null ? 'never' : `${s.recoverySeconds.toFixed(1)} s`)),
    writesLost: both((s) => `${s.writesLost} of ${s.writesAcknowledged}`),
    headline: cleanText(d.headline),
  };
}
