import { describe, expect, it } from 'vitest';
import { md, mdCell, renderSummary } from '../../src/report/summary.ts';
import { ALL_RUNS, dataLossRun, errorRun, failingRun, hostileRun, nothingRun, passingRun, regionRollbackRun, reportOf, restoreRun } from '../fixtures/report/runs.ts';

/** The rows of the Markdown table under a heading: split on unescaped pipes only. */
function tableRows(text: string, heading: string): string[][] {
  const lines = text.slice(text.indexOf(heading)).split('\n');
  const start = lines.findIndex((l) => l.startsWith('|'));
  const end = lines.findIndex((l, i) => i > start && !l.startsWith('|'));
  return lines.slice(start + 2, end).map((l) => l.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim()));
}

describe('step summary', () => {
  it('starts with the verdict line', () => {
    expect(renderSummary(reportOf(passingRun())).split('\n')[0]).toBe('## ✅ Deployment gate OPEN: v2 PASS');
    expect(renderSummary(reportOf(failingRun())).split('\n')[0]).toBe('## ⛔ Deployment gate CLOSED: v3 FAIL');
  });

  it('lists every reason, closing ones first, and a row per experiment', () => {
    const text = renderSummary(reportOf(failingRun()));
    const why = text.split('\n').filter((l) => l.startsWith('- '));
    expect(why.map((l) => l.slice(2, 4).trim())).toEqual(['⛔', '⛔', '✅']);
    expect(tableRows(text, '### Experiments')).toEqual([
      ['service-kill', '❌ FAIL', 'kill via host-kill-9', '42.5 s (threshold 15 s)', 'recovery\\_time\\_seconds 42.5 s (needs &lt;= 15 s)'],
      ['network-latency', '✅ PASS', 'latency via fault-endpoint', '1.2 s (threshold 5 s)', 'none'],
    ]);
  });

  it('has a rollout line and a row per wave', () => {
    const text = renderSummary(reportOf(failingRun()));
    expect(text).toMatch(/^⛔ v3 ROLLED\\_BACK \(canary, 1 of 4 regions promoted, 24 s\) in us-east stage 2 \(25%\): red verdict: .*\. Detected in 939 ms\. Rolled back in 1\.6 s\.$/m);
    expect(tableRows(text, '### Rollout').map((r) => [r[1], r[2]])).toEqual([
      ['us-west', '✅ passed, rolled back'],
      ['us-east', '❌ failed'],
      ['eu-west', '⏭️ not reached'],
      ['ap-south', '⏭️ not reached'],
    ]);
  });

  it('has one line for a region-only rollback, and marks the regions kept on the candidate', () => {
    const text = renderSummary(reportOf(regionRollbackRun()));
    expect(text.split('\n').filter((l) => l.includes('Region-only rollback'))).toEqual(['↩️ Region-only rollback: eu-west rolled back, us-west, us-east kept on v4.']);
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
    const lines = (run: typeof restoreRun) => renderSummary(reportOf(run())).split('\n').filter((l) => l.startsWith('🗄️'));
    expect(lines(restoreRun)).toEqual(['🗄️ us-east\'s database restored from its backup in 2 ms: all 118 pre-deploy writes back; 10 of 12 candidate writes undone (2 lost by the candidate itself).']);
    expect(lines(dataLossRun)).toEqual(['🗄️ eu-west\'s database restored from its backup in 2 ms: 3 pre-deploy write(s) MISSING; 10 of 12 candidate writes undone (2 lost by the candidate itself).']);
  });

  it('says so without experiments or rollout, and shows an ERROR experiment\'s cause', () => {
    const nothing = renderSummary(reportOf(nothingRun()));
    expect(nothing).toContain('_No experiments ran._');
    expect(nothing).toContain('_No rollout was run._');
    const error = tableRows(renderSummary(reportOf(errorRun())), '### Experiments');
    expect(error[1]?.slice(0, 2)).toEqual(['network-partition', '⚠️ ERROR']);
    expect(error[1]?.[4]).toBe('could not run: docker network disconnect failed: Error response from daemon: network chaos-gate\\_db not found');
  });

  it('escapes cells: pipes, HTML, Markdown and line breaks cannot break the table or inject markup', () => {
    const text = renderSummary(reportOf(hostileRun()));
    expect(text).not.toContain('<script>');
    expect(text).not.toMatch(/(?<!\\)\[l(?<!\\)\]\(/);
    const rows = tableRows(text, '### Experiments');
    // Still exactly 5 cells per row: no pipe got through unescaped, no newline ended the row.
    expect(rows.map((r) => r.length)).toEqual([5, 5]);
    expect(rows[0]?.[0]).toBe('kill &lt;script&gt;alert("x&amp;y")&lt;/script&gt; \\| \'quote\' &amp; "dq" \\*b\\* \\_i\\_ \\[l\\](javascript:alert(1)) \\`code\\`<br>second line');
  });

  it('md and mdCell escape as documented', () => {
    expect(mdCell('a|b <i>&\nc')).toBe('a\\|b &lt;i&gt;&amp;<br>c');
    expect(md('a\nb')).toBe('a b');
    expect(mdCell('*_[]`~#!\\')).toBe('\\*\\_\\[\\]\\`\\~\\#\\!\\\\');
  });
});

describe('the prediction line', () => {
  it('states the risk and the action in one line, and is absent without a prediction', () => {
    const text = renderSummary(reportOf(ALL_RUNS.predictedRun()));
    const line = text.split('\n').filter((l) => l.includes('Risk '));
    expect(line).toHaveLength(1);
    expect(line[0]).toMatch(/^\*\*Risk \d+(\.\d+)?\/100\*\* \(low, max 50\) · action proceed · 4 of 5 stages inside the predicted ranges$/);
    expect(renderSummary(reportOf(ALL_RUNS.passingRun()))).not.toContain('Risk ');
    expect(renderSummary(reportOf(ALL_RUNS.predictedClosedRun()))).toMatch(/\*\*Risk 100\/100\*\* \(high, max 50\) · action close/);
  });
});
