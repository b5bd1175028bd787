import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headline } from '../../src/report/headline.ts';
import { writeReports, type ReportPaths } from '../../src/report/write.ts';
import { ALL_RUNS, reportOf } from '../fixtures/report/runs.ts';

// report.html in a real headless browser (Debian's chromium driven by playwright-core): the
// page loads from file:// with no console error and no request but its own, the verdict is
// visible at the top, every chart has data, junit.xml parses with the browser's XML parser,
// and a screenshot lands in test-output/report.png for a person to look at. At a laptop's
// 1,300 px and a phone's 390 px: the verdict and the reasons that decided it are in the
// first screen (not folded), nothing makes the page wider than the window, and screenshots
// of both land in test-output/report-1300.png and report-390.png.
// Without the browser the tests are skipped and say why, except in CI (CI set), where a
// missing browser fails: the check must not silently stop running there.

// The page's globals, typed just enough: the project compiles without the DOM lib, and
// adding it would let DOM names slip into code that runs on Node.
declare const document: {
  querySelectorAll(selector: string): { length: number };
  documentElement: { scrollWidth: number };
};
declare const innerWidth: number;
declare const innerHeight: number;
declare function getComputedStyle(element: unknown): { overflowX: string };
declare const DOMParser: new () => {
  parseFromString(text: string, type: string): { getElementsByTagName(name: string): { length: number } };
};

// Debian's chromium, else the Chrome that GitHub's Ubuntu runners ship; CHAOS_GATE_CHROMIUM
// points elsewhere (another machine's browser).
const CHROMIUM =
  process.env.CHAOS_GATE_CHROMIUM ??
  ['/usr/bin/chromium', '/usr/bin/google-chrome'].find((p) => existsSync(p)) ??
  '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
const OUT = path.resolve(import.meta.dirname, '../../test-output');
const available = existsSync(CHROMIUM);
const required = Boolean(process.env.CI);

if (!available)
  console.warn(`report.html browser tests skipped: ${CHROMIUM} is not installed (apt-get install -y chromium)`);
if (!available && required) {
  describe('report.html in Chromium', () => {
    it(`needs ${CHROMIUM} in CI (apt-get install -y chromium)`, () => {
      expect.fail(`${CHROMIUM} is missing but CI is set: install Debian's chromium (apt-get install -y chromium)`);
    });
  });
}

describe.skipIf(!available)(
  `report.html in Chromium${available ? '' : ` (skipped: ${CHROMIUM} is not installed; apt-get install -y chromium)`}`,
  () => {
    let browser: Browser;
    let context: BrowserContext;
    const written = new Map<string, ReportPaths>();

    beforeAll(async () => {
      for (const [name, run] of Object.entries(ALL_RUNS))
        written.set(name, await writeReports(path.join(OUT, 'reports', name), reportOf(run())));
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
      // One context for every page: a fresh one per page costs a few hundred ms on 2 cores.
      context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
    });

    async function open(name: string) {
      const paths = written.get(name);
      if (!paths) throw new Error(`no report for ${name}`);
      const page = await context.newPage();
      const problems: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('request', (r) => requests.push(r.url()));
      const url = pathToFileURL(paths.html).href;
      await page.goto(url, { waitUntil: 'load' });
      return { page, problems, requests, url, paths };
    }

    it.each(Object.keys(ALL_RUNS))(
      '%s: loads cleanly, verdict on top, every chart has data',
      async (name) => {
        const { page, problems, requests, url } = await open(name);
        try {
          expect(problems).toEqual([]);
          expect(requests).toEqual([url]);
          expect(await page.locator('script').count()).toBe(0);

          const status = page.locator('#verdict .verdict-status');
          await expect.poll(() => status.isVisible()).toBe(true);
          const report = reportOf(ALL_RUNS[name as keyof typeof ALL_RUNS]());
          const { gate } = report;
          expect(await status.textContent()).toBe(gate.status);
          const box = await status.boundingBox();
          expect(box && box.y + box.height).toBeLessThan(200); // the first thing a reader sees
          // The findings that decided it on top; every finding in the folded list below them.
          expect(await page.locator('#verdict ul.reasons li').count()).toBe(headline(report).reasons.length);
          expect(await page.locator('#verdict details.verdict-details ul.findings li').count()).toBe(
            gate.reasons.length,
          );

          const charts = await page.locator('svg.chart').evaluateAll((svgs) =>
            svgs.map((svg) => {
              const rect = svg.getBoundingClientRect();
              const marks = svg.querySelectorAll(
                'rect.bar, rect.block, line.threshold, circle.rate-dot, path.rate-line[d^="M"]',
              ).length;
              return { kind: svg.getAttribute('class'), width: rect.width, height: rect.height, marks };
            }),
          );
          const trend = (report.prediction?.history.trends.points.length ?? 0) > 0 ? 1 : 0;
          const expected =
            report.scenarios.filter((s) => s.windows.length > 0).length * 3 + (report.rollout ? 1 : 0) + trend;
          // No history is said in words, never drawn as an empty chart.
          expect(await page.locator('p.no-history').count()).toBe(report.prediction && trend === 0 ? 1 : 0);
          expect(charts).toHaveLength(expected);
          for (const c of charts) {
            expect(c.marks, `${c.kind} has data`).toBeGreaterThan(0);
            expect(c.width, `${c.kind} is drawn`).toBeGreaterThan(100);
            expect(c.height, `${c.kind} is drawn`).toBeGreaterThan(50);
          }
        } finally {
          await page.close();
        }
      },
      30_000,
    );

    // A laptop and a phone (an iPhone 12 to 15's CSS viewport).
    const SCREENS = [
      { width: 1300, height: 900 },
      { width: 390, height: 844 },
    ] as const;

    it.each(SCREENS)(
      'at $width px: the verdict and its reasons in the first screen, nothing wider than the window; screenshots to test-output/',
      async (viewport) => {
        const screen = await browser.newContext({ viewport });
        try {
          for (const name of Object.keys(ALL_RUNS)) {
            const paths = written.get(name);
            if (!paths) throw new Error(`no report for ${name}`);
            const page = await screen.newPage();
            await page.goto(pathToFileURL(paths.html).href, { waitUntil: 'load' });
            const report = reportOf(ALL_RUNS[name as keyof typeof ALL_RUNS]());
            const where = `${name} at ${viewport.width} px`;

            const verdict = await page.locator('#verdict .verdict-status').boundingBox();
            expect(verdict, where).not.toBeNull();
            expect(verdict!.y, `${where}: the verdict starts in the first screen`).toBeLessThan(viewport.height);
            expect(verdict!.y + verdict!.height, `${where}: the verdict is whole in the first screen`).toBeLessThan(
              viewport.height,
            );

            const page1 = await page.evaluate(() => ({
              scrollWidth: document.documentElement.scrollWidth,
              innerWidth,
              innerHeight,
            }));
            expect(page1.scrollWidth, `${where}: no element makes the page wider than the window`).toBeLessThanOrEqual(
              page1.innerWidth,
            );

            // The reasons are on the page as it opens: visible, in no <details>, the first one in the first screen.
            const reasons = page.locator('#verdict ul.reasons li');
            expect(await reasons.count(), where).toBe(headline(report).reasons.length);
            for (const li of await reasons.all())
              expect(await li.isVisible(), `${where}: a reason is visible`).toBe(true);
            const placed = await reasons.evaluateAll((lis) =>
              lis.map((li) => ({ top: li.getBoundingClientRect().top, folded: li.closest('details') !== null })),
            );
            expect(
              placed.every((r) => !r.folded),
              `${where}: no reason is folded`,
            ).toBe(true);
            expect(placed[0]!.top, `${where}: the first reason is in the first screen`).toBeLessThan(viewport.height);
            // Every finding is one click away, folded.
            expect(await page.locator('#verdict details.verdict-details').getAttribute('open'), where).toBeNull();
            expect(
              await page.locator('#verdict details.verdict-details ul.findings li').first().isVisible(),
              where,
            ).toBe(false);

            // Every wide table fits or scrolls inside its own box.
            const tables = await page.locator('table').evaluateAll((ts) =>
              ts.map((t) => {
                const box = t.parentElement!;
                return {
                  name: t.className,
                  boxed: box.classList.contains('wrap') && getComputedStyle(box).overflowX === 'auto',
                  fits: t.scrollWidth <= box.clientWidth,
                };
              }),
            );
            for (const t of tables)
              expect(t.boxed || t.fits, `${where}: table.${t.name} fits or scrolls in its box`).toBe(true);
            if (viewport.width >= 1300 && report.prediction) {
              // At a laptop's width the predicted ranges fit: no scrolling needed to see the observed p99.
              expect(
                tables.find((t) => t.name === 'predicted-stages')?.fits,
                `${where}: the predicted-range table fits`,
              ).toBe(true);
            }

            if (name === 'failingRun') {
              await page.screenshot({ path: path.join(OUT, `report-${viewport.width}.png`) });
              await page.screenshot({ path: path.join(OUT, `report-${viewport.width}-full.png`), fullPage: true });
            }
            if (name === 'passingRun')
              await page.screenshot({ path: path.join(OUT, `report-open-${viewport.width}.png`) });
            if (name === 'predictedRun')
              await page
                .locator('#prediction')
                .screenshot({ path: path.join(OUT, `prediction-${viewport.width}.png`) });
            await page.close();
          }
        } finally {
          await screen.close();
        }
      },
      120_000,
    );

    it('shows hostile text as text: no element, no script from the data', async () => {
      const { page } = await open('hostileRun');
      try {
        expect(await page.title()).toContain('<script>alert("x&y")</script>');
        expect(await page.locator('h3', { hasText: '<script>' }).count()).toBeGreaterThanOrEqual(2);
        expect(await page.locator('b:text-is("l")').count()).toBe(0);
        expect(await page.evaluate(() => document.querySelectorAll('script, u').length)).toBe(0);
      } finally {
        await page.close();
      }
    }, 30_000);

    it("junit.xml parses with the browser's XML parser and has the expected cases", async () => {
      const page = await context.newPage();
      try {
        for (const [name, paths] of written) {
          const xml = await readFile(paths.junit, 'utf8');
          const parsed = await page.evaluate((text) => {
            const doc = new DOMParser().parseFromString(text, 'application/xml');
            return {
              errors: doc.getElementsByTagName('parsererror').length,
              cases: doc.getElementsByTagName('testcase').length,
            };
          }, xml);
          const report = reportOf(ALL_RUNS[name as keyof typeof ALL_RUNS]());
          const rolloutCases = report.rollout
            ? report.rollout.regions.length + (report.rollout.rollback.triggered ? 1 : 0)
            : 0;
          expect(parsed, name).toEqual({ errors: 0, cases: report.scenarios.length + rolloutCases });
        }
      } finally {
        await page.close();
      }
    }, 30_000);

    it('saves a screenshot of a closed gate with a rollback to test-output/report.png', async () => {
      const { page } = await open('failingRun');
      try {
        const file = path.join(OUT, 'report.png');
        await page.screenshot({ path: file, fullPage: true });
        expect((await readFile(file)).subarray(1, 4).toString()).toBe('PNG');
        const { page: open2 } = await open('passingRun');
        await open2.screenshot({ path: path.join(OUT, 'report-open.png'), fullPage: true });
        await open2.close();
      } finally {
        await page.close();
      }
    }, 30_000);

    it("shows a region-only rollback and a restore: the decision, each region's outcome, the mitigation table", async () => {
      const { page, problems } = await open('regionRollbackRun');
      try {
        expect(problems).toEqual([]);
        expect(await page.locator('#rollout .rollback-scope').textContent()).toBe(
          'Scope: region. Rolled back: eu-west. Kept on the candidate: us-west, us-east.',
        );
        expect(await page.locator('#rollout table.waves tr[data-outcome="promoted"]').count()).toBe(2);
        expect(await page.locator('#rollout table.waves tr[data-outcome="rolled_back"]').count()).toBe(1);
        expect(await page.locator('#rollout table.mitigation tbody tr').count()).toBe(1);
        await page.locator('#rollout').screenshot({ path: path.join(OUT, 'region-rollback.png') });
      } finally {
        await page.close();
      }
      const restore = await open('restoreRun');
      try {
        expect(restore.problems).toEqual([]);
        expect(
          await restore.page.locator('#rollout table.mitigation tr[data-region="us-east"] td').nth(3).textContent(),
        ).toBe('yes, in 2 ms (118 rows)');
      } finally {
        await restore.page.close();
      }
    }, 30_000);

    it('shows the prediction: risk, each stage predicted beside observed, the trend; a screenshot to test-output/prediction.png', async () => {
      const { page } = await open('predictedRun');
      try {
        const report = reportOf(ALL_RUNS.predictedRun());
        const p = report.prediction;
        expect(await page.locator('#prediction h3').textContent()).toBe(`Risk score ${p?.risk.score}/100`);
        const observedRows = p?.stages.reduce((n, s) => n + Math.max(1, s.observed.length), 0);
        expect(await page.locator('table.predicted-stages tr.predicted-row').count()).toBe(observedRows);
        expect(await page.locator('#prediction svg.chart-trend rect.bar').count()).toBe(
          p?.history.trends.points.length,
        );
        await page.locator('#prediction').screenshot({ path: path.join(OUT, 'prediction.png') });
      } finally {
        await page.close();
      }
    }, 30_000);
  },
);
