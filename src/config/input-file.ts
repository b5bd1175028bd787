import { closeSync, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { UsageError } from '../util/errors.ts';
import { MAX_INPUT_BYTES } from '../util/limits.ts';
import { tooBigRule } from './yaml.ts';

// Reads one input file (chaos-gate.yml, an experiment file) as text, refusing before it reads
// anything what is not a regular file (a folder, a FIFO that would block, a device that never
// ends) or is larger than MAX_INPUT_BYTES; never more than the limit is read, even from a
// file that grows meanwhile. Every failure is a UsageError naming `source`.

const WHY: Readonly<Record<string, string>> = {
  ENOENT: 'no such file (or a symbolic link to nothing)',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ELOOP: 'a loop of symbolic links',
  EISDIR: 'is a folder, not a file',
  ENOTDIR: 'a part of its path is not a folder',
};

export function cannotRead(source: string, e: unknown): UsageError {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  const why = (code && WHY[code]) ?? code ?? 'an unknown error';
  return new UsageError([{ source, path: '', rule: `cannot be read: ${why}` }]);
}

function notAFile(source: string): UsageError {
  const rule = 'is not a regular file (a folder, a device or a pipe?): not read';
  return new UsageError([{ source, path: '', rule }]);
}

export function readInputFile(file: string, source: string = file): string {
  // stat before open: opening a FIFO would wait for a writer.
  const before = statOrFail(file, source);
  if (!before.isFile()) throw notAFile(source);
  if (before.size > MAX_INPUT_BYTES) throw new UsageError([{ source, path: '', rule: tooBigRule(before.size) }]);
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw cannotRead(source, e);
  }
  try {
    if (!fstatSync(fd).isFile()) throw notAFile(source);
    // One byte more than the limit: enough to tell that a file grew past it since stat.
    const buffer = Buffer.allocUnsafe(MAX_INPUT_BYTES + 1);
    let size = 0;
    for (;;) {
      const n = readSync(fd, buffer, size, buffer.length - size, null);
      size += n;
      if (n === 0 || size === buffer.length) break;
    }
    if (size > MAX_INPUT_BYTES) throw new UsageError([{ source, path: '', rule: tooBigRule(size) }]);
    return buffer.toString('utf8', 0, size);
  } catch (e) {
    throw e instanceof UsageError ? e : cannotRead(source, e);
  } finally {
    closeSync(fd);
  }
}

function statOrFail(file: string, source: string): Stats {
  try {
    return statSync(file);
  } catch (e) {
    throw cannotRead(source, e);
  }
}
