import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendHistory, readHistory, type HistoryFs } from '../../src/history/file.ts';
import { parseHistory } from '../../src/history/parse.ts';
import type { HistoryRecord } from '../../src/history/schema.ts';
import { record } from './history-fixtures.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chaos-gate-history-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('history file', () => {
  it('round trip: appended records read back equal, in order, one line each', async () => {
    const file = join(dir, 'nested', 'history.jsonl');
    await appendHistory(file, record('run-1'));
    await appendHistory(
      file,
      record('run-2', {
        verdict: 'CLOSED',
        rollout: 'ROLLED_BACK',
        failed_region: 'eu-west',
        rollback_reason: 'red verdict: x',
      }),
    );
    const read = await readHistory(file);
    expect(read).toEqual({
      file,
      records: [
        record('run-1'),
        record('run-2', {
          verdict: 'CLOSED',
          rollout: 'ROLLED_BACK',
          failed_region: 'eu-west',
          rollback_reason: 'red verdict: x',
        }),
      ],
      problems: [],
      missing: false,
    });
    const text = await readFile(file, 'utf8');
    expect(text.split('\n')).toHaveLength(3);
    expect(text.endsWith('\n')).toBe(true);
  });

  it('a missing file is an empty history, reported', async () => {
    const file = join(dir, 'none.jsonl');
    expect(await readHistory(file)).toEqual({
      file,
      records: [],
      problems: [`${file}: no history yet: going on without it (this run starts it)`],
      missing: true,
    });
  });

  it('an unreadable file is an empty history, reported', async () => {
    const read = await readHistory(dir); // a directory
    expect(read.records).toEqual([]);
    expect(read.missing).toBe(false);
    expect(read.problems[0]).toMatch(/cannot be read \(EISDIR.*\): going on without history$/);
  });

  it('a corrupt line is reported with its line number and skipped; the others are read', async () => {
    const file = join(dir, 'h.jsonl');
    const lines = [
      JSON.stringify(record('a')),
      '{"schema":1,"run_id":"b", oops',
      '',
      JSON.stringify({ ...record('c'), run_id: '' }),
      JSON.stringify({ ...record('d'), schema: 2 }),
      JSON.stringify(record('e')),
    ];
    await writeFile(file, `${lines.join('\n')}\n`);
    const read = await readHistory(file);
    expect(read.records.map((r) => r.run_id)).toEqual(['a', 'e']);
    expect(read.problems).toHaveLength(3);
    expect(read.problems[0]).toMatch(
      new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:2: not JSON \\(.*\\): skipped$`),
    );
    expect(read.problems[1]).toBe(`${file}:4: not a history record (run_id must not be empty): skipped`);
    expect(read.problems[2]).toBe(`${file}:5: record schema 2, this chaos-gate reads 1: skipped`);
  });

  it('after a crash mid-line, the next record starts on its own line', async () => {
    const file = join(dir, 'h.jsonl');
    await writeFile(file, `${JSON.stringify(record('a'))}\n{"schema":1,"run_`);
    await appendHistory(file, record('b'));
    const read = await readHistory(file);
    expect(read.records.map((r) => r.run_id)).toEqual(['a', 'b']);
    expect(read.problems).toEqual([expect.stringMatching(/:2: not JSON/)]);
  });

  it('fsyncs the appended line before closing the file', async () => {
    const calls: string[] = [];
    const watched: HistoryFs = {
      readFile: fs.readFile,
      mkdir: fs.mkdir,
      open: (async (path: string, flags: string) => {
        const handle = await fs.open(path, flags);
        const { write, sync, close } = handle;
        return Object.assign(handle, {
          write: (...args: Parameters<typeof write>) => {
            calls.push('write');
            return write.apply(handle, args);
          },
          sync: () => {
            calls.push('sync');
            return sync.apply(handle);
          },
          close: () => {
            calls.push('close');
            return close.apply(handle);
          },
        });
      }) as HistoryFs['open'],
    };
    await appendHistory(join(dir, 'h.jsonl'), record('a'), watched);
    expect(calls).toEqual(['write', 'sync', 'close']);
  });

  it('refuses an invalid record and leaves the file untouched', async () => {
    const file = join(dir, 'h.jsonl');
    await mkdir(dir, { recursive: true });
    await expect(appendHistory(file, { ...record('a'), verdict: 'MAYBE' } as unknown as HistoryRecord)).rejects.toThrow(
      /refusing to append an invalid history record: verdict: must be one of "OPEN", "CLOSED", got "MAYBE"/,
    );
    expect((await readHistory(file)).missing).toBe(true);
  });

  it('ignores fields it does not know (an additive change keeps schema 1)', () => {
    const parsed = parseHistory(JSON.stringify({ ...record('a'), new_field: 1 }), 'h');
    expect(parsed.problems).toEqual([]);
    expect(parsed.records[0]).toEqual(record('a'));
  });
});
