import type { DifferentialResult } from '../analysis/differential.ts';
import type { ControlResult } from '../rollout/control-verdict.ts';
import { describeMeasurement, formatDuration, stageLabel } from './format.ts';
import { differentialRow } from './headline.ts';
import type { RegionWave, Report, ReportMitigation, RolloutReport, Scenario } from './model.ts';
import { xmlAttr, xmlText } from './xml.ts';

// junit.xml, so that CI systems list the run like tests: one suite of experiments (a test
// case each: <failure> with the failed measurements, <error> when it could not run) and one
// suite for the rollout (a test case per region wave: <failure> when the wave was aborted,
// <skipped> when it was never reached; plus one for the rollback when there was one, a
// <failure> when it was not verified or writes from before the deploy are missing); and, when
// chaos ran on the candidate, one suite with a case per differential run: <failure> for a
// regression, <error> when it could not run (it closes the gate, so it is not <skipped>).
// time attributes are seconds.

interface Case {
  name: string;
  classname: string;
  seconds: number;
  outcome: { kind: 'failure' | 'error' | 'skipped'; message: string; type: string; body: string } | null;
  out: string;
}

export function renderJunit(report: Report): string {
  const suites = [suite('chaos experiments', report.runId, report.scenarios.map(experimentCase), properties(report))];
  if (report.rollout)
    suites.push(
      suite(`rollout of ${report.rollout.version}`, report.rollout.startedAt, rolloutCases(report.rollout), []),
    );
  const r = report.rollout;
  // Only when chaos ran on the candidate: an empty suite would list nothing in CI.
  if (r?.differential[0]) {
    const cases = r.differential.map((d) => differentialCase(d, r));
    suites.push(suite(`differential chaos on ${r.version}`, r.differential[0].startedAt, cases, []));
  }
  if (report.controls?.[0]) suites.push(suite('controls', report.runId, report.controls.map(controlCase), []));
  const all = suites.map((s) => s.counts);
  const sum = (k: keyof (typeof all)[number]) => all.reduce((n, c) => n + c[k], 0);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="chaos-gate" tests="${sum('tests')}" failures="${sum('failures')}" errors="${sum('errors')}" ` +
      `skipped="${sum('skipped')}" time="${seconds(sum('time'))}">`,
    ...suites.map((s) => s.xml),
    '</testsuites>',
    '',
  ].join('\n');
}

function properties(report: Report): [string, string][] {
  return [
    ['version', report.version],
    ['commit', report.commit ?? 'unknown'],
    ['deployment_gate', report.deploymentGate],
    ['overall', report.overall],
    ['report_version', report.reportVersion],
  ];
}

function suite(name: string, timestamp: string, cases: Case[], props: [string, string][]) {
  const counts = {
    tests: cases.length,
    failures: cases.filter((c) => c.outcome?.kind === 'failure').length,
    errors: cases.filter((c) => c.outcome?.kind === 'error').length,
    skipped: cases.filter((c) => c.outcome?.kind === 'skipped').length,
    time: cases.reduce((t, c) => t + c.seconds, 0),
  };
  const lines = [
    `  <testsuite name="${xmlAttr(name)}" tests="${counts.tests}" failures="${counts.failures}" ` +
      `errors="${counts.errors}" skipped="${counts.skipped}" time="${seconds(counts.time)}" ` +
      `timestamp="${xmlAttr(timestamp)}">`,
  ];
  if (props.length > 0) {
    lines.push(
      '    <properties>',
      ...props.map(([k, v]) => `      <property name="${xmlAttr(k)}" value="${xmlAttr(v)}"/>`),
      '    </properties>',
    );
  }
  for (const c of cases) lines.push(testcase(c));
  lines.push('  </testsuite>');
  return { xml: lines.join('\n'), counts };
}

function testcase(c: Case): string {
  const open =
    `    <testcase name="${xmlAttr(c.name)}" classname="${xmlAttr(c.classname)}" ` + `time="${seconds(c.seconds)}"`;
  const inner: string[] = [];
  const o = c.outcome;
  if (o?.kind === 'skipped') inner.push(`      <skipped message="${xmlAttr(o.message)}"/>`);
  else if (o)
    inner.push(
      `      <${o.kind} message="${xmlAttr(o.message)}" type="${xmlAttr(o.type)}">${xmlText(o.body)}</${o.kind}>`,
    );
  if (c.out) inner.push(`      <system-out>${xmlText(c.out)}</system-out>`);
  return inner.length === 0 ? `${open}/>` : [`${open}>`, ...inner, '    </testcase>'].join('\n');
}

function experimentCase(s: Scenario): Case {
  const lines = s.measurements.map((m) => `${m.pass ? 'PASS' : 'FAIL'} ${describeMeasurement(m)}`);
  const out = [
    s.description,
    `fault: ${s.fault.kind} via ${s.fault.method} on ${s.targets.join(', ') || 'no target'}`,
    ...lines,
    ...s.notes.map((n) => `note: ${n}`),
  ].join('\n');
  const base = { name: s.name, classname: 'chaos-gate.experiments', seconds: s.durationMs / 1000, out };
  if (s.status === 'ERROR') {
    return {
      ...base,
      outcome: {
        kind: 'error',
        type: 'ERROR',
        message: `could not run: ${s.error ?? 'no reason given'}`,
        body: s.error ?? '',
      },
    };
  }
  const failed = s.measurements.filter((m) => !m.pass);
  if (s.status === 'FAIL' || failed.length > 0) {
    const texts = failed.map((m) => describeMeasurement(m));
    return {
      ...base,
      outcome: { kind: 'failure', type: 'FAIL', message: texts.join('; ') || 'status FAIL', body: texts.join('\n') },
    };
  }
  return { ...base, outcome: null };
}

function rolloutCases(r: RolloutReport): Case[] {
  const cases = r.regions.map((w) => waveCase(r, w));
  if (r.rollback.triggered) {
    const verified = r.finalState === 'ROLLED_BACK';
    const span =
      r.rollback.startedAtMs !== null && r.rollback.endedAtMs !== null
        ? r.rollback.endedAtMs - r.rollback.startedAtMs
        : 0;
    const out = r.rollback.verifications
      .map(
        (v) =>
          `${v.ok ? 'verified' : 'NOT verified'} ${v.region}: expected ${v.expectedVersion}, ` +
          `reported ${v.reportedVersion ?? 'no answer'}${v.problem ? ` (${v.problem})` : ''}`,
      )
      .join('\n');
    const decisions = r.rollback.decisions.map(
      (d) => `decision (${d.decision.scope}) after ${d.failedRegion}: ${d.decision.summary}`,
    );
    const lost = r.mitigation.filter((m) => m.preDeployWritesMissing + m.acknowledgedReadBack.missing > 0);
    const lostText = lost.map(
      (m) =>
        `${m.region}: ${m.preDeployWritesMissing} of ${m.preDeployWritesChecked} pre-deploy writes missing, ` +
        `${m.acknowledgedReadBack.missing} of ${m.acknowledgedReadBack.checked} acknowledged writes do not read back`,
    );
    // Lost data fails the case even if the versions were verified: the rollback did not put the region back as it was.
    const outcome: Case['outcome'] =
      lost.length > 0
        ? {
            kind: 'failure',
            type: 'DATA_LOST',
            message: lostText.join('; '),
            body: [...lostText, ...r.rollback.problems].join('\n'),
          }
        : verified
          ? null
          : {
              kind: 'failure',
              type: 'ROLLBACK_FAILED',
              message: r.rollback.problems.join('; ') || 'the rollback was not verified',
              body: r.rollback.problems.join('\n'),
            };
    cases.push({
      name: 'rollback',
      classname: 'chaos-gate.rollout',
      seconds: span / 1000,
      outcome,
      out: [
        `rolled back after: ${r.rollback.reason ?? 'an abort'}`,
        ...decisions,
        ...(r.rollback.kept.length > 0 ? [`kept on the candidate: ${r.rollback.kept.join(', ')}`] : []),
        out,
      ].join('\n'),
    });
  }
  return cases;
}

function waveCase(r: RolloutReport, w: RegionWave): Case {
  const stages = r.stages.filter((s) => s.region === w.region);
  const out = stages
    .map((s) => `${stageLabel(s.stage, s.weight)}: ${s.verdict} (${s.outcome}) ${s.reasons.join('; ')}`)
    .join('\n');
  const m = r.mitigation.find((x) => x.region === w.region);
  const kept =
    w.outcome === 'promoted' && r.rollback.scope === 'region' ? `\nkept on ${r.version} (rollback: region)` : '';
  const tail =
    `${w.rolledBack ? `\nrolled back to ${w.previousVersion}` : ''}${kept}${m ? `\n${mitigationText(m)}` : ''}` +
    `\nfinal version: ${w.finalVersion ?? 'no answer'}`;
  const base = {
    name: `rollout ${w.region}`,
    classname: 'chaos-gate.rollout',
    seconds: w.startedAtMs !== null && w.endedAtMs !== null ? (w.endedAtMs - w.startedAtMs) / 1000 : 0,
    out: `${out}${tail}`.trim(),
  };
  if (w.status === 'NOT_REACHED') {
    return {
      ...base,
      outcome: {
        kind: 'skipped',
        type: 'NOT_REACHED',
        message: `not reached: the rollout ended ${r.finalState} before this wave`,
        body: '',
      },
    };
  }
  if (w.status === 'FAILED') {
    const aborted = stages.find((s) => s.outcome === 'aborted');
    const where = aborted ? `${stageLabel(aborted.stage, aborted.weight)} ${aborted.verdict}: ` : '';
    const detect = r.timeToDetectMs === null ? '' : `\ndetected in ${formatDuration(r.timeToDetectMs)}`;
    return {
      ...base,
      outcome: {
        kind: 'failure',
        type: 'WAVE_ABORTED',
        message: `${where}${w.reason ?? 'aborted'}`,
        body: `${(aborted?.reasons ?? [w.reason ?? 'aborted']).join('\n')}${detect}`,
      },
    };
  }
  return { ...base, outcome: null };
}

/** One differential run: the headline is the message, both sides' figures are the output. */
function differentialCase(d: DifferentialResult, r: RolloutReport): Case {
  const row = differentialRow(d, r);
  const side = (s: 'candidate' | 'baseline') =>
    `${s}: error rate ${row.errorRate[s]}, p99 ${row.p99[s]}, served again after ${row.recovery[s]}, ` +
    `acknowledged writes lost ${row.writesLost[s]}, effect ${d[s].effect ?? 'none'}`;
  const out = [`fault: ${row.fault}`, side('candidate'), side('baseline'), ...d.notes.map((n) => `note: ${n}`)];
  const base = {
    name: `${d.experiment} in ${d.region} stage ${d.stage + 1}`,
    classname: 'chaos-gate.differential',
    seconds: d.durationMs / 1000,
    out: out.join('\n'),
  };
  const body = d.reasons.join('\n');
  if (d.verdict === 'pass') return { ...base, outcome: null };
  return {
    ...base,
    outcome:
      d.verdict === 'regression'
        ? { kind: 'failure', type: 'REGRESSION', message: row.headline, body }
        : { kind: 'error', type: 'COULD_NOT_RUN', message: row.headline, body },
  };
}

/** The region's data after its rollback, in the wave case's output. */
function mitigationText(m: ReportMitigation): string {
  const i = m.integrity;
  const restore = m.restore ? `, ${m.restore.rowsRestored} rows in ${m.restore.durationMs} ms` : '';
  return [
    `database backup: ${m.backup ? `${m.backup.rows} rows in ${m.backup.durationMs} ms` : 'none'}`,
    `integrity: ${!i ? 'not checked' : i.ok ? 'intact' : `damaged (${i.problems.join('; ')})`}`,
    `restored: ${m.restored ? `yes${restore}` : 'no'}`,
    `pre-deploy writes: ${m.preDeployWritesChecked} checked, ${m.preDeployWritesMissing} missing; ` +
      `acknowledged before the deploy: ${m.acknowledgedReadBack.checked} read back, ` +
      `${m.acknowledgedReadBack.missing} missing`,
    `candidate writes: ${m.candidateWritesAcknowledged} acknowledged, ` +
      `${m.candidateWritesUndone} undone by the restore, ${m.candidateWritesLostByCandidate} lost by the candidate`,
    ...m.problems.map((p) => `data problem: ${p}`),
  ].join('\n');
}

function seconds(s: number): string {
  return Math.max(0, s).toFixed(3);
}

const CONTROL_OUTCOME = { fail: 'failure', could_not_run: 'error', skipped: 'skipped' } as const;

/** One control: a fail is a failure (the checks are not to be trusted), could not run an error, skipped skipped. */
function controlCase(c: ControlResult): Case {
  const outcome =
    c.verdict === 'pass'
      ? null
      : {
          kind: CONTROL_OUTCOME[c.verdict],
          message: c.reason,
          type: c.verdict,
          body: c.reason,
        };
  return {
    name: `control ${c.name} in ${c.region}`,
    classname: 'chaos-gate.controls',
    seconds: c.durationMs / 1000,
    outcome,
    out: `${c.finalState}: ${c.reason}`,
  };
}
