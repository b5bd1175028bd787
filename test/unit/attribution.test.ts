import { describe, expect, it } from 'vitest';
import { errorsByHop, summarize } from '../../src/analysis/metrics.ts';
import type { Observation } from '../../src/analysis/observation.ts';
import { attributionNote, dependencyNotes } from '../../src/gate/service.ts';
import { composeDependencyGraph, describeHops, hopOrder } from '../../src/predict/dependencies.ts';
import type { ServicePlan } from '../../src/target/service.ts';
import { hopName } from '../../src/traffic/workload.ts';

// Errors traced to the hop they came from (service.attribution), and the hops of a user's
// dependencies file (its depends_on) as the dependency graph.

const obs = (status: number, hop?: string, extra: Partial<Observation> = {}): Observation => ({
  at: 0,
  region: 'us-west',
  version: 'v',
  cohort: 'canary',
  route: 'GET /',
  status,
  latencyMs: 5,
  ...(hop ? { hop } : {}),
  ...extra,
});

describe('errors by hop', () => {
  it('counts errors by the hop named, most first; no answer and unnamed errors apart', () => {
    const window = [
      obs(200),
      obs(503, 'postgres'),
      obs(503, 'postgres'),
      obs(502, 'worker'),
      obs(0),
      obs(500),
      obs(200, undefined, { unexpected: true }),
    ];
    expect(errorsByHop(window)).toEqual([
      { hop: 'not named', errors: 2 },
      { hop: 'postgres', errors: 2 },
      { hop: 'no answer', errors: 1 },
      { hop: 'worker', errors: 1 },
    ]);
    expect(summarize(window).errorsByHop).toEqual(errorsByHop(window));
  });

  it("is absent when no error names a hop: the demo's windows are unchanged", () => {
    expect(errorsByHop([obs(500), obs(0), obs(200)])).toBeUndefined();
    expect(Object.keys(summarize([obs(500), obs(200)]))).not.toContain('errorsByHop');
  });

  it.each([
    [undefined, undefined],
    ['', undefined],
    ['  worker ', 'worker'],
    [['postgres', 'worker'], 'postgres'],
    ['db\u0007\u00e9', 'db??'],
    ['x'.repeat(100), 'x'.repeat(64)],
  ])('reads the header %j as %j', (value, expected) => {
    expect(hopName(value)).toBe(expected);
  });
});

const stage = (canary?: { hop: string; errors: number }[], baseline?: { hop: string; errors: number }[]) => ({
  canary: {
    count: 100,
    errors: 0,
    errorRate: 0,
    p50Ms: 1,
    p95Ms: 1,
    p99Ms: 1,
    ...(canary ? { errorsByHop: canary } : {}),
  },
  baseline: {
    count: 100,
    errors: 0,
    errorRate: 0,
    p50Ms: 1,
    p95Ms: 1,
    p99Ms: 1,
    ...(baseline ? { errorsByHop: baseline } : {}),
  },
});
const plan = (over: Partial<ServicePlan>) =>
  ({ dependencies: undefined, attribution: undefined, ...over }) as ServicePlan;

describe("the rollout's note on attribution", () => {
  it('sums the stages of each cohort', () => {
    const stages = [
      stage([{ hop: 'api', errors: 3 }]),
      stage(
        [
          { hop: 'api', errors: 5 },
          { hop: 'no answer', errors: 2 },
        ],
        [{ hop: 'postgres', errors: 1 }],
      ),
    ];
    expect(attributionNote(plan({ attribution: { header: 'x-failed-hop' } }), stages)).toBe(
      'errors by hop during the rollout (x-failed-hop): canary api 8 (80%), no answer 2 (20%); baseline postgres 1 (100%)',
    );
  });
  it('says none for a cohort without errors, and nothing without attribution', () => {
    expect(attributionNote(plan({ attribution: { header: 'h' } }), [stage()])).toBe(
      'errors by hop during the rollout (h): canary none; baseline none',
    );
    expect(attributionNote(plan({}), [stage([{ hop: 'api', errors: 1 }])])).toBeUndefined();
    expect(attributionNote(undefined, [])).toBeUndefined();
  });
});

const TWO_TIER = [
  { name: 'postgres', dependsOn: [] },
  { name: 'worker', dependsOn: ['postgres'] },
];

describe('the dependency graph of a Compose file', () => {
  it('orders the hops outward from what the regions call', () => {
    expect(hopOrder(TWO_TIER)).toEqual(['worker', 'postgres']);
    expect(describeHops(TWO_TIER)).toEqual(['service -> worker -> postgres']);
  });
  it('gives every region every service: they are started once per stack', () => {
    expect(composeDependencyGraph(['us-west', 'us-east'], TWO_TIER)).toEqual({
      'us-west': ['worker', 'postgres'],
      'us-east': ['worker', 'postgres'],
    });
  });
  it('gives each region its own copy of a per-region service', () => {
    const withCache = [...TWO_TIER, { name: 'cache', dependsOn: [], perRegion: true }];
    expect(composeDependencyGraph(['us-west', 'us-east'], withCache)).toEqual({
      'us-west': ['worker', 'cache-us-west', 'postgres'],
      'us-east': ['worker', 'cache-us-east', 'postgres'],
    });
    expect(dependencyNotes(plan({ dependencies: '/r/deps.yml' }), withCache)[0]).toContain('one per region: cache');
  });

  it('follows every path, shares, and survives a cycle', () => {
    const diamond = [
      { name: 'a', dependsOn: ['b', 'c'] },
      { name: 'b', dependsOn: ['d'] },
      { name: 'c', dependsOn: ['d'] },
      { name: 'd', dependsOn: [] },
      { name: 'cache', dependsOn: [] },
    ];
    expect(hopOrder(diamond)).toEqual(['a', 'cache', 'b', 'c', 'd']);
    expect(describeHops(diamond)).toEqual(['service -> a -> b -> d', 'service -> a -> c -> d', 'service -> cache']);
    const cycle = [
      { name: 'x', dependsOn: ['y'] },
      { name: 'y', dependsOn: ['x'] },
    ];
    expect(hopOrder(cycle)).toEqual(['x', 'y']);
    expect(describeHops(cycle)).toEqual([]);
  });
  it('notes the graph and whether errors name their hop', () => {
    expect(
      dependencyNotes(plan({ dependencies: '/r/deps.yml', attribution: { header: 'x-failed-hop' } }), TWO_TIER),
    ).toEqual([
      'dependency graph from deps.yml: service -> worker -> postgres (started once per stack: every region shares them)',
      'errors are attributed to the hop named in the x-failed-hop header of each failed answer',
    ]);
    expect(dependencyNotes(plan({ dependencies: '/r/deps.yml' }), TWO_TIER)[1]).toContain(
      'service.attribution not given',
    );
    expect(dependencyNotes(plan({}), [])).toEqual([]);
  });
});
