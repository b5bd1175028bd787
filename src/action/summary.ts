import * as core from '@actions/core';
import { readFile } from 'node:fs/promises';

// The job's step summary: the report's summary.md (cells already escaped by report/summary.ts).
// core.summary.write() throws without GITHUB_STEP_SUMMARY, so local runs skip it.
export async function writeSummary(summaryFile: string): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) {
    core.info('GITHUB_STEP_SUMMARY is not set: step summary skipped');
    return;
  }
  await core.summary.addRaw(await readFile(summaryFile, 'utf8')).write();
}
