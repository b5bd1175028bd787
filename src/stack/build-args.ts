import { createHash } from 'node:crypto';

// Pure builders of the `docker` and `git` argument arrays that make the candidate and the
// baseline images, the names those images get, and a reading of a Dockerfile's FROM lines.
// Never a shell string: every value is its own argument.

export type ImageRole = 'candidate' | 'baseline';

export interface DockerBuild {
  dockerfile: string;
  tag: string;
  context: string;
  /** The build context's content hash; undefined: too large to hash. */
  contextHash: string | undefined;
  commit: string | null;
  args: Readonly<Record<string, string>>;
}

/** `docker build`: labels say what was built, the context comes last. */
export function dockerBuildArgs(build: DockerBuild): string[] {
  const args = ['build', '--force-rm', '-f', build.dockerfile, '-t', build.tag];
  args.push('--label', `chaos-gate.context=${build.contextHash ?? 'unhashed'}`);
  if (build.commit) args.push('--label', `chaos-gate.commit=${build.commit}`);
  for (const [key, value] of Object.entries(build.args)) args.push('--build-arg', `${key}=${value}`);
  return [...args, build.context];
}

/** Id and labels in one answer: the id, a tab, the labels as JSON. */
export function imageInspectArgs(ref: string): string[] {
  return ['image', 'inspect', '--format', '{{.Id}}\t{{json .Config.Labels}}', ref];
}

/** The ports an image declares (EXPOSE), as JSON. */
export function imagePortsArgs(ref: string): string[] {
  return ['image', 'inspect', '--format', '{{json .Config.ExposedPorts}}', ref];
}

/** TCP ports of `{"4000/tcp":{}}`; anything else gives none. */
export function parseExposedPorts(stdout: string): number[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout.trim() || 'null');
  } catch {
    return [];
  }
  if (typeof parsed !== 'object' || parsed === null) return [];
  return Object.keys(parsed)
    .filter((k) => /^\d+\/tcp$/.test(k))
    .map((k) => Number(k.split('/')[0]))
    .sort((a, b) => a - b);
}

export interface InspectedImage {
  id: string;
  labels: Record<string, string>;
}

export function parseImageInspect(stdout: string): InspectedImage | undefined {
  const line = stdout.trim().split('\n')[0] ?? '';
  const tab = line.indexOf('\t');
  const id = (tab < 0 ? line : line.slice(0, tab)).trim();
  if (!id.startsWith('sha256:')) return undefined;
  const raw = tab < 0 ? 'null' : line.slice(tab + 1);
  let labels: Record<string, string> = {};
  try {
    labels = (JSON.parse(raw) as Record<string, string> | null) ?? {};
  } catch {
    // Labels are a convenience (the commit of an image given by name); the id is what counts.
  }
  return { id, labels };
}

/** The commit an image says it was built from: ours, else the OCI label. */
export function commitLabel(labels: Readonly<Record<string, string>>): string | null {
  return labels['chaos-gate.commit'] || labels['org.opencontainers.image.revision'] || null;
}

export function dockerTagArgs(source: string, target: string): string[] {
  return ['tag', source, target];
}

export function dockerPullArgs(ref: string): string[] {
  return ['pull', ref];
}

export function gitHeadArgs(): string[] {
  return ['rev-parse', 'HEAD'];
}

export function gitTopLevelArgs(): string[] {
  return ['rev-parse', '--show-toplevel'];
}

/** `^{commit}` peels a tag to its commit; --quiet: a missing ref is exit 1 and no text. */
export function gitVerifyArgs(ref: string): string[] {
  return ['rev-parse', '--verify', '--quiet', `${checkedRef(ref)}^{commit}`];
}

/** Given the verified commit id, never the ref itself: nothing left to interpret. */
export function gitWorktreeAddArgs(dir: string, commit: string): string[] {
  return ['worktree', 'add', '--detach', dir, checkedRef(commit)];
}

export function gitWorktreeRemoveArgs(dir: string): string[] {
  return ['worktree', 'remove', '--force', dir];
}

export function gitWorktreePruneArgs(): string[] {
  return ['worktree', 'prune'];
}

/** Why `ref` cannot be a git revision; undefined: it may be one. */
export function refProblem(ref: string): string | undefined {
  if (!ref.trim()) return 'is empty';
  // A leading dash would be read by git as an option.
  if (ref.startsWith('-')) return 'starts with "-"';
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(ref)) return 'holds white space or a control character';
  return undefined;
}

function checkedRef(ref: string): string {
  const problem = refProblem(ref);
  if (problem) throw new RangeError(`not a git revision: ${JSON.stringify(ref)} ${problem}`);
  return ref;
}

/**
 * What an image is named after: a hash of everything that decides its content (the
 * context's files, the Dockerfile's path in it and its bytes, the build args). The
 * Dockerfile's path is relative, so the same tree checked out elsewhere gets the same key.
 */
export function buildKey(parts: {
  contextHash: string;
  dockerfilePath: string;
  dockerfileText: string;
  args: Readonly<Record<string, string>>;
}): string {
  const args = Object.entries(parts.args).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const dockerfile = createHash('sha256').update(parts.dockerfileText).digest('hex');
  return createHash('sha256')
    .update(JSON.stringify([parts.contextHash, parts.dockerfilePath, dockerfile, args]))
    .digest('hex');
}

/** A valid repository path component (lowercase letters, digits, single separators) from any name. */
export function repositoryComponent(name: string): string {
  const cleaned = name
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/[._-]{2,}/g, '-')
    .slice(0, 64)
    .replace(/^[._-]+|[._-]+$/g, '');
  return cleaned || 'service';
}

/** `chaos-gate/<name>:<commit12>-<key12>`; `nogit` without a commit, `unhashed` without a key. */
export function imageTag(name: string, commit: string | null, key: string | undefined): string {
  const part = (s: string | null | undefined, none: string) =>
    s ? s.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 12) : none;
  return `chaos-gate/${repositoryComponent(name)}:${part(commit, 'nogit')}-${part(key, 'unhashed')}`;
}

/** The name Docker lists an image by: no docker.io/library prefix, `:latest` when no tag or digest. */
export function normalizeImage(ref: string): string {
  const short = ref.replace(/^(?:docker\.io|index\.docker\.io|registry-1\.docker\.io)\/(?:library\/)?/, '');
  const lastPart = short.slice(short.lastIndexOf('/') + 1);
  return lastPart.includes(':') || lastPart.includes('@') ? short : `${short}:latest`;
}

/** The tag of an official Node image (`node:24-alpine` -> `24-alpine`); undefined for any other image. */
export function nodeImageTag(ref: string): string | undefined {
  return /^node:([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$/.exec(normalizeImage(ref))?.[1];
}

/** The Node tag the air-gapped stand-in (Node 24) may stand in for: node:24*, never another major. */
export function standInTag(ref: string): string | undefined {
  const tag = nodeImageTag(ref);
  return tag !== undefined && /^24(?:$|[.-])/.test(tag) ? tag : undefined;
}

export interface BaseImage {
  /** 1-based line of the FROM instruction. */
  line: number;
  /** As written, with variables resolved; what the build will look for. */
  image: string;
  /** A variable in it had no value: the build decides, not us. */
  unresolved: boolean;
}

/**
 * The images a Dockerfile's FROM lines name: not `scratch`, not an earlier stage. Variables
 * resolve from the ARGs before the first FROM (their defaults, or `args`), as Docker does;
 * `--platform=...` and other flags are skipped. The `# escape=` directive is not read.
 */
export function baseImages(dockerfile: string, args: Readonly<Record<string, string>>): BaseImage[] {
  const declared = new Map<string, string | undefined>();
  const stages = new Set<string>();
  const images: BaseImage[] = [];
  let seenFrom = false;
  for (const { line, text } of instructions(dockerfile)) {
    const [keyword = '', ...words] = text.split(/\s+/);
    const upper = keyword.toUpperCase();
    if (upper === 'ARG' && !seenFrom) for (const word of words) declareArg(declared, word, args);
    if (upper !== 'FROM') continue;
    seenFrom = true;
    const [raw = '', as, stage] = words.filter((w) => !w.startsWith('--'));
    const { value, unresolved } = substitute(raw, declared);
    const name = value.toLowerCase();
    const earlierStage = stages.has(name);
    if (as?.toUpperCase() === 'AS' && stage) stages.add(stage.toLowerCase());
    if (name === 'scratch' || earlierStage) continue;
    images.push({ line, image: value, unresolved: unresolved || !value });
  }
  return images;
}

/** Logical lines: continuations joined, comments and blanks dropped, with each one's first line. */
function instructions(dockerfile: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let pending: { line: number; text: string } | undefined;
  dockerfile.split(/\r?\n/).forEach((raw, i) => {
    const trimmed = raw.trim();
    if (!trimmed || trimmed.startsWith('#')) return;
    const continued = trimmed.endsWith('\\');
    const text = continued ? trimmed.slice(0, -1).trim() : trimmed;
    pending = pending ? { line: pending.line, text: `${pending.text} ${text}`.trim() } : { line: i + 1, text };
    if (!continued) {
      out.push(pending);
      pending = undefined;
    }
  });
  if (pending) out.push(pending);
  return out;
}

function declareArg(
  declared: Map<string, string | undefined>,
  word: string,
  args: Readonly<Record<string, string>>,
): void {
  const eq = word.indexOf('=');
  const name = eq < 0 ? word : word.slice(0, eq);
  const fallback = eq < 0 ? undefined : word.slice(eq + 1).replace(/^(["'])(.*)\1$/, '$2');
  declared.set(name, Object.hasOwn(args, name) ? args[name] : fallback);
}

/** `$X`, `${X}`, `${X:-word}` and `${X:+word}`, the forms Docker allows in FROM. */
function substitute(
  text: string,
  values: ReadonlyMap<string, string | undefined>,
): { value: string; unresolved: boolean } {
  let unresolved = false;
  const value = text.replace(
    /\$\{(\w+)(?::([-+])([^}]*))?\}|\$(\w+)/g,
    (_m, braced: string | undefined, op: string | undefined, word: string | undefined, bare: string | undefined) => {
      const current = values.get(braced ?? bare ?? '');
      if (op === '-') return current || (word ?? '');
      if (op === '+') return current ? (word ?? '') : '';
      if (current === undefined) unresolved = true;
      return current ?? '';
    },
  );
  return { value, unresolved };
}
