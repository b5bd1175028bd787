import { describe, expect, it } from 'vitest';
import { md, mdCell, renderSummary } from '../../src/report/summary.ts';
import {
  cpuSpike,
  erroredExperiment,
  memorySpike,
  networkLatency,
  serviceKill,
} from '../fixtures/report/experiments.ts';
import { predictionFixture } from '../fixtures/report/prediction.ts';
import { rolloutFixture } from '../fixtures/report/rollout.ts';
import {
  ALL_RUNS,
  dataLossRun,
  differentialRun,
  errorRun,
  failingRun,
  HOSTILE,
  hostileDifferentialRun,
  hostileRun,
  nothingRun,
  passingRun,
  regionRollbackRun,
  reportOf,
  restoreRun,
  type Run,
} from '../fixtures/report/runs.ts';
import { differentialMix } from '../fixtures/report/differential.ts';

/** The rows of the Markdown table under a heading: split on unescaped pipes only. */
function tableRows(text: string, heading: string): string[][] {
  const lines = text.slice(text.indexOf(heading)).split('\n');
  const start = lines.findIndex((l) => l.startsWith('|'));
  const end = lines.findIndex((l, i) => i > start && !l.startsWith('|'));
  return lines.slice(start + 2, end).map((l) =>
    l
      .slice(1, -1)
      .split(/(?<!\\)\|/)
      .map((c) => c.trim()),
  );
}

describe('step summary', () => {
  it('starts with the verdict line', () => {
    expect(renderSummary(reportOf(passingRun())).split('\n')[0]).toBe('## ✅ Deployment gate OPEN: v2 PASS');
    expect(renderSummary(reportOf(failingRun())).split('\n')[0]).toBe('## ⛔ Deployment gate CLOSED: v3 FAIL');
  });

  it('lists the findings that decided it on top, every finding (closing ones first) folded at the end, and a row per experiment', () => {
    const text = renderSummary(reportOf(failingRun()));
    const icons = (lines: string[]) => lines.filter((l) => l.startsWith('- ')).map((l) => l.slice(2, 4).trim());
    const [top, rest] = [text.slice(0, text.indexOf('### Experiments')), text.slice(text.indexOf('<details>'))];
    expect(icons(top.split('\n'))).toEqual(['⛔', '⛔']);
    expect(icons(rest.slice(0, rest.indexOf('</details>')).split('\n'))).toEqual(['⛔', '⛔', '✅']);
    expect(rest).toMatch(
      /^<details><summary>Every finding \(3\) and the policy<\/summary>\n\n- ⛔ experiment "service-kill" FAIL/,
    );
    expect(tableRows(text, '### Experiments')).toEqual([
      [
        'service-kill',
        '❌ FAIL',
        'kill via host-kill-9',
        '42.5 s (threshold 15 s)',
        'recovery\\_time\\_seconds 42.5 s (needs &lt;= 15 s)',
      ],
      ['network-latency', '✅ PASS', 'latency via fault-endpoint', '1.2 s (threshold 5 s)', 'none'],
    ]);
  });

  it('has a rollout line and a row per wave', () => {
    const text = renderSummary(reportOf(failingRun()));
    expect(text).toMatch(
      /^⛔ v3 ROLLED\\_BACK \(canary, 1 of 4 regions promoted, 24 s\) in us-east stage 2 \(25%\): red verdict: .*\. Detected in 939 ms\. Rolled back in 1\.6 s\.$/m,
    );
    expect(tableRows(text, '### Rollout').map((r) => [r[1], r[2]])).toEqual([
      ['us-west', '✅ passed, rolled back'],
      ['us-east', '❌ failed'],
      ['eu-west', '⏭️ not reached'],
      ['ap-south', '⏭️ not reached'],
    ]);
  });

  it('has one line for a region-only rollback, and marks the regions kept on the candidate', () => {
    const text = renderSummary(reportOf(regionRollbackRun()));
    expect(text.split('\n').filter((l) => l.includes('Region-only rollback'))).toEqual([
      '↩️ Region-only rollback: eu-west rolled back, us-west, us-east kept on v4.',
    ]);
    expect(tableRows(text, '### Rollout').map((r) => [r[1], r[2]])).toEqual([
      ['us-west', '✅ passed, kept on the candidate'],
      ['us-east', '✅ passed, kept on the candidate'],
      ['eu-west', '❌ failed'],
      ['ap-south', '⏭️ not reached'],
    ]);
    expect(text).not.toContain('restored from its backup');
    expect(renderSummary(reportOf(failingRun()))).not.toContain('Region-only');
  });

  it('has one line per database restore, and says when pre-deploy writes are missing', () => {
    const lines = (run: typeof restoreRun) =>
      renderSummary(reportOf(run()))
        .split('\n')
        .filter((l) => l.startsWith('🗄️'));
    expect(lines(restoreRun)).toEqual([
      "🗄️ us-east's database restored from its backup in 2 ms: all 118 pre-deploy writes back; 10 of 12 candidate writes undone (2 lost by the candidate itself).",
    ]);
    expect(lines(dataLossRun)).toEqual([
      "🗄️ eu-west's database restored from its backup in 2 ms: 3 pre-deploy write(s) MISSING; 10 of 12 candidate writes undone (2 lost by the candidate itself).",
    ]);
  });

  it("says so without experiments or rollout, and shows an ERROR experiment's cause", () => {
    const nothing = renderSummary(reportOf(nothingRun()));
    expect(nothing).toContain('_No experiments ran._');
    expect(nothing).toContain('_No rollout was run._');
    const error = tableRows(renderSummary(reportOf(errorRun())), '### Experiments');
    expect(error[1]?.slice(0, 2)).toEqual(['network-partition', '⚠️ ERROR']);
    expect(error[1]?.[4]).toBe(
      'could not run: docker network disconnect failed: Error response from daemon: network chaos-gate\\_db not found',
    );
  });

  it('escapes cells: pipes, HTML, Markdown and line breaks cannot break the table or inject markup', () => {
    const text = renderSummary(reportOf(hostileRun()));
    expect(text).not.toContain('<script>');
    expect(text).not.toMatch(/(?<!\\)\[l(?<!\\)\]\(/);
    const rows = tableRows(text, '### Experiments');
    // Still exactly 5 cells per row: no pipe got through unescaped, no newline ended the row.
    expect(rows.map((r) => r.length)).toEqual([5, 5]);
    expect(rows[0]?.[0]).toBe(
      'kill &lt;script&gt;alert("x&amp;y")&lt;/script&gt; \\| \'quote\' &amp; "dq" \\*b\\* \\_i\\_ \\[l\\](javascript:alert(1)) \\`code\\`<br>second line',
    );
  });

  it('md and mdCell escape as documented', () => {
    expect(mdCell('a|b <i>&\nc')).toBe('a\\|b &lt;i&gt;&amp;<br>c');
    expect(md('a\nb')).toBe('a b');
    expect(mdCell('*_[]`~#!\\')).toBe('\\*\\_\\[\\]\\`\\~\\#\\!\\\\');
  });
});

/** The lines before the first Markdown table. */
function beforeTable(text: string): string[] {
  const lines = text.split('\n');
  return lines.slice(
    0,
    lines.findIndex((l) => l.startsWith('|')),
  );
}

/** A realistic bad day: four experiments failed or could not run, the prediction, a rollback with a restore. */
const badDayRun = (): Run => {
  const rollout = rolloutFixture({
    version: 'v7',
    failureRate: 0.8,
    failAt: { region: 'us-east', stage: 1 },
    mitigation: 'restore',
  });
  return {
    version: 'v7',
    failureRate: 0.8,
    rollout,
    prediction: predictionFixture({ rollout }),
    experiments: [
      serviceKill({ recoverySeconds: 42.5 }),
      networkLatency({ recoverySeconds: 9 }),
      memorySpike({ recoverySeconds: 31 }),
      erroredExperiment(
        'network-partition',
        'docker network disconnect failed: Error response from daemon: network chaos-gate_db not found',
      ),
      cpuSpike(),
    ],
  };
};

describe('the top of the summary: a verdict read in five seconds', () => {
  it('has the verdict, the findings that decided it, the key figures and the risk, in that order, before any table', () => {
    const top = beforeTable(renderSummary(reportOf(failingRun())));
    expect(top.length).toBeLessThanOrEqual(25);
    expect(top).toEqual([
      '## ⛔ Deployment gate CLOSED: v3 FAIL',
      '',
      '- ⛔ experiment "service-kill" FAIL: recovery\\_time\\_seconds 42.5 s breaks the threshold &lt;= 15 s; 1 other measurement passed',
      expect.stringMatching(
        /^- ⛔ rollout of "v3" ROLLED\\_BACK in us-east stage 2 \(25%\): red verdict: .*, rolled back in 1\.6 s, every touched region verified on its previous version$/,
      ),
      '',
      '**Experiments** 1 of 2 passed (1 failed, 0 could not run) · **Rollout** ROLLED BACK (1 of 4 regions promoted) · **Time to detect** 939 ms · **Time to roll back** 1.6 s',
      '',
      '<sub>Commit 3f9c2d1a8b7e6f5d4c3b2a1908f7e6d5c4b3a291 · run 2026-11-22T01:00:00.000Z · candidate failure rate 80%</sub>',
      '',
      '### Experiments',
      '',
    ]);
  });

  it('stays within 25 lines before the first table on a bad day: three reasons (the rollback kept among them), then how many more', () => {
    const report = reportOf(badDayRun());
    expect(report.gate.findings.filter((f) => f.effect === 'closes')).toHaveLength(5);
    const text = renderSummary(report);
    const top = beforeTable(text);
    expect(top.length).toBeLessThanOrEqual(25);
    const reasons = top.filter((l) => l.startsWith('- '));
    expect(reasons.map((l) => l.split(':')[0])).toEqual([
      '- ⛔ experiment "service-kill" FAIL',
      '- ⛔ experiment "network-latency" FAIL',
      '- ⛔ rollout of "v7" ROLLED\\_BACK in us-east stage 2 (25%)',
      '- … and 2 more (every finding is at the end)',
    ]);
    const at = (prefix: string) => top.findIndex((l) => l.startsWith(prefix));
    expect(at('## ⛔ Deployment gate CLOSED')).toBe(0);
    expect(at('- ⛔')).toBeLessThan(
      at('**Experiments** 1 of 5 passed (3 failed, 1 could not run) · **Rollout** ROLLED BACK'),
    );
    expect(at('**Experiments**')).toBeLessThan(at('**Risk '));
    // Every finding is still there, after the tables.
    expect(
      text
        .slice(text.indexOf('<details>'))
        .split('\n')
        .filter((l) => l.startsWith('- ')),
    ).toHaveLength(report.gate.findings.length);
  });

  it('says why an open gate is open in one line, not a paragraph per pass', () => {
    const top = beforeTable(renderSummary(reportOf(passingRun())));
    expect(top.filter((l) => l.startsWith('- '))).toEqual([
      '- ✅ nothing closes the gate: all 3 experiments passed and the rollout of "v2" completed, 4 of 4 regions promoted',
    ]);
    expect(top).toContain(
      '**Experiments** 3 of 3 passed · **Rollout** COMPLETED (4 of 4 regions promoted) · **Time to detect** n/a · **Time to roll back** n/a',
    );
  });

  it('puts the failures the policy let through on top of an open gate', () => {
    const run: Run = { ...failingRun(), rollout: null, policy: { failOnExperiment: false } };
    const text = renderSummary(reportOf(run));
    expect(text.split('\n')[0]).toBe('## ✅ Deployment gate OPEN: v3 FAIL');
    expect(beforeTable(text).filter((l) => l.startsWith('- '))).toEqual([
      '- ⚠️ experiment "service-kill" FAIL: recovery\\_time\\_seconds 42.5 s breaks the threshold &lt;= 15 s; 1 other measurement passed \\[advisory: fail\\_on\\_experiment is off\\]',
    ]);
  });
});

describe('the prediction line', () => {
  it('states the risk and the action in one line, and is absent without a prediction', () => {
    const text = renderSummary(reportOf(ALL_RUNS.predictedRun()));
    const line = text.split('\n').filter((l) => l.includes('Risk '));
    expect(line).toHaveLength(1);
    expect(line[0]).toMatch(
      /^\*\*Risk \d+(\.\d+)?\/100\*\* \(low, max 50\) · action proceed · 4 of 5 stages inside the predicted ranges$/,
    );
    expect(renderSummary(reportOf(ALL_RUNS.passingRun()))).not.toContain('Risk ');
    expect(renderSummary(reportOf(ALL_RUNS.predictedClosedRun()))).toMatch(
      /\*\*Risk 100\/100\*\* \(high, max 50\) · action close/,
    );
  });
});

describe('the step summary: chaos on the candidate', () => {
  const HEADING = '#### Chaos on the candidate';

  it("has a table with report.html's columns, a row per run, the headline last", () => {
    const text = renderSummary(reportOf(differentialRun()));
    expect(text.indexOf(HEADING)).toBeGreaterThan(text.indexOf('| Wave | Region |'));
    expect(text.indexOf(HEADING)).toBeLessThan(text.indexOf('<details>'));
    const header = text.split('\n').find((l) => l.startsWith('| Experiment | Region |'));
    expect(header?.split(' | ')).toEqual([
      '| Experiment',
      'Region',
      'Stage',
      'Fault',
      'Verdict',
      'Error rate (n)',
      'p99',
      'Recovery',
      'Writes lost',
      'Headline |',
    ]);
    const [pass, regression, couldNotRun] = differentialMix().map((d) => mdCell(d.headline));
    expect(tableRows(text, HEADING)).toEqual([
      [
        'service-kill',
        'us-east',
        'stage 2 (25%)',
        'a kill of the app container via docker-kill',
        '✅ PASS',
        '2.5% (n=240) vs 2.1% (n=236)',
        '48 ms vs 46 ms',
        '1.4 s vs 1.2 s',
        '0 of 20 vs 0 of 20',
        pass,
      ],
      [
        'db-outage',
        'us-east',
        'stage 2 (25%)',
        'the database unavailable for 5 s via docker-stop',
        '❌ REGRESSION',
        '18.3% (n=240) vs 0.4% (n=236)',
        '5012 ms vs 38 ms',
        'never vs 0.5 s',
        '1 of 22 vs 0 of 21',
        regression,
      ],
      [
        'network-latency',
        'us-east',
        'stage 2 (25%)',
        'latency 300 ms for 5 s via tc-netem',
        '⚠️ COULD NOT RUN',
        '0% (n=80) vs 0% (n=80)',
        '4.4 ms vs 4.9 ms',
        '0.2 s vs 0.2 s',
        '0 of 20 vs 0 of 20',
        couldNotRun,
      ],
    ]);
  });

  it('says there were none in one line, and has no section without a rollout', () => {
    expect(renderSummary(reportOf(passingRun()))).toContain(`${HEADING}\n\n_No differential runs._\n`);
    expect(renderSummary(reportOf(nothingRun()))).not.toContain('Chaos on the candidate');
  });

  it('escapes every cell: the hostile row keeps its 10 cells and injects no markup', () => {
    const text = renderSummary(reportOf(hostileDifferentialRun()));
    expect(text).not.toContain('<script>');
    const rows = tableRows(text, HEADING);
    expect(rows.map((r) => r.length)).toEqual([10]);
    expect(rows[0]?.[0]).toBe(`kill ${mdCell(HOSTILE)}`);
    expect(rows[0]?.[9]).toBe(`under ${mdCell(HOSTILE)}`);
  });
});
