import { describe, expect, it } from 'vitest';
import { defaultRolloutPlan, toRolloutPlan } from '../../src/config/rollout.ts';
import { toSimulationScenario } from '../../src/config/simulation.ts';
import { simulate } from '../../src/simulate/index.ts';

const plan = defaultRolloutPlan();
const identical = toSimulationScenario(undefined, 'test');
const bad = toSimulationScenario({ canary: { error_rate: 0.2 } }, 'test');

describe('simulate: determinism', () => {
  it('same seed, plan and scenario: byte-identical JSON', () => {
    for (const scenario of [identical, bad]) {
      expect(JSON.stringify(simulate(plan, scenario, 42))).toBe(JSON.stringify(simulate(plan, scenario, 42)));
    }
  });

  it('different seeds give different runs', () => {
    const a = JSON.stringify(simulate(plan, identical, 1));
    const b = JSON.stringify(simulate(plan, identical, 2));
    expect(a).not.toBe(b);
  });

  it('does not read the clock or Math.random', () => {
    const random = Math.random;
    const now = Date.now;
    Math.random = () => {
      throw new Error('Math.random used');
    };
    Date.now = () => {
      throw new Error('Date.now used');
    };
    try {
      expect(simulate(plan, bad, 7).final_state).toBe('ROLLED_BACK');
    } finally {
      Math.random = random;
      Date.now = now;
    }
  });
});

describe('simulate: one run', () => {
  it('a healthy candidate goes through every stage of every region', () => {
    const r = simulate(plan, identical, 3);
    expect(r).toMatchObject({
      final_state: 'COMPLETED',
      stages_completed: 20,
      rollback_triggered: false,
      rollback_reason: null,
      failed_region: null,
      time_to_detect_ms: null,
      time_to_rollback_ms: null,
      unverified_regions: [],
      final_versions: { 'us-west': 'v2', 'us-east': 'v2', 'eu-west': 'v2', 'ap-south': 'v2' },
    });
    expect(r.stages).toHaveLength(20);
    expect(r.stages.map((s) => s.weight).slice(0, 5)).toEqual([1, 5, 25, 50, 100]);
    expect(r.stages.every((s) => s.outcome === 'passed' && s.verdict === 'green')).toBe(true);
    expect(r.timeline[0]).toMatchObject({
      at_ms: 0,
      event: 'START',
      from: 'PENDING',
      to: 'CANARY',
      region: 'us-west',
      stage: 0,
    });
    expect(r.timeline.at(-1)).toMatchObject({ event: 'NEXT_REGION', to: 'COMPLETED' });
    expect(r.requests_used).toBeGreaterThan(r.canary_requests);
    // Times only go forward.
    const times = r.timeline.map((t) => t.at_ms);
    expect([...times].sort((x, y) => x - y)).toEqual(times);
  });

  it('a clearly bad candidate is rolled back in the first region with red evidence', () => {
    const r = simulate(plan, bad, 3);
    expect(r).toMatchObject({
      final_state: 'ROLLED_BACK',
      rollback_triggered: true,
      failed_region: 'us-west',
      stages_completed: 0,
    });
    expect(r.rollback_reason).toMatch(/^red verdict: error rate .* is above the limit 5%/);
    expect(r.final_versions).toEqual({ 'us-west': 'v1', 'us-east': 'v1', 'eu-west': 'v1', 'ap-south': 'v1' });
    expect(r.time_to_detect_ms).toBeGreaterThan(0);
    expect(r.time_to_rollback_ms).toBeGreaterThan(0);
    const stage = r.stages[0]!;
    expect(stage).toMatchObject({ region: 'us-west', stage: 0, weight: 1, outcome: 'aborted', verdict: 'red' });
    expect(stage.canary.count).toBeGreaterThan(0);
    expect(stage.tests.error_limit_p).toBeLessThan(0.005);
    expect(r.timeline.map((t) => t.event)).toEqual(['START', 'ABORT', 'ROLLBACK_VERIFIED']);
  });

  it('a stricter limit on the 100% stage catches what the earlier stages let through', () => {
    // The 100% stage has no baseline to compare with; its own p99 limit of 60 ms is below the
    // scenario's p99 of 80 ms, so it is red there, after the 50% stage passed.
    const strict = toRolloutPlan(
      { stages: [{ weight: 50 }, { weight: 100, max_p99_ms: 60 }], regions: ['a', 'b'] },
      'test',
    );
    const r = simulate(strict, identical, 5);
    expect(r).toMatchObject({ final_state: 'ROLLED_BACK', failed_region: 'a', stages_completed: 1 });
    expect(r.rollback_reason).toMatch(/^red verdict: p99 .* slower than 60 ms/);
  });

  it('rolls back every touched region when the failure shows in a later region', () => {
    // A canary at 4% errors (limit 5%, baseline 1%) fails somewhere along the way; take the
    // first seed where a region was promoted before it failed.
    const borderline = toSimulationScenario({ canary: { error_rate: 0.04 } }, 'test');
    const r = Array.from({ length: 100 }, (_, i) => simulate(plan, borderline, i + 1)).find(
      (run) => run.final_state === 'ROLLED_BACK' && run.failed_region !== 'us-west',
    );
    expect(r).toBeDefined();
    const events = r!.timeline.map((t) => t.event);
    expect(events).toContain('NEXT_REGION');
    expect(events.slice(-2)).toEqual(['ABORT', 'ROLLBACK_VERIFIED']);
    expect(Object.values(r!.final_versions)).toEqual(['v1', 'v1', 'v1', 'v1']);
  });

  it('max_error_rate 0: a single canary error rolls back', () => {
    const zero = toRolloutPlan({ limits: { max_error_rate: 0 } }, 'test');
    const r = simulate(zero, identical, 11);
    expect(r.final_state).toBe('ROLLED_BACK');
    expect(r.rollback_reason).toContain('the limit is 0, so any error is red');
  });

  it('a rollback that cannot be verified ends FAILED and names the region', () => {
    // The stable version never passes /health: the rollback cannot be verified.
    const broken = toSimulationScenario({ baseline: { error_rate: 1 }, canary: { error_rate: 0.9 } }, 'test');
    const r = simulate(plan, broken, 1);
    expect(r.final_state).toBe('FAILED');
    expect(r.rollback_triggered).toBe(true);
    expect(r.unverified_regions).toEqual(['us-west']);
    expect(r.timeline.at(-1)).toMatchObject({
      event: 'ROLLBACK_FAILED',
      reason: 'us-west: /health did not pass 3 times in a row within 30 s after rolling back to v1',
    });
  });

  it('a rolling rollout replaces region after region and verifies health', () => {
    const rolling = toRolloutPlan({ strategy: 'rolling' }, 'test');
    const r = simulate(rolling, identical, 1);
    expect(r.final_state).toBe('COMPLETED');
    expect(r.stages).toEqual([]);
    expect(r.timeline.map((t) => t.to)).toEqual(['PROMOTED', 'PROMOTED', 'PROMOTED', 'PROMOTED', 'COMPLETED']);
    expect(r.requests_used).toBe(0);
    expect(r.health_probes).toBeGreaterThanOrEqual(12);
  });

  it('uses the scenario request rate when given', () => {
    const faster = simulate(plan, { ...identical, requestsPerSecond: 200 }, 3);
    expect(faster.requests_used).toBeGreaterThan(simulate(plan, identical, 3).requests_used * 2);
  });
});

// Quality over many seeds, default plan. Measured (seeds 1..1000): identical versions
// completed 999/1000 (99.9%; seed 229 paused on a chance error-rate difference in eu-west and
// spent its budget); a canary with 20% errors against a 1% baseline rolled back 1000/1000,
// always red in the first region. On the 200 seeds below: 200/200 and 200/200. The
// thresholds (>= 99% rolled back, >= 95% completed) leave room for changes in the generator.
describe('simulate: quality over 200 seeds', () => {
  const seeds = Array.from({ length: 200 }, (_, i) => i + 1);

  it('rolls back a canary with 20% errors (baseline 1%) in >= 99% of seeds', () => {
    const rolledBack = seeds.filter((seed) => simulate(plan, bad, seed).final_state === 'ROLLED_BACK').length;
    expect(rolledBack / seeds.length).toBeGreaterThanOrEqual(0.99);
  });

  it('completes identical versions in >= 95% of seeds', () => {
    const completed = seeds.filter((seed) => simulate(plan, identical, seed).final_state === 'COMPLETED').length;
    expect(completed / seeds.length).toBeGreaterThanOrEqual(0.95);
  });
});
