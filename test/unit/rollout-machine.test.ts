import { describe, expect, it, test } from 'vitest';
import {
  IllegalTransitionError,
  initialState,
  isTerminal,
  transition,
  type EventType,
  type RolloutEvent,
  type RolloutState,
} from '../../src/rollout/machine.ts';

// Two regions with two canary stages each: small enough to list every state the machine can
// be in, big enough to have a "last stage" and a "last region" distinct from the first.
const regions = ['us-west', 'us-east'];
const pending = initialState(regions, 2);
const waves = pending.waves;
const s = (state: Record<string, unknown>) => ({ waves, touched: ['us-west'], ...state }) as unknown as RolloutState;

const STATES: Record<string, RolloutState> = {
  PENDING: pending,
  'CANARY first stage': s({ kind: 'CANARY', region: 'us-west', stage: 0 }),
  'CANARY last stage': s({ kind: 'CANARY', region: 'us-west', stage: 1 }),
  PAUSED: s({ kind: 'PAUSED', region: 'us-west', stage: 1, pausedAt: 1000, reason: 'slow' }),
  'PROMOTED first region': s({ kind: 'PROMOTED', region: 'us-west' }),
  'PROMOTED last region': s({ kind: 'PROMOTED', region: 'us-east', touched: ['us-west', 'us-east'] }),
  COMPLETED: s({ kind: 'COMPLETED', touched: ['us-west', 'us-east'] }),
  ROLLING_BACK: s({
    kind: 'ROLLING_BACK',
    reason: 'red',
    failedRegion: 'us-west',
    rollBack: ['us-west'],
    then: 'stop',
  }),
  ROLLED_BACK: s({ kind: 'ROLLED_BACK', reason: 'red', failedRegion: 'us-west', scope: 'all', kept: [] }),
  FAILED: s({ kind: 'FAILED', reason: 'us-west unhealthy', abortReason: 'red', failedRegion: 'us-west' }),
};

const EVENTS: Record<EventType, RolloutEvent> = {
  START: { type: 'START' },
  STAGE_PASSED: { type: 'STAGE_PASSED' },
  PAUSE: { type: 'PAUSE', reason: 'error rate worse', at: 5000 },
  RESUME: { type: 'RESUME' },
  NEXT_REGION: { type: 'NEXT_REGION' },
  ABORT: { type: 'ABORT', reason: 'red verdict', cause: 'verdict' },
  ROLLBACK_VERIFIED: { type: 'ROLLBACK_VERIFIED' },
  ROLLBACK_FAILED: { type: 'ROLLBACK_FAILED', reason: 'us-west: /health failing' },
  SCOPE_ROLLBACK: { type: 'SCOPE_ROLLBACK', regions: ['us-west'], then: 'continue' },
};

// Every allowed transition and the state it leads to (fields other than waves).
const ALLOWED: [string, EventType, Record<string, unknown>][] = [
  ['PENDING', 'START', { kind: 'CANARY', region: 'us-west', stage: 0, touched: ['us-west'] }],
  ['CANARY first stage', 'STAGE_PASSED', { kind: 'CANARY', region: 'us-west', stage: 1, touched: ['us-west'] }],
  [
    'CANARY first stage',
    'PAUSE',
    { kind: 'PAUSED', region: 'us-west', stage: 0, pausedAt: 5000, reason: 'error rate worse', touched: ['us-west'] },
  ],
  [
    'CANARY first stage',
    'ABORT',
    {
      kind: 'ROLLING_BACK',
      reason: 'red verdict',
      cause: 'verdict',
      failedRegion: 'us-west',
      rollBack: ['us-west'],
      then: 'stop',
      touched: ['us-west'],
    },
  ],
  ['CANARY last stage', 'STAGE_PASSED', { kind: 'PROMOTED', region: 'us-west', touched: ['us-west'] }],
  [
    'CANARY last stage',
    'PAUSE',
    { kind: 'PAUSED', region: 'us-west', stage: 1, pausedAt: 5000, reason: 'error rate worse', touched: ['us-west'] },
  ],
  [
    'CANARY last stage',
    'ABORT',
    {
      kind: 'ROLLING_BACK',
      reason: 'red verdict',
      cause: 'verdict',
      failedRegion: 'us-west',
      rollBack: ['us-west'],
      then: 'stop',
      touched: ['us-west'],
    },
  ],
  ['PAUSED', 'RESUME', { kind: 'CANARY', region: 'us-west', stage: 1, touched: ['us-west'] }],
  [
    'PAUSED',
    'ABORT',
    {
      kind: 'ROLLING_BACK',
      reason: 'red verdict',
      cause: 'verdict',
      failedRegion: 'us-west',
      rollBack: ['us-west'],
      then: 'stop',
      touched: ['us-west'],
    },
  ],
  [
    'PROMOTED first region',
    'NEXT_REGION',
    { kind: 'CANARY', region: 'us-east', stage: 0, touched: ['us-west', 'us-east'] },
  ],
  [
    'PROMOTED first region',
    'ABORT',
    {
      kind: 'ROLLING_BACK',
      reason: 'red verdict',
      cause: 'verdict',
      failedRegion: 'us-west',
      rollBack: ['us-west'],
      then: 'stop',
      touched: ['us-west'],
    },
  ],
  ['PROMOTED last region', 'NEXT_REGION', { kind: 'COMPLETED', touched: ['us-west', 'us-east'] }],
  [
    'PROMOTED last region',
    'ABORT',
    {
      kind: 'ROLLING_BACK',
      reason: 'red verdict',
      cause: 'verdict',
      failedRegion: 'us-east',
      rollBack: ['us-west', 'us-east'],
      then: 'stop',
      touched: ['us-west', 'us-east'],
    },
  ],
  [
    'ROLLING_BACK',
    'ROLLBACK_VERIFIED',
    { kind: 'ROLLED_BACK', reason: 'red', failedRegion: 'us-west', scope: 'all', kept: [], touched: ['us-west'] },
  ],
  [
    'ROLLING_BACK',
    'SCOPE_ROLLBACK',
    {
      kind: 'ROLLING_BACK',
      reason: 'red',
      failedRegion: 'us-west',
      rollBack: ['us-west'],
      then: 'continue',
      touched: ['us-west'],
    },
  ],
  [
    'ROLLING_BACK',
    'ROLLBACK_FAILED',
    {
      kind: 'FAILED',
      reason: 'us-west: /health failing',
      abortReason: 'red',
      failedRegion: 'us-west',
      touched: ['us-west'],
    },
  ],
];

const allowed = new Set(ALLOWED.map(([state, event]) => `${state}|${event}`));
const FORBIDDEN = Object.keys(STATES).flatMap((state) =>
  (Object.keys(EVENTS) as EventType[])
    .filter((event) => !allowed.has(`${state}|${event}`))
    .map((event) => [state, event] as const),
);

describe('transition', () => {
  test.each(ALLOWED)('%s --%s--> %j', (stateName, eventType, expected) => {
    const next = transition(STATES[stateName]!, EVENTS[eventType]);
    expect({ ...next, waves: undefined }).toEqual({ ...expected, waves: undefined });
    expect(next.waves).toBe(waves);
    expect(Object.isFrozen(next)).toBe(true);
    expect(Object.isFrozen(next.touched)).toBe(true);
  });

  it('covers every state and event: 10 states x 9 events = allowed + forbidden', () => {
    expect(ALLOWED.length + FORBIDDEN.length).toBe(90);
    expect(FORBIDDEN.length).toBe(74);
  });

  test.each(FORBIDDEN)('%s refuses %s with IllegalTransitionError and changes nothing', (stateName, eventType) => {
    const state = STATES[stateName]!;
    const before = JSON.stringify(state);
    let error: unknown;
    try {
      transition(state, EVENTS[eventType]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(IllegalTransitionError);
    const e = error as IllegalTransitionError;
    expect(e.stateKind).toBe(state.kind);
    expect(e.eventType).toBe(eventType);
    expect(e.message).toBe(`event ${eventType} is not allowed in state ${state.kind}`);
    expect(JSON.stringify(state)).toBe(before);
  });
});

describe('a whole rollout', () => {
  const run = (start: RolloutState, events: RolloutEvent[]) => events.reduce(transition, start);

  it('goes through every stage of every region to COMPLETED, touching each region once', () => {
    const E = EVENTS;
    const end = run(pending, [
      E.START,
      E.STAGE_PASSED,
      E.PAUSE,
      E.RESUME,
      E.STAGE_PASSED,
      E.NEXT_REGION,
      E.STAGE_PASSED,
      E.STAGE_PASSED,
      E.NEXT_REGION,
    ]);
    expect(end.kind).toBe('COMPLETED');
    expect(end.touched).toEqual(['us-west', 'us-east']);
    expect(isTerminal(end)).toBe(true);
  });

  it('rolls back every touched region, the failing one included', () => {
    const end = run(pending, [
      EVENTS.START,
      EVENTS.STAGE_PASSED,
      EVENTS.STAGE_PASSED,
      EVENTS.NEXT_REGION,
      EVENTS.ABORT,
    ]);
    expect(end).toMatchObject({ kind: 'ROLLING_BACK', failedRegion: 'us-east', touched: ['us-west', 'us-east'] });
    expect(run(end, [EVENTS.ROLLBACK_VERIFIED])).toMatchObject({ kind: 'ROLLED_BACK', reason: 'red verdict' });
    expect(run(end, [EVENTS.ROLLBACK_FAILED])).toMatchObject({
      kind: 'FAILED',
      abortReason: 'red verdict',
      reason: 'us-west: /health failing',
    });
  });

  it('a rolling rollout (no canary stages) goes region by region through PROMOTED', () => {
    const rolling = initialState(['a', 'b', 'c'], 0);
    const first = transition(rolling, EVENTS.START);
    expect(first).toMatchObject({ kind: 'PROMOTED', region: 'a', touched: ['a'] });
    const second = transition(first, EVENTS.NEXT_REGION);
    expect(second).toMatchObject({ kind: 'PROMOTED', region: 'b', touched: ['a', 'b'] });
    expect(() => transition(second, EVENTS.STAGE_PASSED)).toThrow(IllegalTransitionError);
    expect(run(second, [EVENTS.NEXT_REGION, EVENTS.NEXT_REGION])).toMatchObject({
      kind: 'COMPLETED',
      touched: ['a', 'b', 'c'],
    });
  });

  it('states are immutable: the previous state is unchanged and cannot be modified', () => {
    const started = transition(pending, EVENTS.START);
    transition(started, EVENTS.STAGE_PASSED);
    expect(started).toMatchObject({ kind: 'CANARY', stage: 0 });
    expect(() => {
      (started as { kind: string }).kind = 'COMPLETED';
    }).toThrow(TypeError);
    expect(() => {
      (started.touched as string[]).push('x');
    }).toThrow(TypeError);
    expect(Object.isFrozen(pending.waves.regions)).toBe(true);
  });

  it('refuses a plan without regions or with a bad stage count', () => {
    expect(() => initialState([], 2)).toThrow(RangeError);
    expect(() => initialState(['a'], -1)).toThrow(RangeError);
    expect(() => initialState(['a'], 1.5)).toThrow(RangeError);
  });

  it('copies the regions it is given', () => {
    const list = ['a', 'b'];
    const state = initialState(list, 1);
    list.push('c');
    expect(state.waves.regions).toEqual(['a', 'b']);
  });
});

describe('granular rollback (rollback: region)', () => {
  const three = initialState(['a', 'b', 'c'], 1);
  const run = (start: RolloutState, events: RolloutEvent[]) => events.reduce(transition, start);
  const E = EVENTS;
  // a promoted, b aborted in its canary stage.
  const abortedInB = run(three, [E.START, E.STAGE_PASSED, E.NEXT_REGION, E.ABORT]);
  const onlyB = (then: 'stop' | 'continue'): RolloutEvent => ({ type: 'SCOPE_ROLLBACK', regions: ['b'], then });

  it('an abort rolls back every touched region until the scope is narrowed', () => {
    expect(abortedInB).toMatchObject({
      kind: 'ROLLING_BACK',
      failedRegion: 'b',
      rollBack: ['a', 'b'],
      then: 'stop',
    });
    expect(transition(abortedInB, onlyB('stop'))).toMatchObject({
      kind: 'ROLLING_BACK',
      rollBack: ['b'],
      touched: ['a', 'b'],
    });
  });

  it('stop: ROLLED_BACK with scope region, the healthy region kept on the candidate', () => {
    const end = run(abortedInB, [onlyB('stop'), E.ROLLBACK_VERIFIED]);
    expect(end).toMatchObject({
      kind: 'ROLLED_BACK',
      scope: 'region',
      failedRegion: 'b',
      reason: 'red verdict',
      kept: ['a'],
      touched: ['a'],
    });
    expect(end.regionRollbacks).toEqual([{ region: 'b', reason: 'red verdict' }]);
    expect(isTerminal(end)).toBe(true);
  });

  it('continue: goes on with the next untouched region, and its end is ROLLED_BACK (region), never COMPLETED', () => {
    const next = run(abortedInB, [onlyB('continue'), E.ROLLBACK_VERIFIED]);
    expect(next).toMatchObject({ kind: 'CANARY', region: 'c', stage: 0, touched: ['a', 'c'] });
    const end = run(next, [E.STAGE_PASSED, E.NEXT_REGION]);
    expect(end).toMatchObject({ kind: 'ROLLED_BACK', scope: 'region', failedRegion: 'b', kept: ['a', 'c'] });
  });

  it('continue: a later abort rolls back only what is still on the candidate, not the region already put back', () => {
    const next = run(abortedInB, [onlyB('continue'), E.ROLLBACK_VERIFIED, E.ABORT]);
    expect(next).toMatchObject({ kind: 'ROLLING_BACK', failedRegion: 'c', rollBack: ['a', 'c'] });
    const end = transition(next, E.ROLLBACK_VERIFIED);
    expect(end).toMatchObject({ kind: 'ROLLED_BACK', scope: 'all', failedRegion: 'c', kept: [] });
    expect(end.regionRollbacks).toEqual([{ region: 'b', reason: 'red verdict' }]);
  });

  it('continue after the last region stops there', () => {
    const inC = run(three, [E.START, E.STAGE_PASSED, E.NEXT_REGION, E.STAGE_PASSED, E.NEXT_REGION, E.ABORT]);
    const end = run(inC, [{ type: 'SCOPE_ROLLBACK', regions: ['c'], then: 'continue' }, E.ROLLBACK_VERIFIED]);
    expect(end).toMatchObject({ kind: 'ROLLED_BACK', scope: 'region', failedRegion: 'c', kept: ['a', 'b'] });
  });

  it('a failed scoped rollback is FAILED like any other', () => {
    expect(run(abortedInB, [onlyB('continue'), E.ROLLBACK_FAILED])).toMatchObject({
      kind: 'FAILED',
      failedRegion: 'b',
    });
  });

  it('refuses a scope without the failing region or with an untouched one, and changes nothing', () => {
    const before = JSON.stringify(abortedInB);
    expect(() => transition(abortedInB, { type: 'SCOPE_ROLLBACK', regions: ['a'], then: 'stop' })).toThrow(
      /must include the failing region b/,
    );
    expect(() => transition(abortedInB, { type: 'SCOPE_ROLLBACK', regions: ['b', 'c'], then: 'stop' })).toThrow(
      /c was not touched/,
    );
    expect(JSON.stringify(abortedInB)).toBe(before);
  });

  it('a rolling rollout continues straight to PROMOTED in the next region', () => {
    const rolling = initialState(['a', 'b', 'c'], 0);
    const aborted = run(rolling, [E.START, E.NEXT_REGION, E.ABORT]);
    expect(run(aborted, [onlyB('continue'), E.ROLLBACK_VERIFIED])).toMatchObject({
      kind: 'PROMOTED',
      region: 'c',
      touched: ['a', 'c'],
    });
  });
});
