// The rollout state machine as a pure transition function. A rollout goes through its
// regions in order, one region per wave; in each region through the canary stages; after the
// last stage the region is PROMOTED (the candidate runs alone) and, once verified, the next
// region starts. A rolling rollout is the same machine with no canary stages: START and
// NEXT_REGION go straight to PROMOTED.
//
//   PENDING --START--> CANARY(r, s) --STAGE_PASSED--> CANARY(r, s+1) | PROMOTED(r)
//   CANARY --PAUSE--> PAUSED --RESUME--> CANARY
//   PROMOTED(r) --NEXT_REGION--> CANARY(r+1, 0) | PROMOTED(r+1) (rolling) | COMPLETED
//   CANARY | PAUSED | PROMOTED --ABORT--> ROLLING_BACK --ROLLBACK_VERIFIED--> ROLLED_BACK
//                                                     --ROLLBACK_FAILED----> FAILED
//   ROLLING_BACK --SCOPE_ROLLBACK--> ROLLING_BACK (only the failing region, then stop|continue)
//   ROLLING_BACK(region, continue) --ROLLBACK_VERIFIED--> CANARY(r+1, 0) | PROMOTED(r+1) (rolling)
//
// Granular rollback (rollout.rollback: region): an ABORT always starts by rolling back every
// touched region; SCOPE_ROLLBACK narrows that to the failing region once the controller has
// weighed the evidence (rollout/scope.ts). The regions rolled back alone are remembered
// (regionRollbacks), so a continued rollout that reaches its end is not COMPLETED but
// ROLLED_BACK with scope region: some regions run the candidate, at least one was put back,
// and that is not a clean completion. `kept` names the regions left on the candidate.
//
// States are frozen; every state carries the regions touched so far (a canary started there,
// or it was promoted) so that a rollback knows what to undo. A state names its regions by
// name (region, failedRegion, touched), never by index. Any other event throws
// IllegalTransitionError and, the input being immutable, changes nothing.

export interface Waves {
  readonly regions: readonly string[];
  /** Canary stages per region; 0 for a rolling rollout. */
  readonly stageCount: number;
}

export interface RegionRollback {
  readonly region: string;
  readonly reason: string;
}

interface Base {
  readonly waves: Waves;
  /** Regions on the candidate (or with a canary): what a rollback would undo. */
  readonly touched: readonly string[];
  /** Regions already rolled back alone (granular rollback, then continue), in order. */
  readonly regionRollbacks?: readonly RegionRollback[];
}

export type RollbackScope = 'all' | 'region';
export type AfterRollback = 'stop' | 'continue';

export type RolloutState =
  | (Base & { readonly kind: 'PENDING' })
  | (Base & { readonly kind: 'CANARY'; readonly region: string; readonly stage: number })
  | (Base & {
      readonly kind: 'PAUSED';
      readonly region: string;
      readonly stage: number;
      readonly pausedAt: number;
      readonly reason: string;
    })
  | (Base & { readonly kind: 'PROMOTED'; readonly region: string })
  | (Base & { readonly kind: 'COMPLETED' })
  | (Base & {
      readonly kind: 'ROLLING_BACK';
      readonly reason: string;
      readonly cause: AbortCause;
      readonly failedRegion: string;
      /** The regions being rolled back: every touched one, unless SCOPE_ROLLBACK narrowed it. */
      readonly rollBack: readonly string[];
      readonly then: AfterRollback;
    })
  | (Base & {
      readonly kind: 'ROLLED_BACK';
      readonly reason: string;
      readonly failedRegion: string;
      readonly scope: RollbackScope;
      /** Touched regions left on the candidate (none when scope is all). */
      readonly kept: readonly string[];
    })
  | (Base & {
      readonly kind: 'FAILED';
      readonly reason: string;
      readonly abortReason: string;
      readonly failedRegion: string;
    });

export type StateKind = RolloutState['kind'];

/**
 * Why a rollout aborted, set where the abort is raised: a red verdict, a spent pause budget, a
 * stage deadline, a failed verification, a resilience regression under a fault (differential
 * chaos), the infrastructure, a signal, or anything else. Granular rollback (scope.ts) trusts
 * only the first four to point at a region.
 */
export type AbortCause =
  'verdict' | 'pause-budget' | 'deadline' | 'verification' | 'resilience' | 'infrastructure' | 'interrupted' | 'other';

export type RolloutEvent =
  | { readonly type: 'START' }
  | { readonly type: 'STAGE_PASSED' }
  | { readonly type: 'PAUSE'; readonly reason: string; readonly at: number }
  | { readonly type: 'RESUME' }
  /** The promoted region is verified: go on with the next one. */
  | { readonly type: 'NEXT_REGION' }
  /** Red verdict, pause budget or stage deadline spent, a deploy or verification error. */
  | { readonly type: 'ABORT'; readonly reason: string; readonly cause: AbortCause }
  /** Roll back only `regions` (the failing one), then stop or continue with the untouched regions. */
  | { readonly type: 'SCOPE_ROLLBACK'; readonly regions: readonly string[]; readonly then: AfterRollback }
  | { readonly type: 'ROLLBACK_VERIFIED' }
  | { readonly type: 'ROLLBACK_FAILED'; readonly reason: string };

export type EventType = RolloutEvent['type'];

export const TERMINAL: readonly StateKind[] = ['COMPLETED', 'ROLLED_BACK', 'FAILED'];

export class IllegalTransitionError extends Error {
  readonly stateKind: StateKind;
  readonly eventType: EventType;
  constructor(stateKind: StateKind, eventType: EventType) {
    super(`event ${eventType} is not allowed in state ${stateKind}`);
    this.name = 'IllegalTransitionError';
    this.stateKind = stateKind;
    this.eventType = eventType;
  }
}

export function initialState(regions: readonly string[], stageCount: number): RolloutState {
  if (regions.length === 0) throw new RangeError('a rollout needs at least one region');
  if (!Number.isInteger(stageCount) || stageCount < 0)
    throw new RangeError(`stage count must be a whole number >= 0, got ${stageCount}`);
  const waves: Waves = Object.freeze({ regions: Object.freeze([...regions]), stageCount });
  return make({ kind: 'PENDING', waves, touched: [] });
}

export function isTerminal(state: RolloutState): boolean {
  return TERMINAL.includes(state.kind);
}

export function transition(state: RolloutState, event: RolloutEvent): RolloutState {
  const { waves } = state;
  // Spread into every new state, so the regions rolled back alone are never forgotten.
  const base = carry(state);
  const touched = state.touched;
  const illegal = () => new IllegalTransitionError(state.kind, event.type);
  switch (state.kind) {
    case 'PENDING':
      if (event.type === 'START') return enterRegion(state, 0);
      throw illegal();
    case 'CANARY':
      switch (event.type) {
        case 'STAGE_PASSED':
          return state.stage + 1 < waves.stageCount
            ? make({ ...base, kind: 'CANARY', region: state.region, stage: state.stage + 1 })
            : make({ ...base, kind: 'PROMOTED', region: state.region });
        case 'PAUSE':
          return make({
            ...base,
            kind: 'PAUSED',
            region: state.region,
            stage: state.stage,
            pausedAt: event.at,
            reason: event.reason,
          });
        case 'ABORT':
          return rollingBack(state, state.region, event.reason, event.cause);
        default:
          throw illegal();
      }
    case 'PAUSED':
      if (event.type === 'RESUME') return make({ ...base, kind: 'CANARY', region: state.region, stage: state.stage });
      if (event.type === 'ABORT') return rollingBack(state, state.region, event.reason, event.cause);
      throw illegal();
    case 'PROMOTED':
      if (event.type === 'NEXT_REGION') {
        const next = waves.regions.indexOf(state.region) + 1;
        if (next < waves.regions.length) return enterRegion(state, next);
        const first = state.regionRollbacks?.[0];
        return first
          ? make({
              ...base,
              kind: 'ROLLED_BACK',
              reason: first.reason,
              failedRegion: first.region,
              scope: 'region',
              kept: touched,
            })
          : make({ ...base, kind: 'COMPLETED' });
      }
      if (event.type === 'ABORT') return rollingBack(state, state.region, event.reason, event.cause);
      throw illegal();
    case 'ROLLING_BACK':
      if (event.type === 'SCOPE_ROLLBACK') return scoped(state, event);
      if (event.type === 'ROLLBACK_VERIFIED') return rolledBack(state);
      if (event.type === 'ROLLBACK_FAILED') {
        return make({
          ...base,
          kind: 'FAILED',
          reason: event.reason,
          abortReason: state.reason,
          failedRegion: state.failedRegion,
        });
      }
      throw illegal();
    case 'COMPLETED':
    case 'ROLLED_BACK':
    case 'FAILED':
      throw illegal();
  }
}

/** The region a state is about, if any. */
export function currentRegion(state: RolloutState): string | undefined {
  switch (state.kind) {
    case 'CANARY':
    case 'PAUSED':
    case 'PROMOTED':
      return state.region;
    case 'ROLLING_BACK':
    case 'ROLLED_BACK':
    case 'FAILED':
      return state.failedRegion;
    default:
      return undefined;
  }
}

function carry(state: RolloutState): Base {
  return {
    waves: state.waves,
    touched: state.touched,
    ...(state.regionRollbacks ? { regionRollbacks: state.regionRollbacks } : {}),
  };
}

/** Enters the region at `index` of the plan's order. */
function enterRegion(state: RolloutState, index: number): RolloutState {
  const { waves, touched } = state;
  const region = waves.regions[index] as string;
  const next = { ...carry(state), touched: touched.includes(region) ? touched : [...touched, region] };
  return waves.stageCount > 0
    ? make({ ...next, kind: 'CANARY', region, stage: 0 })
    : make({ ...next, kind: 'PROMOTED', region });
}

function rollingBack(state: RolloutState, region: string, reason: string, cause: AbortCause): RolloutState {
  return make({
    ...carry(state),
    kind: 'ROLLING_BACK',
    reason,
    cause,
    failedRegion: region,
    rollBack: state.touched,
    then: 'stop',
  });
}

type RollingBack = Extract<RolloutState, { kind: 'ROLLING_BACK' }>;

/** Narrowing only: the failing region must stay in, and nothing untouched can be added. */
function scoped(state: RollingBack, event: Extract<RolloutEvent, { type: 'SCOPE_ROLLBACK' }>): RolloutState {
  const regions = [...new Set(event.regions)];
  if (!regions.includes(state.failedRegion))
    throw new RangeError(`a scoped rollback must include the failing region ${state.failedRegion}`);
  const stranger = regions.find((r) => !state.touched.includes(r));
  if (stranger !== undefined)
    throw new RangeError(`${stranger} was not touched by the rollout: nothing to roll back there`);
  return make({ ...state, rollBack: regions, then: event.then });
}

function rolledBack(state: RollingBack): RolloutState {
  const base = carry(state);
  if (state.rollBack.length >= state.touched.length) {
    return make({
      ...base,
      kind: 'ROLLED_BACK',
      reason: state.reason,
      failedRegion: state.failedRegion,
      scope: 'all',
      kept: [],
    });
  }
  const kept = state.touched.filter((r) => !state.rollBack.includes(r));
  const regionRollbacks = [
    ...(state.regionRollbacks ?? []),
    ...state.rollBack.map((region) => ({ region, reason: state.reason })),
  ];
  const after = { ...base, touched: kept, regionRollbacks };
  const next = state.waves.regions.indexOf(state.failedRegion) + 1;
  if (state.then === 'continue' && next < state.waves.regions.length)
    return enterRegion(make({ ...after, kind: 'PENDING' }), next);
  const first = regionRollbacks[0] as RegionRollback;
  return make({
    ...after,
    kind: 'ROLLED_BACK',
    reason: first.reason,
    failedRegion: first.region,
    scope: 'region',
    kept,
  });
}

function make(state: RolloutState): RolloutState {
  Object.freeze(state.touched);
  if (state.regionRollbacks) Object.freeze(state.regionRollbacks);
  if (state.kind === 'ROLLING_BACK') Object.freeze(state.rollBack);
  if (state.kind === 'ROLLED_BACK') Object.freeze(state.kept);
  return Object.freeze(state);
}
