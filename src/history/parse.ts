import { zodIssues } from '../util/issues.ts';
import { HISTORY_SCHEMA_VERSION, historyRecordSchema, type HistoryRecord } from './schema.ts';

// The history file's text to records. Pure. A line that is not a valid record is reported
// and skipped, never fatal: a history is an aid to the prediction, and a run must not fail
// because an earlier one was killed halfway through writing its line.

export interface ParsedHistory {
  records: HistoryRecord[];
  /** One line per skipped line: "history.jsonl:3: not JSON (...): skipped". */
  problems: string[];
}

export function parseHistory(text: string, source: string): ParsedHistory {
  const records: HistoryRecord[] = [];
  const problems: string[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') return;
    const where = `${source}:${i + 1}`;
    let data: unknown;
    try {
      data = JSON.parse(line);
    } catch (e) {
      problems.push(`${where}: not JSON (${(e as Error).message}): skipped`);
      return;
    }
    const version = typeof data === 'object' && data !== null && 'schema' in data ? data.schema : undefined;
    if (typeof version === 'number' && version !== HISTORY_SCHEMA_VERSION) {
      problems.push(`${where}: record schema ${version}, this chaos-gate reads ${HISTORY_SCHEMA_VERSION}: skipped`);
      return;
    }
    const parsed = historyRecordSchema.safeParse(data, { reportInput: true });
    if (!parsed.success) {
      const issues = zodIssues(parsed.error, source, '').map((x) => (x.path ? `${x.path} ${x.rule}` : x.rule));
      problems.push(`${where}: not a history record (${issues.join('; ')}): skipped`);
      return;
    }
    records.push(parsed.data);
  });
  return { records, problems };
}

/** A record as its line in the file (without the newline). Throws when the record is not valid. */
export function formatHistoryLine(record: HistoryRecord): string {
  const parsed = historyRecordSchema.safeParse(record, { reportInput: true });
  if (!parsed.success) {
    const issues = zodIssues(parsed.error, 'history record', '').map((x) => `${x.path || '(record)'}: ${x.rule}`);
    throw new TypeError(`refusing to append an invalid history record: ${issues.join('; ')}`);
  }
  return JSON.stringify(parsed.data);
}
