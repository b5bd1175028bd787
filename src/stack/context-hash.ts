import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

// A content hash of a build context, so an image already built from the same files is
// reused instead of built again. It must never say "same" when Docker would see other
// files: where in doubt a file is hashed (a needless rebuild is cheap, a stale image is not).

export interface ContextLimits {
  maxFiles: number;
  maxBytes: number;
}

export const CONTEXT_LIMITS: ContextLimits = { maxFiles: 20_000, maxBytes: 1024 ** 3 };

export interface ContextDigest {
  /** sha256 hex; undefined: not hashed (too large, unreadable): no reuse, always build. */
  hash: string | undefined;
  files: number;
  bytes: number;
  /** Why the hash is missing, or what of .dockerignore was not honoured. */
  notes: string[];
}

/** One .dockerignore line as a test on a context-relative path ("a/b.txt"). */
export type IgnoreRule = RegExp;

/**
 * The rules of a .dockerignore, anchored at the context root as Docker anchors them.
 * Exceptions (`!x`) are not supported: with one present the whole file is set aside and every
 * file hashed, because leaving out a file Docker sends could reuse a stale image.
 */
export function parseDockerignore(text: string): { rules: IgnoreRule[]; notes: string[] } {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  if (lines.some((l) => l.startsWith('!'))) {
    return {
      rules: [],
      notes: ['.dockerignore has exceptions (!pattern), which the context hash does not read: every file is hashed'],
    };
  }
  const rules: IgnoreRule[] = [];
  const notes: string[] = [];
  for (const line of lines) {
    const rule = globRule(line);
    if (rule) rules.push(rule);
    else
      notes.push(
        `.dockerignore pattern ${JSON.stringify(line)} is not understood by the context hash: those files are hashed`,
      );
  }
  return { rules, notes };
}

/** Whether `path` (context-relative, `/`-separated) is ignored; the walk never enters an ignored folder. */
export function ignored(path: string, rules: readonly IgnoreRule[]): boolean {
  return rules.some((r) => r.test(path));
}

/** `*`, `?` and `**` (any number of folders); character classes are not handled. */
function globRule(pattern: string): IgnoreRule | undefined {
  const clean = pattern
    .replace(/\\/g, '/')
    .replace(/^(\.?\/)+/, '')
    .replace(/\/+$/, '')
    .replace(/\/+/g, '/');
  if (!clean || clean === '.' || /[[\]{}]/.test(clean) || clean.split('/').includes('..')) return undefined;
  const body = clean
    .split('/')
    .map((seg) => (seg === '**' ? '\uE000' : segmentSource(seg)))
    .join('/');
  // `**/` matches zero or more folders; a trailing `/**` everything below.
  const source = body
    .replace(/\uE000\//g, '(?:.*/)?')
    .replace(/\/\uE000$/, '(?:/.*)?')
    .replace(/\uE000/g, '.*');
  return new RegExp(`^${source}$`, 's');
}

function segmentSource(segment: string): string {
  return segment
    .split('')
    .map((c) => (c === '*' ? '[^/]*' : c === '?' ? '[^/]' : c.replace(/[.+^$()|\\]/g, '\\$&')))
    .join('');
}

interface Walk {
  hash: Hash;
  files: number;
  bytes: number;
  limits: ContextLimits;
  rules: readonly IgnoreRule[];
}

/**
 * Every file's relative path, executable bit, size and bytes, in name order; symbolic links
 * by their target (Docker sends them as links). `.git` folders are left out.
 */
export async function contextHash(dir: string, limits: ContextLimits = CONTEXT_LIMITS): Promise<ContextDigest> {
  const ignore = parseDockerignore(await readFile(join(dir, '.dockerignore'), 'utf8').catch(() => ''));
  const walk: Walk = { hash: createHash('sha256'), files: 0, bytes: 0, limits, rules: ignore.rules };
  let stopped: string | undefined;
  try {
    stopped = await hashFolder(dir, '', walk);
  } catch (e) {
    stopped = `cannot read the build context (${(e as NodeJS.ErrnoException).code ?? String(e)})`;
  }
  const notes = [...ignore.notes, ...(stopped ? [`${stopped}: no reuse, the image is always built`] : [])];
  return { hash: stopped ? undefined : walk.hash.digest('hex'), files: walk.files, bytes: walk.bytes, notes };
}

/** Hashes one folder's entries; returns why it stopped when a limit is passed. */
async function hashFolder(root: string, prefix: string, walk: Walk): Promise<string | undefined> {
  const names = (await readdir(join(root, prefix))).sort();
  for (const name of names) {
    const rel = prefix ? `${prefix}/${name}` : name;
    if (name === '.git' || ignored(rel, walk.rules)) continue;
    const path = join(root, rel);
    const stat = await lstat(path);
    if (stat.isDirectory()) {
      walk.hash.update(`D ${rel}\0`);
      const stopped = await hashFolder(root, rel, walk);
      if (stopped) return stopped;
    } else if (stat.isSymbolicLink()) {
      walk.hash.update(`L ${rel}\0${await readlink(path)}\0`);
    } else if (stat.isFile()) {
      walk.files += 1;
      walk.bytes += stat.size;
      if (walk.files > walk.limits.maxFiles) return `the build context has more than ${walk.limits.maxFiles} files`;
      if (walk.bytes > walk.limits.maxBytes) return `the build context is larger than ${walk.limits.maxBytes} bytes`;
      walk.hash.update(`F ${rel}\0${stat.mode & 0o111 ? 'x' : '-'}\0${stat.size}\0`);
      await hashFile(path, stat.size, walk.hash);
    } else {
      // Sockets and pipes: named, never read (a pipe would block).
      walk.hash.update(`O ${rel}\0`);
    }
  }
  return undefined;
}

async function hashFile(path: string, size: number, hash: Hash): Promise<void> {
  if (size <= 1024 * 1024) {
    hash.update(await readFile(path));
    return;
  }
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
}
