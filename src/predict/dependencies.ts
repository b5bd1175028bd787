// The stack's dependency model: which regions depend on what (their database, by default
// each its own). The prediction uses it for correlated failure: a fault in a dependency is
// one fault in every region that uses it, so a region that shares a database with the target
// of a failed database experiment is as exposed as the target itself. Pure.

/** region -> the dependencies it uses (names as configured), in rollout order. */
export type DependencyGraph = Readonly<Record<string, readonly string[]>>;

/** Fault kinds that take a region's dependencies down rather than the region itself. */
export const DEPENDENCY_FAULTS: readonly string[] = Object.freeze(['db_unavailable', 'dependency']);

/** The default: a region depends on its own database, "db-<region>" (one data volume each in docker-compose.yml). */
export function ownDatabase(region: string): string {
  return `db-${region}`;
}

/**
 * Every region of `regions` with its configured dependencies, or its own database when it has
 * none configured. Configured regions outside `regions` (config validation refuses them; a
 * direct caller may pass them) follow, so an experiment aimed at one still finds its entry.
 */
export function dependencyGraph(regions: readonly string[], configured: DependencyGraph = {}): DependencyGraph {
  const graph: Record<string, readonly string[]> = {};
  for (const r of regions) graph[r] = [...(configured[r] ?? [ownDatabase(r)])];
  for (const [r, deps] of Object.entries(configured)) if (!(r in graph)) graph[r] = [...deps];
  return graph;
}

/** The graph's shared dependencies: each one used by more than one region, with those regions. */
export function sharedDependencies(graph: DependencyGraph): { dependency: string; regions: string[] }[] {
  const users = new Map<string, string[]>();
  for (const [region, deps] of Object.entries(graph)) {
    for (const d of deps) users.set(d, [...(users.get(d) ?? []), region]);
  }
  return [...users].filter(([, rs]) => rs.length > 1).map(([dependency, regions]) => ({ dependency, regions }));
}

/** A region reached through a dependency it shares with a failed target. */
export interface CorrelatedRegion {
  region: string;
  /** The shared dependencies, and the target(s) they connect it to. */
  via: string[];
  targets: string[];
}

/**
 * Regions outside `targets` that share at least one dependency with a target: the regions the
 * same dependency fault reaches at once. A target missing from the graph has its own database.
 */
export function correlatedRegions(graph: DependencyGraph, targets: readonly string[]): CorrelatedRegion[] {
  const out: CorrelatedRegion[] = [];
  for (const [region, deps] of Object.entries(graph)) {
    if (targets.includes(region)) continue;
    const via = new Set<string>();
    const from = new Set<string>();
    for (const t of targets) {
      for (const d of graph[t] ?? [ownDatabase(t)]) {
        if (deps.includes(d)) {
          via.add(d);
          from.add(t);
        }
      }
    }
    if (via.size > 0) out.push({ region, via: [...via], targets: [...from] });
  }
  return out;
}

/** "us-west -> db-us-west; us-east -> db-main; ap-south -> (none)". */
export function describeGraph(graph: DependencyGraph): string {
  return Object.entries(graph)
    .map(([r, deps]) => `${r} -> ${deps.length > 0 ? deps.join(', ') : '(none)'}`)
    .join('; ');
}

/** A service of a Compose file of dependencies and the services it calls (its depends_on). */
export interface ComposeDependency {
  name: string;
  dependsOn: readonly string[];
  /** One copy per region, `<name>-<region>`: each region's own, shared with no other. */
  perRegion?: boolean;
}

/**
 * The graph from a Compose file of dependencies, for when predict.dependencies says nothing:
 * every region uses every service the file starts, the ones it calls first and what they call
 * after them; one started once per stack is shared by all, a per-region one is each region's own.
 */
export function composeDependencyGraph(
  regions: readonly string[],
  services: readonly ComposeDependency[],
): DependencyGraph {
  const order = hopOrder(services);
  const own = new Set(services.filter((s) => s.perRegion).map((s) => s.name));
  return Object.fromEntries(regions.map((r) => [r, order.map((name) => (own.has(name) ? `${name}-${r}` : name))]));
}

/** Breadth-first from the services nobody in the file calls (what the regions call): the hops outward. */
export function hopOrder(services: readonly ComposeDependency[]): string[] {
  const called = new Set(services.flatMap((s) => s.dependsOn));
  const byName = new Map(services.map((s) => [s.name, s]));
  const out: string[] = [];
  const queue = services.filter((s) => !called.has(s.name)).map((s) => s.name);
  // A cycle leaves no entry point: start from the file's order.
  if (queue.length === 0) queue.push(...services.map((s) => s.name));
  while (queue.length > 0) {
    const name = queue.shift() as string;
    if (out.includes(name)) continue;
    out.push(name);
    queue.push(...(byName.get(name)?.dependsOn ?? []));
  }
  return [...out, ...services.map((s) => s.name).filter((n) => !out.includes(n))];
}

/** "service -> worker -> postgres", one line per path from the service to a service that calls nothing. */
export function describeHops(services: readonly ComposeDependency[], first = 'service'): string[] {
  const byName = new Map(services.map((s) => [s.name, s]));
  const called = new Set(services.flatMap((s) => s.dependsOn));
  const paths: string[] = [];
  const walk = (name: string, path: readonly string[]): void => {
    if (paths.length >= 20) return;
    const next = (byName.get(name)?.dependsOn ?? []).filter((d) => !path.includes(d));
    if (next.length === 0) paths.push([...path, name].join(' -> '));
    for (const d of next) walk(d, [...path, name]);
  };
  for (const root of services.filter((s) => !called.has(s.name))) walk(root.name, [first]);
  return paths;
}
