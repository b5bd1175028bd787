import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeReports } from '../../src/report/write.ts';
import { failingRun, reportOf } from '../fixtures/report/runs.ts';

describe('writeReports', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('creates the directory and writes the four files, returning their absolute paths', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'chaos-gate-report-'));
    const target = path.join(dir, 'nested', 'reports');
    const report = reportOf(failingRun());
    const paths = await writeReports(target, report);
    expect(paths).toEqual({
      json: path.join(target, 'report.json'),
      html: path.join(target, 'report.html'),
      junit: path.join(target, 'junit.xml'),
      summary: path.join(target, 'summary.md'),
    });
    const json = JSON.parse(await readFile(paths.json, 'utf8'));
    expect(json).toMatchObject({ report_version: '2', overall: 'FAIL', deployment_gate: 'CLOSED' });
    expect(json.gate).toMatchObject({ status: 'CLOSED' });
    expect(await readFile(paths.html, 'utf8')).toMatch(/^<!doctype html>/);
    expect(await readFile(paths.junit, 'utf8')).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites /);
    expect(await readFile(paths.summary, 'utf8')).toMatch(/^## ⛔ Deployment gate CLOSED/);
    // Writing again over an existing set replaces it.
    await writeReports(target, reportOf({ ...failingRun(), version: 'v4' }));
    expect(JSON.parse(await readFile(paths.json, 'utf8')).version).toBe('v4');
  });
});
