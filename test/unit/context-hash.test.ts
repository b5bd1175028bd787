import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it, test } from 'vitest';
import { contextHash, ignored, parseDockerignore } from '../../src/stack/context-hash.ts';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A fresh folder holding `files` (path -> text). */
async function folder(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cg-context-'));
  dirs.push(dir);
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

const BASE = { Dockerfile: 'FROM node:24-alpine\n', 'server.js': 'console.log(1)\n', 'lib/a.js': 'a\n' };

async function hashOf(files: Record<string, string>): Promise<string | undefined> {
  return (await contextHash(await folder(files))).hash;
}

describe('contextHash', () => {
  it('is the same for the same files in another folder, and counts them', async () => {
    const a = await contextHash(await folder(BASE));
    const b = await contextHash(
      await folder({ 'lib/a.js': 'a\n', 'server.js': 'console.log(1)\n', Dockerfile: 'FROM node:24-alpine\n' }),
    );
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(b.hash).toBe(a.hash);
    expect(a).toMatchObject({ files: 3, bytes: 20 + 15 + 2, notes: [] });
  });

  test.each([
    ['a changed byte', { ...BASE, 'server.js': 'console.log(2)\n' }],
    ['a renamed file', { Dockerfile: BASE.Dockerfile, 'server.js': BASE['server.js'], 'lib/b.js': 'a\n' }],
    ['a file moved to another folder', { Dockerfile: BASE.Dockerfile, 'server.js': BASE['server.js'], 'a.js': 'a\n' }],
    ['an added empty file', { ...BASE, empty: '' }],
    ['bytes moved between files', { ...BASE, 'server.js': 'console.log(1)\na', 'lib/a.js': '\n' }],
  ])('changes with %s', async (_what, files) => {
    expect(await hashOf(files)).not.toBe(await hashOf(BASE));
  });

  it('changes when a file becomes executable', async () => {
    const dir = await folder(BASE);
    const before = (await contextHash(dir)).hash;
    await chmod(join(dir, 'server.js'), 0o755);
    expect((await contextHash(dir)).hash).not.toBe(before);
  });

  it('hashes a symbolic link by its target, without following it', async () => {
    const dir = await folder(BASE);
    await symlink('/etc/passwd', join(dir, 'link'));
    const first = (await contextHash(dir)).hash;
    await rm(join(dir, 'link'));
    await symlink('/etc/hostname', join(dir, 'link'));
    expect((await contextHash(dir)).hash).not.toBe(first);
    expect((await contextHash(dir)).files).toBe(3);
  });

  it('leaves out .git at any depth', async () => {
    const plain = await hashOf(BASE);
    expect(
      await hashOf({ ...BASE, '.git/HEAD': 'ref: refs/heads/main\n', 'lib/.git': 'gitdir: ../.git/modules/lib\n' }),
    ).toBe(plain);
  });

  it('leaves out what .dockerignore names, and hashes .dockerignore itself', async () => {
    const ignore = 'node_modules/\n*.log\n**/secret.txt\ndist\n# a comment\n';
    const clean = await hashOf({ ...BASE, '.dockerignore': ignore });
    const noisy = await hashOf({
      ...BASE,
      '.dockerignore': ignore,
      'node_modules/x/index.js': 'x',
      'debug.log': 'x',
      'lib/secret.txt': 'x',
      'secret.txt': 'x',
      'dist/app.js': 'x',
    });
    // lib/ exists anyway: an ignored file in a new folder would still add the (empty) folder, as Docker does.
    expect(noisy).toBe(clean);
    // Anchored at the root, as Docker anchors them: lib/debug.log is not `*.log`.
    expect(await hashOf({ ...BASE, '.dockerignore': ignore, 'lib/debug.log': 'x' })).not.toBe(clean);
    expect(clean).not.toBe(await hashOf(BASE));
  });

  it('sets .dockerignore aside when it has exceptions, and says so', async () => {
    const digest = await contextHash(
      await folder({ ...BASE, '.dockerignore': '*.md\n!README.md\n', 'README.md': 'x', 'NOTES.md': 'y' }),
    );
    expect(digest.files).toBe(6);
    expect(digest.hash).toBeDefined();
    expect(digest.notes).toEqual([expect.stringContaining('exceptions (!pattern)')]);
  });

  test.each([
    ['files', { maxFiles: 2, maxBytes: 1e9 }, /more than 2 files/],
    ['bytes', { maxFiles: 100, maxBytes: 30 }, /larger than 30 bytes/],
  ])('gives no hash beyond the limit on %s', async (_what, limits, note) => {
    const digest = await contextHash(await folder(BASE), limits);
    expect(digest.hash).toBeUndefined();
    expect(digest.notes).toEqual([expect.stringMatching(note)]);
    expect(digest.notes[0]).toMatch(/always built/);
  });

  it('gives no hash for a folder that does not exist', async () => {
    const digest = await contextHash(join(tmpdir(), 'cg-context-does-not-exist'));
    expect(digest.hash).toBeUndefined();
    expect(digest.notes[0]).toMatch(/cannot read the build context \(ENOENT\)/);
  });

  it('reads a file past 1 MiB in pieces, to the same hash as a one-piece read would give', async () => {
    const big = 'x'.repeat(3 * 1024 * 1024);
    const a = await hashOf({ ...BASE, big });
    expect(a).toBe(await hashOf({ ...BASE, big }));
    expect(a).not.toBe(await hashOf({ ...BASE, big: `${big}y` }));
  });
});

describe('.dockerignore patterns', () => {
  const rulesOf = (text: string) => parseDockerignore(text).rules;

  test.each([
    ['node_modules', 'node_modules', true],
    ['node_modules', 'lib/node_modules', false],
    ['node_modules/', 'node_modules', true],
    ['/node_modules', 'node_modules', true],
    ['./dist', 'dist', true],
    ['*.log', 'debug.log', true],
    ['*.log', 'logs/debug.log', false],
    ['*.log', 'debug.log.txt', false],
    ['**/*.log', 'logs/deep/debug.log', true],
    ['**/*.log', 'debug.log', true],
    ['**/x', 'a/b/x', true],
    ['**/x', 'x', true],
    ['**/x', 'a/xy', false],
    ['a/**/b', 'a/b', true],
    ['a/**/b', 'a/1/2/b', true],
    ['a/**', 'a/1/2', true],
    ['lib/*.tmp', 'lib/a.tmp', true],
    ['lib/*.tmp', 'lib/sub/a.tmp', false],
    ['file?.txt', 'file1.txt', true],
    ['file?.txt', 'file10.txt', false],
    ['a.b', 'aXb', false],
    ['**', 'anything/at/all', true],
  ])('%j on %j: %j', (pattern, path, expected) => {
    expect(ignored(path, rulesOf(pattern))).toBe(expected);
  });

  test.each([['[abc].txt'], ['{a,b}'], ['../outside']])('%j is not understood: no rule, a note', (pattern) => {
    const parsed = parseDockerignore(pattern);
    expect(parsed.rules).toEqual([]);
    expect(parsed.notes).toEqual([expect.stringContaining('not understood')]);
  });

  it('skips comments and blank lines', () => {
    expect(parseDockerignore('# x\n\n   \n*.log\r\n')).toMatchObject({ rules: [expect.any(RegExp)], notes: [] });
  });
});
