import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { renderHtml } from './html.ts';
import { toJsonText } from '../util/json-text.ts';
import { renderJunit } from './junit.ts';
import type { Report } from './model.ts';
import { renderSummary } from './summary.ts';

// The only I/O of report/: render everything first (a template error must not leave half a
// report set behind), then write the four files into the report directory.

export interface ReportPaths {
  json: string;
  html: string;
  junit: string;
  summary: string;
}

export const REPORT_FILES = {
  json: 'report.json',
  html: 'report.html',
  junit: 'junit.xml',
  summary: 'summary.md',
} as const;

export async function writeReports(dir: string, report: Report): Promise<ReportPaths> {
  const texts = {
    json: toJsonText(report),
    html: renderHtml(report),
    junit: renderJunit(report),
    summary: renderSummary(report),
  };
  await mkdir(dir, { recursive: true });
  const paths: ReportPaths = {
    json: path.resolve(dir, REPORT_FILES.json),
    html: path.resolve(dir, REPORT_FILES.html),
    junit: path.resolve(dir, REPORT_FILES.junit),
    summary: path.resolve(dir, REPORT_FILES.summary),
  };
  await Promise.all((Object.keys(paths) as (keyof ReportPaths)[]).map((k) => writeFile(paths[k], texts[k], 'utf8')));
  return paths;
}
