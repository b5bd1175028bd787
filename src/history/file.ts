import * as nodeFs from 'node:fs/promises';
import { dirname } from 'node:path';
import { formatHistoryLine, parseHistory } from './parse.ts';
import type { HistoryRecord } from './schema.ts';

// The history file on disk: the only I/O of history/. JSON Lines, one record per gate run,
// appended at the end of the run; the GitHub Action restores the file before the run (cache
// or artifact) and saves it after.
//
// Reading never fails the run: a missing file is an empty history (reported: the first run,
// or a cache that was not restored), an unreadable one too, and a corrupt line is reported
// and skipped (parse.ts).
//
// Appending is one write of one whole line to a file opened for appending, then fsync before
// close: a run that the gate reports as recorded is on disk, and a crash can at worst leave
// one incomplete LAST line, which the reader skips. When the file does not end in a newline
// (such a crash), the new record starts on a line of its own, so it is not glued to the
// broken one.

/** The parts of node:fs/promises used here; tests pass a wrapper to watch the fsync. */
export type HistoryFs = Pick<typeof nodeFs, 'readFile' | 'mkdir' | 'open'>;

export interface HistoryRead {
  file: string;
  records: HistoryRecord[];
  /** What was wrong, for a warning line each: the missing file, unreadable or skipped lines. */
  problems: string[];
  missing: boolean;
}

export async function readHistory(file: string, fs: HistoryFs = nodeFs): Promise<HistoryRead> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      return {
        file,
        records: [],
        problems: [`${file}: no history yet: going on without it (this run starts it)`],
        missing: true,
      };
    return {
      file,
      records: [],
      problems: [`${file}: cannot be read (${(e as Error).message}): going on without history`],
      missing: false,
    };
  }
  const parsed = parseHistory(text, file);
  return { file, records: parsed.records, problems: parsed.problems, missing: false };
}

export async function appendHistory(file: string, record: HistoryRecord, fs: HistoryFs = nodeFs): Promise<void> {
  const line = formatHistoryLine(record);
  await fs.mkdir(dirname(file), { recursive: true });
  // a+: append, and read the last byte to see whether the file ends in a newline.
  const handle = await fs.open(file, 'a+');
  try {
    const { size } = await handle.stat();
    let prefix = '';
    if (size > 0) {
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) prefix = '\n';
    }
    await handle.write(`${prefix}${line}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
