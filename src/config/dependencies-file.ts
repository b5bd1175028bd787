import { dirname, resolve } from 'node:path';
import { COMPOSE_SERVICE_NAME, PER_REGION_LABEL, type DependencyService } from '../target/service.ts';
import { isInside } from '../util/paths.ts';
import { quote } from '../util/shown.ts';
import { UsageError, type InputIssue } from '../util/errors.ts';
import { readInputFile } from './input-file.ts';
import { MAX_SHOWN_CHARS, MAX_SHOWN_PATH_CHARS } from '../util/limits.ts';
import { parseYaml } from './yaml.ts';

// service.dependencies names a Compose file of the user's. Its service names are started
// with the regions (`compose up ... <names>`), so each must be a plain Compose name, never
// something Compose would read as a flag. A service with `build:` is built by the gate like
// the candidate (cached, timed, air-gapped base images provided), so only the build fields
// the gate honours are taken; its paths, like service.build's, must stay in the repository.
// `depends_on` gives the hops between them (the dependency graph). A service labelled
// chaos-gate.per-region runs once per region instead of once per stack. Read with the same
// bounds as chaos-gate.yml.

export interface DependenciesFile {
  services: DependencyService[];
  issues: InputIssue[];
}

type Doc = Record<string, unknown>;
const isMap = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v);
const BUILD_FIELDS = ['context', 'dockerfile', 'args'];

/** The file's services, or the issues that keep it from being used. `roots`: the folders paths must stay in. */
export function readDependencies(file: string, roots: readonly string[]): DependenciesFile {
  let data: unknown;
  try {
    data = parseYaml(readInputFile(file), file).data;
  } catch (e) {
    if (e instanceof UsageError) return { services: [], issues: [...e.issues] };
    throw e;
  }
  const services = isMap(data) ? data.services : undefined;
  if (!isMap(services))
    return {
      services: [],
      issues: [{ source: file, path: 'services', rule: 'a Compose file of dependencies needs a services: mapping' }],
    };
  const issues: InputIssue[] = [];
  const issue = (path: string, rule: string) => void issues.push({ source: file, path, rule });
  const names = Object.keys(services);
  for (const name of names.filter((n) => !COMPOSE_SERVICE_NAME.test(n))) {
    issue(
      `services.${name}`,
      `${quote(name, MAX_SHOWN_CHARS)} is not a Compose service name (letters, digits, ".", "_", "-", ` +
        `starting with a letter or digit)`,
    );
  }
  const out = names
    .filter((n) => COMPOSE_SERVICE_NAME.test(n))
    .map((name): DependencyService => {
      const spec = services[name];
      const at = `services.${name}`;
      const perRegion = isMap(spec) && perRegionOf(spec.labels, `${at}.labels`, issue);
      if (perRegion)
        for (const key of PER_STACK_FIELDS.filter((k) => spec[k] !== undefined))
          issue(
            `${at}.${key}`,
            `cannot be given to a ${PER_REGION_LABEL} service: its four copies ${PER_STACK_WHY[key]}`,
          );
      return {
        name,
        build:
          isMap(spec) && spec.build !== undefined
            ? buildOf(spec.build, dirname(file), `${at}.build`, roots, issue)
            : undefined,
        dependsOn: isMap(spec) ? dependsOnOf(spec.depends_on, names, `${at}.depends_on`, issue) : [],
        perRegion,
        definition: perRegion && isMap(spec) ? spec : undefined,
        image: isMap(spec) && typeof spec.image === 'string' ? spec.image : undefined,
        ports: isMap(spec) ? declaredPorts(spec) : [],
      };
    });
  // A service started once cannot wait for one that exists four times.
  for (const d of out.filter((x) => !x.perRegion)) {
    const bad = d.dependsOn.filter((n) => out.some((x) => x.name === n && x.perRegion));
    if (bad.length > 0)
      issue(
        `services.${d.name}.depends_on`,
        `${bad.join(', ')} is ${PER_REGION_LABEL}: a service started once per stack cannot depend on it`,
      );
  }
  return { services: issues.length > 0 ? [] : out, issues };
}

/** What a per-region service cannot have, and why. */
const PER_STACK_FIELDS = ['ports', 'container_name', 'networks', 'network_mode'] as const;
const PER_STACK_WHY: Record<(typeof PER_STACK_FIELDS)[number], string> = {
  ports: 'would publish the same ports',
  container_name: 'would have the same name',
  networks: 'join the network of their region, set by the gate',
  network_mode: 'join the network of their region, set by the gate',
};

/** Whether Compose labels (mapping or list of key=value) ask for one copy per region. */
function perRegionOf(labels: unknown, at: string, issue: Issue): boolean {
  const value = Array.isArray(labels)
    ? labels
        .map(String)
        .find((l) => l.startsWith(`${PER_REGION_LABEL}=`))
        ?.slice(PER_REGION_LABEL.length + 1)
    : isMap(labels)
      ? labels[PER_REGION_LABEL]
      : undefined;
  if (value === undefined) return false;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  issue(at, `${PER_REGION_LABEL} must be "true" or "false"`);
  return false;
}

type Issue = (path: string, rule: string) => void;

/**
 * The TCP ports a service says it listens on: `expose` and the container side of `ports`, in
 * Compose's short and long spellings. What cannot be read here is left to Compose to refuse.
 */
export function declaredPorts(spec: Readonly<Doc>): number[] {
  const out = new Set<number>();
  const add = (text: string) => {
    const [port, protocol] = text.split('/');
    const n = Number(port);
    if ((protocol === undefined || protocol === 'tcp') && Number.isInteger(n) && n > 0 && n < 65536) out.add(n);
  };
  for (const e of Array.isArray(spec.expose) ? spec.expose : [])
    if (typeof e === 'string' || typeof e === 'number') add(String(e));
  for (const p of Array.isArray(spec.ports) ? spec.ports : []) {
    if (isMap(p)) {
      if (p.protocol === undefined || p.protocol === 'tcp') add(String(p.target));
    } else if (typeof p === 'string' || typeof p === 'number') add(String(p).split(':').at(-1) ?? '');
  }
  return [...out].sort((a, b) => a - b);
}

function buildOf(
  build: unknown,
  dir: string,
  at: string,
  roots: readonly string[],
  issue: Issue,
): DependencyService['build'] {
  const spec: Doc = typeof build === 'string' ? { context: build } : isMap(build) ? build : {};
  if (typeof build !== 'string' && !isMap(build))
    issue(at, 'must be a folder (the build context) or a mapping with context, dockerfile and args');
  for (const key of Object.keys(spec).filter((k) => !BUILD_FIELDS.includes(k))) {
    issue(
      `${at}.${key}`,
      `is not honoured: chaos-gate builds your dependencies itself, from ${BUILD_FIELDS.join(', ')} only`,
    );
  }
  const text = (key: string, fallback: string): string => {
    const v = spec[key] ?? fallback;
    if (typeof v === 'string' && v !== '' && !v.includes('\0')) return v;
    issue(`${at}.${key}`, 'must be a path (text, not empty)');
    return fallback;
  };
  const context = resolve(dir, text('context', '.'));
  const dockerfile = resolve(context, text('dockerfile', 'Dockerfile'));
  // A context outside is said once, not again for the Dockerfile in it.
  const outside = [
    ['context', context],
    ['dockerfile', dockerfile],
  ].find(([, path]) => !roots.some((root) => isInside(root, path ?? '')));
  if (outside)
    issue(
      `${at}.${outside[0]}`,
      `resolves to ${quote(outside[1] ?? '', MAX_SHOWN_PATH_CHARS)}, ` +
        `outside the working directory and the configuration file's folder`,
    );
  return { context, dockerfile, args: argsOf(spec.args, `${at}.args`, issue) };
}

/** Compose's two spellings: a mapping, or a list of NAME=value. */
function argsOf(args: unknown, at: string, issue: Issue): Record<string, string> {
  if (args === undefined || args === null) return {};
  const entries = Array.isArray(args)
    ? args.map((a): [string, unknown] =>
        typeof a === 'string' && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : ['', a],
      )
    : isMap(args)
      ? Object.entries(args)
      : undefined;
  if (!entries) {
    issue(at, 'must be a mapping of NAME: value or a list of NAME=value');
    return {};
  }
  const out: Record<string, string> = {};
  for (const [name, value] of entries) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || !['string', 'number', 'boolean'].includes(typeof value)) {
      issue(
        at,
        `${quote(String(name || value), MAX_SHOWN_CHARS)} must be NAME: value, the name of letters, digits and "_", ` +
          `the value text or a number`,
      );
    } else out[name] = String(value);
  }
  return out;
}

/** Compose's two spellings: a list of names, or a mapping of name -> condition. */
function dependsOnOf(value: unknown, names: readonly string[], at: string, issue: Issue): string[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : isMap(value) ? Object.keys(value) : undefined;
  if (!list) {
    issue(at, 'must be a list of service names or a mapping of them');
    return [];
  }
  const out: string[] = [];
  for (const d of list) {
    if (typeof d === 'string' && names.includes(d)) out.push(d);
    else issue(at, `${quote(String(d), MAX_SHOWN_CHARS)} is not a service of this file (${names.join(', ')})`);
  }
  return out;
}

/** Issues of the file alone, for config validation. */
export function dependenciesFileIssues(file: string, roots: readonly string[]): InputIssue[] {
  return readDependencies(file, roots).issues;
}
