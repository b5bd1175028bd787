import { describe, expect, it } from 'vitest';
import { renderHtml } from '../../src/report/html.ts';
import { renderJunit } from '../../src/report/junit.ts';
import type { Report } from '../../src/report/model.ts';
import { renderSummary } from '../../src/report/summary.ts';
import { replaceControls } from '../../src/util/text.ts';
import { erroredExperiment, serviceKill } from '../fixtures/report/experiments.ts';
import { rolloutFixture } from '../fixtures/report/rollout.ts';
import { reportOf } from '../fixtures/report/runs.ts';

// Issue 15, item 11: control bytes from users and services must not reach report.html or
// summary.md raw; they show as U+FFFD, and HTML/Markdown escaping is unchanged.

/** NUL, ESC (with an ANSI colour sequence), DEL, C1 NEL, and markup that must stay escaped. */
const RAW = 'a\u0000b\u001b[31mc\u007fd\u0085e<b>';
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;

/** A failing run with RAW in every kind of text: names, versions, reasons, notes, errors. */
function controlReport(): Report {
  const version = `v9${RAW}`;
  const e = serviceKill({
    name: `kill ${RAW}`,
    description: `desc ${RAW}`,
    recoverySeconds: 50,
    targets: [`r-${RAW}`],
    params: { note: RAW },
  });
  const failed = { value: 2, threshold: 1, comparator: '<=', pass: false } as const;
  e.measurements.push({ ...failed, name: `m ${RAW}`, unit: RAW, detail: RAW });
  const experiments = [e, erroredExperiment(`err ${RAW}`, `boom ${RAW}`)];
  const rollout = rolloutFixture({ version, failureRate: 0.5, failAt: { region: 'us-west', stage: 0 } });
  const report = reportOf({ version, failureRate: 0.5, experiments, rollout, commit: `c${RAW}` });
  // Text the fixtures do not reach: put RAW into it after the model was built.
  report.gate.findings[0]!.text += ` ${RAW}`;
  report.environment = { ...report.environment, dockerVersion: `docker ${RAW}`, notes: [`note ${RAW}`] };
  const r = report.rollout!;
  r.stages[0]!.reasons.push(`reason ${RAW}`);
  r.rollback.reason = `rollback ${RAW}`;
  r.regions[0]!.reason = `wave ${RAW}`;
  r.timeline[0]!.detail = `timeline ${RAW}`;
  return report;
}

describe('control characters in reports', () => {
  it('replaces C0 (but tab, LF, CR), DEL, C1, lone surrogates and U+FFFE/U+FFFF with U+FFFD', () => {
    expect(replaceControls('a\u0000b\u001bc\u007fd\u0085e\u009ff')).toBe('a\uFFFDb\uFFFDc\uFFFDd\uFFFDe\uFFFDf');
    const kept = 'tab\tlf\ncr\r ok é \u00a0 \u{1F600}';
    expect(replaceControls(`${kept} \ud800 \uffff`)).toBe(`${kept} \uFFFD \uFFFD`);
  });

  it('report.html holds none of them raw, shows U+FFFD instead and still escapes markup', () => {
    const html = renderHtml(controlReport());
    expect(html).not.toMatch(CONTROLS);
    expect(html).toContain('kill a\uFFFDb\uFFFD[31mc\uFFFDd\uFFFDe&lt;b&gt;');
    for (const where of ['reason ', 'rollback ', 'wave ', 'docker ', 'note ', 'v9']) {
      expect(html, where).toContain(`${where}a\uFFFDb`);
    }
    expect(html).not.toContain('e<b>');
  });

  it('summary.md holds none of them raw, shows U+FFFD instead and still escapes markup', () => {
    const text = renderSummary(controlReport());
    expect(text).not.toMatch(CONTROLS);
    expect(text).toContain('kill a\uFFFDb\uFFFD\\[31mc\uFFFDd\uFFFDe&lt;b&gt;');
    expect(text).toContain('v9a\uFFFDb');
    expect(text).toContain('rollback a\uFFFDb');
    expect(text).not.toContain('e<b>');
  });

  it('junit.xml uses the same replacement (DEL and C1 included)', () => {
    const xml = renderJunit(controlReport());
    expect(xml).not.toMatch(CONTROLS);
    expect(xml).toContain('kill a\uFFFDb\uFFFD[31mc\uFFFDd\uFFFDe&lt;b&gt;');
  });
});
