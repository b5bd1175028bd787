import { existsSync } from 'node:fs';
import { mkdtemp, readFile, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import { UsageError } from '../util/errors.ts';
import type { BaselineSource, ImageSource } from '../target/service.ts';
import type { Progress } from '../util/progress.ts';
import {
  baseImages,
  buildKey,
  commitLabel,
  dockerBuildArgs,
  dockerPullArgs,
  dockerTagArgs,
  gitHeadArgs,
  gitTopLevelArgs,
  gitVerifyArgs,
  gitWorktreeAddArgs,
  gitWorktreePruneArgs,
  gitWorktreeRemoveArgs,
  imageInspectArgs,
  imagePortsArgs,
  imageTag,
  parseExposedPorts,
  parseImageInspect,
  standInTag,
  refProblem,
  type BaseImage,
  type DockerBuild,
  type ImageRole,
  type InspectedImage,
} from './build-args.ts';
import { contextHash } from './context-hash.ts';
import { InfraError } from './errors.ts';
import { execWrapper, type ExecOptions, type ExecResult } from './exec.ts';
import { OFFLINE_IMAGES } from './target.ts';

// The candidate and baseline images of a user's service: built from the user's Dockerfile
// (the baseline from a git ref, in a throwaway worktree), reused when the same files were
// built before, or taken by name. The decisions live in build-args.ts and context-hash.ts.

export interface BuiltImage {
  /** What Compose is given: the tag we built, or the image named in the config. */
  ref: string;
  /** sha256:... from docker image inspect. */
  id: string;
  commit: string | null;
  /** An image that was already on this machine was used: nothing built or pulled. */
  reused: boolean;
  /** Time spent building (or pulling); 0 when reused. */
  buildMs: number;
  notes: string[];
}

export interface ImageDeps {
  progress: Progress;
  exec?: typeof execWrapper;
  /** Extra environment for docker and git (DOCKER_HOST, DOCKER_BUILDKIT...). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Named as the source of bad baseline input; default chaos-gate.yml. */
  configFile?: string;
}

type BuildSource = Extract<ImageSource, { kind: 'build' }>;
type Run = (file: string, args: readonly string[], options?: ExecOptions) => Promise<ExecResult>;

interface BuildTarget {
  /** For messages: "candidate", "baseline", "dependency worker". */
  role: string;
  /** The image's name under chaos-gate/. */
  name: string;
  commit: string | null;
  /** The config field blamed for bad input. */
  where: string;
  /** The Dockerfile as the user knows it (not its copy in a temporary worktree). */
  shownDockerfile: string;
  /** The git ref a baseline is built at. */
  ref?: string;
}

const BUILD_TIMEOUT_MS = 15 * 60_000;
const PULL_TIMEOUT_MS = 10 * 60_000;
const GIT_CHECKOUT_TIMEOUT_MS = 5 * 60_000;
const QUICK_MS = 60_000;
const LOG_LINES = 30;
const ENGINE_DOWN = /Cannot connect to the Docker daemon|Is the docker daemon running|error during connect/i;

export async function candidateImage(source: ImageSource, deps: ImageDeps): Promise<BuiltImage> {
  if (source.kind === 'image') return givenImage(source.image, 'candidate', deps);
  const run = runner(deps);
  const commit = await gitOutput(run, gitHeadArgs(), source.context);
  return buildImage(
    source,
    { role: 'candidate', name: 'candidate', commit, where: 'service.build', shownDockerfile: source.dockerfile },
    deps,
  );
}

/**
 * A service of the dependencies file with `build:`, built like the candidate. The same for
 * candidate and baseline, so it is keyed by its files alone: a new commit that left them
 * alone reuses it.
 */
export async function dependencyImage(
  dependency: { name: string; build: Omit<BuildSource, 'kind'> },
  file: string,
  deps: ImageDeps,
): Promise<BuiltImage> {
  const { name, build } = dependency;
  const target = {
    role: `dependency ${name}`,
    name: `dep-${name}`,
    commit: null,
    where: `services.${name}.build`,
    shownDockerfile: build.dockerfile,
  };
  return buildImage({ kind: 'build', ...build }, target, { ...deps, configFile: file });
}

/** The fault proxy (services/fault-proxy of the gate's own files), built once and reused like a dependency. */
export async function proxyImage(projectDir: string, deps: ImageDeps): Promise<BuiltImage> {
  const context = join(projectDir, 'services', 'fault-proxy');
  const dockerfile = join(context, 'Dockerfile');
  const target = {
    role: 'fault proxy',
    name: 'fault-proxy',
    commit: null,
    where: 'services/fault-proxy',
    shownDockerfile: dockerfile,
  };
  return buildImage({ kind: 'build', context, dockerfile, args: {} }, target, deps);
}

/**
 * The TCP ports an image declares (EXPOSE), pulled first when it is
 * not here (Compose would pull it anyway); none when it cannot be had.
 */
export async function imagePorts(ref: string, deps: ImageDeps): Promise<number[]> {
  const run = runner(deps);
  const read = async () => {
    const res = await run('docker', imagePortsArgs(ref), { timeoutMs: QUICK_MS });
    return res.exitCode === 0 ? parseExposedPorts(res.stdout) : undefined;
  };
  const here = await read();
  if (here !== undefined || ref.startsWith('-')) return here ?? [];
  deps.progress.step(`pulling the dependency image ${ref} (to read the ports it declares)`);
  await run('docker', dockerPullArgs(ref), { timeoutMs: PULL_TIMEOUT_MS });
  return (await read()) ?? [];
}

export async function baselineImage(
  baseline: BaselineSource,
  candidateSource: ImageSource,
  deps: ImageDeps,
): Promise<BuiltImage> {
  if (baseline.kind === 'image') return givenImage(baseline.image, 'baseline', deps);
  if (candidateSource.kind !== 'build') {
    throw usage(
      deps,
      'baseline.ref',
      `building ${baseline.ref} needs service.build (the Dockerfile to build there); with service.image, ` +
        `give baseline.image`,
    );
  }
  return buildAtRef(candidateSource, baseline.ref, deps);
}

/** An image named in the config: used if present, else pulled. */
async function givenImage(image: string, role: ImageRole, deps: ImageDeps): Promise<BuiltImage> {
  if (image.startsWith('-'))
    throw usage(
      deps,
      role === 'candidate' ? 'service.image' : 'baseline.image',
      `${JSON.stringify(image)} is not an image name`,
    );
  const run = runner(deps);
  const present = await inspect(run, image);
  if (present) {
    return {
      ref: image,
      id: present.id,
      commit: commitLabel(present.labels),
      reused: true,
      buildMs: 0,
      notes: [`${role} image ${image}: as it is on this machine`],
    };
  }
  deps.progress.step(`pulling the ${role} image ${image}`);
  const started = performance.now();
  const pulled = await run('docker', dockerPullArgs(image), { timeoutMs: PULL_TIMEOUT_MS });
  const after = pulled.exitCode === 0 ? await inspect(run, image) : undefined;
  if (!after) {
    throw new InfraError(
      `the ${role} image ${image} is not on this machine and cannot be pulled (${lastLine(pulled)})`,
      [
        ...tail(pulled.stderr, 10),
        `provide it with \`docker load -i <file>.tar\` (saved elsewhere with \`docker save ${image}\`), then re-run`,
      ],
    );
  }
  const buildMs = elapsed(started);
  return {
    ref: image,
    id: after.id,
    commit: commitLabel(after.labels),
    reused: false,
    buildMs,
    notes: [`${role} image ${image}: pulled in ${seconds(buildMs)}`],
  };
}

/** The same Dockerfile and context path, checked out at `ref` in a temporary worktree. */
async function buildAtRef(source: BuildSource, ref: string, deps: ImageDeps): Promise<BuiltImage> {
  const run = runner(deps);
  const found = await run('git', gitTopLevelArgs(), { cwd: source.context, timeoutMs: QUICK_MS });
  const top = found.exitCode === 0 ? found.stdout.trim() : '';
  // git's own words: "not a git repository", or "dubious ownership" in a container job.
  if (!top)
    throw usage(
      deps,
      'baseline.ref',
      `${ref} cannot be checked out: git finds no repository at the build context ${source.context} ` +
        `(${lastLine(found)}): give baseline.image instead`,
    );
  const commit = await resolveRef(run, top, ref, deps);
  const temp = await mkdtemp(join(tmpdir(), 'chaos-gate-baseline-'));
  const tree = join(temp, 'tree');
  deps.progress.step(`checking out the baseline ${ref} (${commit.slice(0, 12)}) in a temporary worktree`);
  try {
    const added = await run('git', gitWorktreeAddArgs(tree, commit), { cwd: top, timeoutMs: GIT_CHECKOUT_TIMEOUT_MS });
    if (added.exitCode !== 0)
      throw new InfraError(
        `git worktree add for the baseline ${ref} failed (${lastLine(added)})`,
        tail(added.stderr, 10),
      );
    const moved = await relocate(source, top, tree);
    const built = await buildImage(
      moved.source,
      { role: 'baseline', name: 'baseline', commit, where: 'baseline.ref', shownDockerfile: source.dockerfile, ref },
      deps,
    );
    return { ...built, notes: [...moved.notes, ...built.notes] };
  } finally {
    await removeWorktree(run, top, tree, temp, deps.progress);
  }
}

async function resolveRef(run: Run, top: string, ref: string, deps: ImageDeps): Promise<string> {
  const problem = refProblem(ref);
  if (problem) throw usage(deps, 'baseline.ref', `${JSON.stringify(ref)} ${problem}: not a git revision`);
  const res = await run('git', gitVerifyArgs(ref), { cwd: top, timeoutMs: QUICK_MS });
  const commit = res.stdout.trim();
  if (res.exitCode !== 0 || !/^[0-9a-f]{40,64}$/.test(commit)) {
    throw usage(
      deps,
      'baseline.ref',
      `${ref} is not a commit in ${top}: the workflow's actions/checkout needs fetch-depth: 2 or more ` +
        `(the default, 1, fetches no history), or give another baseline.ref or a baseline.image`,
    );
  }
  return commit;
}

/** The build source's paths moved into the worktree; a Dockerfile outside the repository stays where it is. */
async function relocate(
  source: BuildSource,
  top: string,
  tree: string,
): Promise<{ source: BuildSource; notes: string[] }> {
  const inTree = async (path: string) => {
    const rel = relative(top, await realpath(path).catch(() => path));
    return rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel) ? undefined : join(tree, rel);
  };
  const context = (await inTree(source.context)) ?? tree;
  const dockerfile = await inTree(source.dockerfile);
  const notes = dockerfile
    ? []
    : [`the Dockerfile ${source.dockerfile} is outside the repository: the baseline is built with today's copy`];
  return { source: { ...source, context, dockerfile: dockerfile ?? source.dockerfile }, notes };
}

/** Always run: a failed or interrupted build leaves no worktree behind. */
async function removeWorktree(run: Run, top: string, tree: string, temp: string, progress: Progress): Promise<void> {
  if (existsSync(tree)) {
    const removed = await run('git', gitWorktreeRemoveArgs(tree), { cwd: top, timeoutMs: QUICK_MS });
    if (removed.exitCode !== 0)
      progress.warn(`git worktree remove ${tree} failed (${lastLine(removed)}): removing the folder`);
  }
  await rm(temp, { recursive: true, force: true });
  await run('git', gitWorktreePruneArgs(), { cwd: top, timeoutMs: QUICK_MS });
}

/** Reuses the image built before from the same files, or builds it. */
async function buildImage(source: BuildSource, target: BuildTarget, deps: ImageDeps): Promise<BuiltImage> {
  const run = runner(deps);
  const dockerfileText = await readDockerfile(source, target, deps);
  const digest = await contextHash(source.context);
  const key =
    digest.hash === undefined
      ? undefined
      : buildKey({
          contextHash: digest.hash,
          dockerfilePath: relative(source.context, source.dockerfile).split(sep).join('/'),
          dockerfileText,
          args: source.args,
        });
  const ref = imageTag(target.name, target.commit, key);
  const image = { ref, commit: target.commit };
  const existing = key === undefined ? undefined : await inspect(run, ref);
  if (existing) {
    const note = `${target.role} image ${ref} reused: built before from the same files`;
    deps.progress.info(note);
    return { ...image, id: existing.id, reused: true, buildMs: 0, notes: [...digest.notes, note] };
  }
  const bases = await provideBaseImages(run, baseImages(dockerfileText, source.args), deps.progress);
  deps.progress.step(`building the ${target.role} image ${ref}${target.ref ? ` at ${target.ref}` : ''}`);
  const started = performance.now();
  const { res, log } = await dockerBuild(
    run,
    { ...source, tag: ref, contextHash: digest.hash, commit: target.commit },
    deps.progress,
  );
  const buildMs = elapsed(started);
  if (res.exitCode !== 0) await buildFailure(run, res, log, bases.missing, target);
  const built = await inspect(run, ref);
  if (!built)
    throw new InfraError(
      `docker build said it built ${ref}, but docker image inspect does not find it`,
      tail(res.stderr, 10),
    );
  const note = `${target.role} image ${ref} built in ${seconds(buildMs)}`;
  deps.progress.info(note);
  return { ...image, id: built.id, reused: false, buildMs, notes: [...digest.notes, ...bases.notes, note] };
}

/** Runs docker build, streaming its lines to progress; returns the last LOG_LINES of them. */
async function dockerBuild(
  run: Run,
  build: DockerBuild,
  progress: Progress,
): Promise<{ res: ExecResult; log: string[] }> {
  const log: string[] = [];
  const res = await run('docker', dockerBuildArgs(build), {
    cwd: build.context,
    timeoutMs: BUILD_TIMEOUT_MS,
    onLine: (line) => {
      log.push(line);
      if (log.length > LOG_LINES) log.shift();
      progress.info(`  ${line}`);
    },
  });
  // An exec without onLine (a test double) still gives the log's end.
  return {
    res,
    log: log.length ? log : [...tail(res.stdout, LOG_LINES), ...tail(res.stderr, LOG_LINES)].slice(-LOG_LINES),
  };
}

/** Config validation checks the context and Dockerfile exist; an old ref may predate them. */
async function readDockerfile(source: BuildSource, target: BuildTarget, deps: ImageDeps): Promise<string> {
  if (!existsSync(source.context)) {
    if (target.ref)
      throw usage(
        deps,
        'baseline.ref',
        `the build context does not exist at ${target.ref}: give a baseline.ref that has it, or a baseline.image`,
      );
    throw new UsageError([
      {
        source: target.shownDockerfile,
        path: target.where,
        rule: `the build context ${source.context} does not exist`,
      },
    ]);
  }
  try {
    return await readFile(source.dockerfile, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    if (target.ref)
      throw usage(
        deps,
        'baseline.ref',
        `the Dockerfile ${target.shownDockerfile} cannot be read at ${target.ref} (${code}): ` +
          `give a baseline.ref that has it, or a baseline.image`,
      );
    throw new UsageError([
      { source: target.shownDockerfile, path: target.where, rule: `the Dockerfile cannot be read (${code})` },
    ]);
  }
}

/**
 * Every FROM image present before the build: a missing `node:<tag>` becomes the air-gapped
 * stand-in when that is here; any other missing image is left to docker build (which may
 * pull it) and named if the build fails.
 */
async function provideBaseImages(
  run: Run,
  bases: readonly BaseImage[],
  progress: Progress,
): Promise<{ notes: string[]; missing: BaseImage[] }> {
  const notes: string[] = [];
  const missing: BaseImage[] = [];
  const seen = new Set<string>();
  for (const base of bases) {
    if (base.unresolved || seen.has(base.image)) continue;
    seen.add(base.image);
    if (await inspect(run, base.image)) continue;
    // The stand-in is Node 24: standing in for node:20 would build a different runtime.
    const tag = standInTag(base.image);
    if (tag !== undefined && (await inspect(run, OFFLINE_IMAGES.node))) {
      const tagged = await run('docker', dockerTagArgs(OFFLINE_IMAGES.node, `node:${tag}`), { timeoutMs: QUICK_MS });
      if (tagged.exitCode !== 0)
        throw new InfraError(`docker tag ${OFFLINE_IMAGES.node} node:${tag} failed (${lastLine(tagged)})`);
      const note =
        `node:${tag} is the air-gapped stand-in ${OFFLINE_IMAGES.node} (Node 24): ` + `it was not on this machine`;
      progress.info(note);
      notes.push(note);
      continue;
    }
    missing.push(base);
  }
  return { notes, missing };
}

/** A missing base image is the machine's problem (exit 3); anything else is the user's Dockerfile or code (exit 2). */
async function buildFailure(
  run: Run,
  res: ExecResult,
  log: readonly string[],
  missing: readonly BaseImage[],
  target: BuildTarget,
): Promise<never> {
  const at = target.ref ? ` at ${target.ref}` : '';
  if (res.timedOut)
    throw new InfraError(
      `docker build of the ${target.role} image${at} timed out after ${BUILD_TIMEOUT_MS / 60_000} min`,
      log,
    );
  if (res.exitCode === 127 || ENGINE_DOWN.test(res.stderr))
    throw new InfraError(`docker build of the ${target.role} image could not run (${lastLine(res)})`, log);
  const stillMissing: BaseImage[] = [];
  for (const base of missing) if (!(await inspect(run, base.image))) stillMissing.push(base);
  if (stillMissing.length) {
    const named = stillMissing.map((b) => `${b.image} (${target.shownDockerfile}:${b.line})`).join(', ');
    throw new InfraError(
      `the ${target.role} image${at} cannot be built: ` +
        `its FROM image ${named} is not on this machine and cannot be pulled`,
      [
        'provide it with `docker load -i <file>.tar` (saved elsewhere with `docker save`) ' +
          'or `docker import`, then re-run',
        `last ${log.length} lines of the build log:`,
        ...log,
      ],
    );
  }
  const rule =
    `docker build of the ${target.role} image${at} failed (exit ${res.exitCode}); ` +
    `the last ${log.length} lines of its log:\n${log.join('\n')}`;
  throw new UsageError([{ source: target.shownDockerfile, path: target.where, rule }]);
}

/** exec with the deps' environment; a process that cannot start is an exit 127, not a throw. */
function runner(deps: ImageDeps): Run {
  const exec = deps.exec ?? execWrapper;
  const env = Object.fromEntries(
    Object.entries(deps.env ?? {}).filter((e): e is [string, string] => e[1] !== undefined),
  );
  return (file, args, options = {}) =>
    exec
      .exec(file, args, { ...options, env: { ...env, ...options.env } })
      .catch((e: unknown) => ({ exitCode: 127, stdout: '', stderr: String(e), timedOut: false }));
}

async function inspect(run: Run, ref: string): Promise<InspectedImage | undefined> {
  const res = await run('docker', imageInspectArgs(ref), { timeoutMs: QUICK_MS });
  return res.exitCode === 0 ? parseImageInspect(res.stdout) : undefined;
}

/** git's one-line answer in `cwd`; null outside a repository or without git. */
async function gitOutput(run: Run, args: readonly string[], cwd: string): Promise<string | null> {
  if (!existsSync(cwd)) return null;
  const res = await run('git', args, { cwd, timeoutMs: QUICK_MS });
  return res.exitCode === 0 && res.stdout.trim() ? res.stdout.trim() : null;
}

function usage(deps: ImageDeps, path: string, rule: string): UsageError {
  return new UsageError([{ source: deps.configFile ?? 'chaos-gate.yml', path, rule }]);
}

function tail(text: string, lines: number): string[] {
  return text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter(Boolean)
    .slice(-lines);
}

function lastLine(res: ExecResult): string {
  return tail(res.stderr, 1)[0] ?? `exit ${res.exitCode}`;
}

function elapsed(started: number): number {
  return Math.max(1, Math.round(performance.now() - started));
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
