import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderHtml } from '../../src/report/html.ts';
import Handlebars from 'handlebars';
import { serviceKill } from '../fixtures/report/experiments.ts';
import { differentialMix } from '../fixtures/report/differential.ts';
import {
  differentialRun,
  errorRun,
  failingRun,
  hostileDifferentialRun,
  hostileRun,
  nothingRun,
  passingRun,
  predictedRun,
  regionRollbackRun,
  reportOf,
  restoreRun,
  zeroExperimentsRun,
} from '../fixtures/report/runs.ts';
import { rolloutFixture } from '../fixtures/report/rollout.ts';

const templatesDir = new URL('../../src/report/templates/', import.meta.url);

describe('report.html', () => {
  it('puts the verdict first', () => {
    const html = renderHtml(reportOf(failingRun()));
    const verdict = html.indexOf('id="verdict"');
    expect(verdict).toBeGreaterThan(0);
    expect(verdict).toBeLessThan(html.indexOf('id="experiments"'));
    expect(html).toMatch(/<span class="verdict-status">CLOSED<\/span>/);
    expect(html).toContain('closes gate');
  });

  it('shows on top the verdict, the findings that decided it and the key figures; every finding folded in a <details>', () => {
    const report = reportOf(failingRun());
    const html = renderHtml(report);
    const verdict = html.slice(
      html.indexOf('<section id="verdict"'),
      html.indexOf('</section>', html.indexOf('<section id="verdict"')),
    );
    const at = (s: string) => verdict.indexOf(s);
    expect(at('<span class="verdict-status">CLOSED</span>')).toBeGreaterThan(0);
    expect(at('<span class="verdict-status">')).toBeLessThan(at('<ul class="reasons"'));
    expect(at('<ul class="reasons"')).toBeLessThan(at('<dl class="figures">'));
    expect(at('<dl class="figures">')).toBeLessThan(at('<details class="verdict-details">'));
    expect(verdict).toContain('<p class="reasons-label">Why it is closed</p>');
    // The two findings that close the gate, and not the pass: that one is detail.
    const closing = report.gate.findings.filter((f) => f.effect === 'closes').map((f) => f.text);
    expect([...verdict.matchAll(/<ul class="reasons"[^>]*>(.*?)<\/ul>/gs)][0]?.[1]?.match(/<li>.*?<\/li>/g)).toEqual(
      closing.map((t) => `<li><span class="text">${Handlebars.escapeExpression(t)}</span></li>`),
    );
    const figures = [...verdict.matchAll(/<div class="figure"><dt>(.*?)<\/dt><dd class="v t-(\w+)">(.*?)<\/dd>/g)].map(
      (m) => [m[1], m[2], m[3]],
    );
    expect(figures).toEqual([
      ['Experiments', 'fail', '1 of 2 passed'],
      ['Rollout', 'fail', 'ROLLED BACK'],
      ['Time to detect', 'neutral', '939 ms'],
      ['Time to roll back', 'neutral', '1.6 s'],
      ['Risk score', 'neutral', 'n/a'],
    ]);
    // Every finding, folded (no open attribute), each with its effect.
    const folded = verdict.slice(at('<details class="verdict-details">'));
    expect(folded).toMatch(
      /^<details class="verdict-details"><summary>Every finding \(3\), the policy and the run<\/summary>/,
    );
    expect(folded.match(/<span class="badge tone-(\w+)">/g)).toEqual(
      ['closes', 'closes', 'pass', 'fail'].map((t) => `<span class="badge tone-${t}">`),
    );
    expect(html).not.toContain('class="cards"');
  });

  it('says why an open gate is open in one line, and puts advisory failures on top when the policy let them through', () => {
    // Without the whitespace between tags.
    const compact = (html: string) => html.replace(/>\s+</g, '><');
    const open = compact(renderHtml(reportOf(passingRun())));
    expect(open).toContain(
      '<p class="reasons-label">Why it is open</p><ul class="reasons" data-effect="pass"><li><span class="text">nothing closes the gate: all 3 experiments passed and the rollout of &quot;v2&quot; completed, 4 of 4 regions promoted</span></li></ul>',
    );
    const advisory = compact(
      renderHtml(reportOf({ ...failingRun(), rollout: null, policy: { failOnExperiment: false } })),
    );
    expect(advisory).toContain('<span class="verdict-status">OPEN</span>');
    expect(advisory).toContain(
      '<p class="reasons-label">Open, but these failed (advisory under the policy)</p><ul class="reasons" data-effect="advisory"><li><span class="text">experiment &quot;service-kill&quot; FAIL',
    );
  });

  it('shows at most three reasons, keeps the rollback among them, and says how many more', () => {
    const rollout = rolloutFixture({ version: 'v7', failureRate: 0.8, failAt: { region: 'us-east', stage: 1 } });
    const failed = (name: string) => serviceKill({ name, recoverySeconds: 42.5 });
    const html = renderHtml(
      reportOf({
        version: 'v7',
        failureRate: 0.8,
        rollout,
        experiments: [failed('a'), failed('b'), failed('c'), failed('d')],
      }),
    );
    const reasons = [...html.matchAll(/<li><span class="text">(experiment &quot;\w|rollout of)/g)].map((m) => m[1]);
    expect(reasons).toEqual(['experiment &quot;a', 'experiment &quot;b', 'rollout of']);
    expect(html).toContain(
      '<p class="more">and 2 more reasons that close the gate: every finding is in the list below</p>',
    );
  });

  it("keeps the predicted-range table in its scrolling box, and a value's case in its badge (9.1 ms, not 9.1 MS)", () => {
    const html = renderHtml(reportOf(predictedRun()));
    expect(html).toContain('<div class="wrap"><table class="predicted-stages">');
    expect(html).toMatch(/<span class="badge value tone-inconclusive">[\d.]+ ms \(below\)<\/span>/);
    expect(html).toMatch(/\.badge\.value \{ text-transform: none;/);
    expect(html).toMatch(/\.wrap \{ overflow-x: auto;/);
  });

  it('is self-contained: no scripts, no external resources, a CSP that forbids fetching', () => {
    for (const run of [passingRun, failingRun, errorRun, hostileRun]) {
      const html = renderHtml(reportOf(run()));
      expect(html).not.toMatch(/<script/i);
      expect(html).not.toMatch(/<(link|img|iframe|object|embed)\b(?![^>]*href="data:)/i);
      expect(html).not.toMatch(/(src|href)="(?!data:)/i);
      expect(html).not.toMatch(/url\(/i);
      expect(html).not.toMatch(/@import|@font-face/i);
      expect(html).not.toMatch(/https?:\/\//i);
      expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
    }
  });

  it('escapes every text from outside (version, names, descriptions, errors, params, measurement units)', () => {
    const html = renderHtml(reportOf(hostileRun()));
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('custom_<b>');
    expect(html).not.toContain('<u>');
    expect(html).not.toContain('"dq"');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&amp;y&quot;)&lt;/script&gt;');
    expect(html).toContain('custom_&lt;b&gt;');
    // Every occurrence of the hostile text is its escaped form; count a distinctive piece.
    const escaped = html.split('alert(&quot;x&amp;y&quot;)').length - 1;
    expect(escaped).toBeGreaterThanOrEqual(10);
    expect(html.split('alert("x').length - 1).toBe(0);
  });

  it('never uses a triple-stash (unescaped output) in any template', () => {
    const files = readdirSync(templatesDir).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThanOrEqual(5);
    for (const f of files) {
      const text = readFileSync(new URL(f, templatesDir), 'utf8');
      expect(text, f).not.toContain('{{{');
      expect(text, f).not.toMatch(/\{\{&/);
    }
  });

  it('draws the three charts per experiment and the rollout timeline', () => {
    const html = renderHtml(reportOf(passingRun()));
    expect(html.match(/class="chart chart-latency"/g)).toHaveLength(3);
    expect(html.match(/class="chart chart-rate"/g)).toHaveLength(3);
    expect(html.match(/class="chart chart-recovery"/g)).toHaveLength(3);
    expect(html.match(/class="chart chart-swimlanes"/g)).toHaveLength(1);
    expect(html.match(/<rect class="block b-green"/g)).toHaveLength(20);
    expect(html).toContain('<rect class="fault"');
    expect(html).toMatch(/<path class="rate-line" d="M[\d.]+,[\d.]+L/);
  });

  it('says so when there are no experiments or no rollout, and draws no empty chart', () => {
    const zero = renderHtml(reportOf(zeroExperimentsRun()));
    expect(zero).toContain('No experiments ran in this run.');
    expect(zero).not.toContain('No rollout was run');
    const nothing = renderHtml(reportOf(nothingRun()));
    expect(nothing).toContain('No experiments ran in this run.');
    expect(nothing).toContain('No rollout was run in this run.');
    expect(nothing).not.toContain('<svg');
    const error = renderHtml(reportOf(errorRun()));
    expect(error).toContain('No charts: no traffic was recorded for this experiment.');
    expect(error).toContain('docker network disconnect failed: Error response from daemon');
    expect(error).not.toContain('\u001b');
  });

  it('marks the aborted stage, the rolled-back regions and the regions never reached', () => {
    const html = renderHtml(reportOf(failingRun()));
    expect(html).toContain('<span class="badge tone-aborted">aborted</span>');
    expect(html).toContain('PASSED · ROLLED BACK');
    expect(html.match(/>not reached</g)).toHaveLength(2);
    expect(html).toContain('<rect class="rollback"');
    expect(html).toContain('<line class="abort"');
  });

  it('renders the same report to the same bytes', () => {
    expect(renderHtml(reportOf(failingRun()))).toBe(renderHtml(reportOf(failingRun())));
  });

  it("shows a region-only rollback: the decision, why, and each region's outcome", () => {
    const html = renderHtml(reportOf(regionRollbackRun()));
    expect(html).toContain(
      '<p class="rollback-scope" data-scope="region"><b>Scope: region</b>. Rolled back: eu-west. Kept on the candidate: us-west, us-east.</p>',
    );
    expect(html).toContain('roll back eu-west only, keep us-west, us-east on the candidate, then stop');
    expect(html).toContain('<summary>why: the evidence (6)</summary>');
    expect(html).toContain('the evidence points at eu-west alone');
    const outcomes = [...html.matchAll(/<tr data-region="([^"]+)" data-outcome="([^"]+)">/g)].map((m) => [m[1], m[2]]);
    expect(outcomes).toEqual([
      ['us-west', 'promoted'],
      ['us-east', 'promoted'],
      ['eu-west', 'rolled_back'],
      ['ap-south', 'untouched'],
    ]);
    expect(html).toContain('<span class="badge tone-passed">on the candidate</span>');
  });

  it('has a mitigation table: backup, integrity, restore, pre-deploy and candidate writes', () => {
    const html = renderHtml(reportOf(restoreRun()));
    const table = html.slice(
      html.indexOf('<table class="mitigation">'),
      html.indexOf('</table>', html.indexOf('<table class="mitigation">')),
    );
    expect(table).toContain(
      '<th>Region</th><th class="num">Backup</th><th>Integrity</th><th>Restored</th><th class="num">Pre-deploy writes checked / missing</th><th class="num">Candidate writes undone / lost by the candidate</th>',
    );
    const rows = [...table.matchAll(/<tr data-region="([^"]+)">(.*?)<\/tr>/gs)].map((m) => [
      m[1],
      [...(m[2] ?? '').matchAll(/<td[^>]*>(.*?)<\/td>/gs)].map((c) => (c[1] ?? '').replace(/<[^>]+>/g, '')),
    ]);
    expect(rows).toEqual([
      ['us-west', ['us-west', '3 ms (118 rows)', 'intact', 'no', '118 / 0', '0 / 0 of 0', '']],
      [
        'us-east',
        [
          'us-east',
          '3 ms (118 rows)',
          'damaged4 row(s) garbled (checksum mismatch, e.g. id 17, 23, 41, 58)',
          'yes, in 2 ms (118 rows)',
          '118 / 0',
          '10 / 2 of 12',
          '',
        ],
      ],
    ]);
  });

  it('has no decision or mitigation section without them', () => {
    const r = rolloutFixture({ failAt: { region: 'us-east', stage: 0 } });
    delete r.rollback.decisions;
    const html = renderHtml(reportOf({ version: 'v2', failureRate: 0, experiments: [], rollout: r }));
    expect(html).not.toContain('Rollback decision');
    expect(html).not.toContain('class="mitigation"');
  });
});

/** The differential table of a page: '' when there is none. */
function differentialTable(html: string): string {
  const start = html.indexOf('<table class="differential">');
  return start < 0 ? '' : html.slice(start, html.indexOf('</table>', start));
}

/** Each run's row: its verdict and its cells as text (tags become spaces, entities decoded). */
function differentialRows(table: string): [string, string[]][] {
  const text = (cell: string) =>
    cell
      .replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim()
      .replace(/&#x3D;/g, '=');
  return [...table.matchAll(/<tr class="run-row" data-verdict="(\w+)">(.*?)<\/tr>/gs)].map((m) => [
    m[1] ?? '',
    [...(m[2] ?? '').matchAll(/<td[^>]*>(.*?)<\/td>/gs)].map((c) => text(c[1] ?? '')),
  ]);
}

describe('report.html: chaos on the candidate', () => {
  it('has a row per run: where, the fault, the verdict, and candidate vs baseline figures', () => {
    const html = renderHtml(reportOf(differentialRun()));
    const at = (heading: string) => html.indexOf(`<h4 class="sub">${heading}</h4>`);
    expect(at('Chaos on the candidate')).toBeGreaterThan(at('Stages: canary vs baseline'));
    const table = differentialTable(html);
    const headers = [...table.matchAll(/<th(?: [^>]*)?>(.*?)<\/th>/g)].map((m) => m[1]);
    expect(headers).toEqual([
      'Experiment',
      'Region',
      'Stage',
      'Fault',
      'Verdict',
      'Error rate (n)',
      'p99',
      'Recovery',
      'Writes lost',
    ]);
    expect(differentialRows(table)).toEqual([
      [
        'pass',
        [
          'service-kill',
          'us-east',
          'stage 2 (25%)',
          'a kill of the app container via docker-kill',
          'PASS',
          '2.5% (n=240) vs 2.1% (n=236)',
          '48 ms vs 46 ms',
          '1.4 s vs 1.2 s',
          '0 of 20 vs 0 of 20',
        ],
      ],
      [
        'regression',
        [
          'db-outage',
          'us-east',
          'stage 2 (25%)',
          'the database unavailable for 5 s via docker-stop',
          'REGRESSION',
          '18.3% (n=240) vs 0.4% (n=236)',
          '5012 ms vs 38 ms',
          'never vs 0.5 s',
          '1 of 22 vs 0 of 21',
        ],
      ],
      [
        'could_not_run',
        [
          'network-latency',
          'us-east',
          'stage 2 (25%)',
          'latency 300 ms for 5 s via tc-netem',
          'COULD NOT RUN',
          '0% (n=80) vs 0% (n=80)',
          '4.4 ms vs 4.9 ms',
          '0.2 s vs 0.2 s',
          '0 of 20 vs 0 of 20',
        ],
      ],
    ]);
  });

  it('styles the verdicts like the pass and fail badges, and puts each headline below its row', () => {
    const table = differentialTable(renderHtml(reportOf(differentialRun())));
    expect(table.match(/<span class="badge tone-\w+">[A-Z ]+<\/span>/g)).toEqual([
      '<span class="badge tone-pass">PASS</span>',
      '<span class="badge tone-fail">REGRESSION</span>',
      '<span class="badge tone-error">COULD NOT RUN</span>',
    ]);
    const below = /<\/tr>\s*<tr class="headline-row"><td colspan="9"><div class="headline">(.*?)<\/div>/gs;
    const headlines = [...table.matchAll(below)].map((m) => m[1]);
    expect(headlines).toEqual(differentialMix().map((d) => Handlebars.escapeExpression(d.headline)));
    expect(table).toContain('<div class="note-line">note: tc netem is not supported by this kernel: ');
    expect(table).toContain('<summary>why REGRESSION (2)</summary>');
  });

  it('says there were none in one line, and has no section without a rollout', () => {
    const html = renderHtml(reportOf(passingRun()));
    expect(html).toMatch(/Chaos on the candidate<\/h4>\s*<p class="small">No differential runs\.<\/p>/);
    expect(differentialTable(html)).toBe('');
    expect(renderHtml(reportOf(nothingRun()))).not.toContain('Chaos on the candidate');
  });

  it('escapes every text of a run: experiment, region, fault, headline, reasons, notes', () => {
    const table = differentialTable(renderHtml(reportOf(hostileDifferentialRun())));
    expect(table).not.toContain('<script>');
    expect(table).not.toContain('"dq"');
    // experiment, region, fault description and method, headline, reason, note.
    expect(table.split('&lt;script&gt;alert(&quot;x&amp;y&quot;)&lt;/script&gt;').length - 1).toBe(7);
    expect(differentialRows(table)).toHaveLength(1);
  });
});
