// The stack's dependency model: which regions depend on what (their database, by default
// each its own). The prediction uses it for correlated failure: a fault in a dependency is
// one fault in every region that uses it, so a region that shares a database with the target
// of a failed database experiment is as exposed as the target itself. Pure.

/** region -> the dependencies it uses (names as configured), in rollout order. */
export type DependencyGraph = Readonly<Record<string, readonly string[]>>;

/** Fault kinds that take a region's dependencies down rather than the region itself. */
export const DEPENDENCY_FAULTS: readonly string[] = Object.freeze(['db_unavailable']);

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
  return Object.entries(graph).map(([r, deps]) => `${r} -> ${deps.length > 0 ? deps.join(', ') : '(none)'}`).join('; ');
}
