import type { RolloutResult, StageRecord } from '../rollout/result.ts';

// What happened to each region's wave, read back from the rollout's timeline. The result
// only records transitions, so the region a NEXT_REGION or ABORT is about is the region of
// the state before it (a NEXT_REGION entry carries the NEXT region). Walking the timeline in
// order and remembering the current region and stage recovers it.

export type WaveStatus = 'PASSED' | 'FAILED' | 'NOT_REACHED';

export interface WaveOutcome {
  region: string;
  status: WaveStatus;
  /** Why it failed (the abort reason); null otherwise. */
  reason: string | null;
  /** Milliseconds since the rollout started; null when not reached. */
  startedAtMs: number | null;
  endedAtMs: number | null;
  /** When the region entered PROMOTED (candidate replaces the stable service). */
  promotedAtMs: number | null;
  /** Pauses (yellow verdicts) inside the wave. */
  pausesAtMs: number[];
}

export interface RolloutReading {
  waves: WaveOutcome[];
  /** The stage that was running when the rollout aborted, if the abort came from a stage. */
  abortedStage: { region: string; stage: number } | null;
  abortedAtMs: number | null;
  /** ROLLBACK_VERIFIED or ROLLBACK_FAILED. */
  rollbackEndedAtMs: number | null;
}

const IN_REGION = new Set(['CANARY', 'PAUSED', 'PROMOTED']);

export function readRollout(
  rollout: Pick<RolloutResult, 'regions' | 'timeline' | 'stages' | 'rollback'>,
): RolloutReading {
  const waves = new Map<string, WaveOutcome>();
  const order = rollout.regions.map((r) => r.region);
  for (const name of order) waves.set(name, blank(name));
  const wave = (name: string): WaveOutcome => {
    let w = waves.get(name);
    if (!w) {
      // A region the timeline names but the region list lacks: keep it rather than lose it.
      w = blank(name);
      waves.set(name, w);
    }
    return w;
  };

  let current: { region: string; stage: number | null } | null = null;
  let abortedStage: RolloutReading['abortedStage'] = null;
  let abortedAtMs: number | null = null;
  let rollbackEndedAtMs: number | null = null;
  for (const e of rollout.timeline) {
    if (e.event === 'NEXT_REGION' && current) {
      const w = wave(current.region);
      w.status = 'PASSED';
      w.endedAtMs = e.atMs;
    } else if (e.event === 'ABORT') {
      const name = e.region ?? current?.region ?? rollout.rollback.failedRegion;
      abortedAtMs = e.atMs;
      if (name) {
        const w = wave(name);
        w.status = 'FAILED';
        w.reason = e.detail ?? rollout.rollback.reason;
        w.endedAtMs = e.atMs;
        // From a stage, the stage failed; from PROMOTED, the promotion (or a rolling step) did.
        if ((e.from === 'CANARY' || e.from === 'PAUSED') && current?.stage != null)
          abortedStage = { region: name, stage: current.stage };
        else if (e.from === 'PROMOTED') abortedStage = rollingStageJudgedRed(rollout.stages, name);
      }
    } else if (e.event === 'ROLLBACK_VERIFIED' || e.event === 'ROLLBACK_FAILED') {
      rollbackEndedAtMs = e.atMs;
    } else if (e.event === 'PAUSE' && current) {
      wave(current.region).pausesAtMs.push(e.atMs);
    }
    if (IN_REGION.has(e.to) && e.region) {
      const w = wave(e.region);
      w.startedAtMs ??= e.atMs;
      if (e.to === 'PROMOTED' && e.from !== 'PROMOTED') w.promotedAtMs = e.atMs;
      current = { region: e.region, stage: e.stage ?? null };
    }
  }
  for (const w of waves.values()) {
    // Entered and never concluded: only a truncated timeline does this; it did not pass.
    if (w.status === 'NOT_REACHED' && w.startedAtMs !== null) {
      w.status = 'FAILED';
      w.reason = 'the wave did not finish';
    }
  }
  return { waves: [...waves.values()], abortedStage, abortedAtMs, rollbackEndedAtMs };
}

/** A rolling step judges the region after replacing it; a red or inconclusive judgement aborted it. */
function rollingStageJudgedRed(
  stages: readonly StageRecord[],
  region: string,
): { region: string; stage: number } | null {
  const last = stages.filter((s) => s.region === region).at(-1);
  return last && (last.verdict === 'red' || last.verdict === 'inconclusive') ? { region, stage: last.stage } : null;
}

function blank(region: string): WaveOutcome {
  return {
    region,
    status: 'NOT_REACHED',
    reason: null,
    startedAtMs: null,
    endedAtMs: null,
    promotedAtMs: null,
    pausesAtMs: [],
  };
}
