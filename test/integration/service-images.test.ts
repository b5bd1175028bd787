import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/util/errors.ts';
import { baselineImage, candidateImage, type BuiltImage, type ImageDeps } from '../../src/stack/service-images.ts';
import type { ImageSource } from '../../src/target/service.ts';

// Issue 11 against the real engine: a user's tiny git repository, its candidate built and
// then reused, its baseline built from HEAD~1 in a worktree, and the two ways a build is
// refused as bad input (a ref the clone lacks, a Dockerfile whose RUN fails).

let repo: string;
const made = new Set<string>();
const lines: string[] = [];
const deps: ImageDeps = {
  progress: { step: (m) => lines.push(m), info: (m) => lines.push(m), warn: (m) => lines.push(m) },
};
const GIT_ENV = {
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@example.invalid',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@example.invalid',
};
const DOCKERFILE = 'FROM node:24-alpine\nWORKDIR /app\nCOPY server.js .\nEXPOSE 8080\nCMD ["node","server.js"]\n';
const server = (version: string) =>
  `require('node:http').createServer((q, s) => s.end(JSON.stringify({ version: '${version}' }))).listen(8080);\n`;

async function git(...args: string[]): Promise<string> {
  return (await execa('git', args, { cwd: repo, env: GIT_ENV })).stdout.trim();
}

async function docker(...args: string[]) {
  return execa('docker', args, { reject: false, timeout: 120_000 });
}

const buildSource = (dir: string): ImageSource => ({
  kind: 'build',
  context: dir,
  dockerfile: join(dir, 'Dockerfile'),
  args: {},
});
const keep = (image: BuiltImage) => (made.add(image.ref), image);
const tags = async (repository: string) =>
  (await docker('image', 'ls', repository, '--format', '{{.Tag}}')).stdout.split('\n').filter(Boolean).sort();

beforeAll(async () => {
  repo = await mkdtemp(join(tmpdir(), 'cg-service-images-'));
  await git('init', '-q');
  await writeFile(join(repo, 'Dockerfile'), DOCKERFILE);
  await writeFile(join(repo, 'server.js'), server('v1'));
  await git('add', '.');
  await git('commit', '-q', '-m', 'v1');
  await writeFile(join(repo, 'server.js'), server('v2'));
  await git('commit', '-q', '-am', 'v2');
});

afterAll(async () => {
  if (made.size) await docker('image', 'rm', ...made);
  if (repo) await rm(repo, { recursive: true, force: true });
});

describe('candidate and baseline images', () => {
  let candidate: BuiltImage;

  it('builds the candidate from HEAD, then reuses it', async () => {
    const hadNode = (await docker('image', 'inspect', 'node:24-alpine')).exitCode === 0;
    candidate = keep(await candidateImage(buildSource(repo), deps));
    const head = await git('rev-parse', 'HEAD');
    expect(candidate).toMatchObject({ commit: head, reused: false });
    expect(candidate.ref).toMatch(new RegExp(`^chaos-gate/candidate:${head.slice(0, 12)}-[0-9a-f]{12}$`));
    expect(candidate.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(candidate.buildMs).toBeGreaterThan(0);
    if (!hadNode)
      expect(candidate.notes.join('\n')).toContain(
        'node:24-alpine is the air-gapped stand-in chaos-gate/node:24-offline',
      );
    const labels = (await docker('image', 'inspect', '--format', '{{json .Config.Labels}}', candidate.ref)).stdout;
    expect(JSON.parse(labels)).toMatchObject({
      'chaos-gate.commit': head,
      'chaos-gate.context': expect.stringMatching(/^[0-9a-f]{64}$/),
    });

    const started = performance.now();
    const again = await candidateImage(buildSource(repo), deps);
    expect(again).toMatchObject({ ref: candidate.ref, id: candidate.id, reused: true, buildMs: 0 });
    console.log(
      `candidate ${candidate.ref}: built in ${candidate.buildMs} ms; the second call reused it in ${Math.round(performance.now() - started)} ms`,
    );
  });

  it('builds the baseline from HEAD~1 in a worktree it removes', async () => {
    const before = await git('rev-parse', 'HEAD~1');
    const started = performance.now();
    const baseline = keep(await baselineImage({ kind: 'ref', ref: 'HEAD~1' }, buildSource(repo), deps));
    console.log(
      `baseline ${baseline.ref}: built in ${baseline.buildMs} ms (${Math.round(performance.now() - started)} ms with the worktree)`,
    );
    expect(baseline).toMatchObject({ commit: before, reused: false });
    expect(baseline.ref).toMatch(new RegExp(`^chaos-gate/baseline:${before.slice(0, 12)}-[0-9a-f]{12}$`));
    expect(baseline.id).not.toBe(candidate.id);
    const served = await docker(
      'run',
      '--rm',
      baseline.ref,
      'node',
      '-p',
      "require('node:fs').readFileSync('server.js', 'utf8')",
    );
    expect(served.stdout).toContain("version: 'v1'");
    expect(await git('worktree', 'list', '--porcelain')).not.toMatch(/chaos-gate-baseline-/);
    expect(
      (await readdir(tmpdir())).filter(
        (n) => n.startsWith('chaos-gate-baseline-') && existsSync(join(tmpdir(), n, 'tree')),
      ),
    ).toEqual([]);
  });

  it('refuses a ref the clone does not have, naming baseline.ref and fetch-depth, and builds nothing', async () => {
    const before = await tags('chaos-gate/baseline');
    const worktrees = await git('worktree', 'list', '--porcelain');
    const error = await baselineImage({ kind: 'ref', ref: 'HEAD~5' }, buildSource(repo), deps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    const [issue] = (error as UsageError).issues;
    expect(issue).toMatchObject({ path: 'baseline.ref', rule: expect.stringContaining('HEAD~5') });
    expect(issue?.rule).toContain("the workflow's actions/checkout needs fetch-depth: 2 or more");
    expect(await tags('chaos-gate/baseline')).toEqual(before);
    expect(await git('worktree', 'list', '--porcelain')).toBe(worktrees);
  });

  it('turns a failing RUN into a UsageError carrying the end of the build log', async () => {
    const dir = join(repo, 'broken');
    await mkdir(dir);
    await writeFile(join(dir, 'Dockerfile'), 'FROM node:24-alpine\nRUN echo about to fail && exit 3\nCMD ["node"]\n');
    const error = await candidateImage(buildSource(dir), deps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    const [issue] = (error as UsageError).issues;
    expect(issue).toMatchObject({ source: join(dir, 'Dockerfile'), path: 'service.build' });
    expect(issue?.rule).toMatch(/failed \(exit \d+\); the last \d+ lines of its log:/);
    expect(issue?.rule).toContain('about to fail');
    expect(issue?.rule).toMatch(/non-zero code: 3|exit code: 3/);
    expect(issue?.rule.split('\n').length).toBeLessThanOrEqual(31);
  });
});
