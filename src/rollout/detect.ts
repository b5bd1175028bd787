import type { Judgement } from '../analysis/judge.ts';

// Time to detect, one definition for the live rollout (waves.ts) and the simulation: from
// the first breach of a limit to the verdict that aborted the stage. Pure.
//
// - red: since the judgement's evidenceSince, the first canary request that counts against
//   the breached limit (judge.ts), so a p99 breach without a single error counts too. For a
//   red that Prometheus alone saw, combine.ts sets it to the window's first failed canary
//   request, else its first request.
// - red with no evidence at all (a Prometheus red over a window in which the traffic recorded
//   no canary request): since the start of the analysis window the breach was seen in. No
//   request pins the breach down, and the window's start is the earliest moment the judged
//   data speak for: an upper bound, rather than null or a made-up zero.
// - yellow to the end of the pause budget (or the stage deadline): since the stage first
//   paused, the first analysis that saw the deviation.
// - anything else (inconclusive at the deadline, a failed verification): null; no limit was
//   seen breached.

export interface DetectionInput {
  /** The judgement that aborted the stage. */
  judgement: Pick<Judgement, 'verdict' | 'evidenceSince'>;
  /** When the stage first paused (its first yellow), null when it never did. */
  firstPauseAt: number | null;
  /** Start of the analysis window the judgement was made on. */
  windowStart: number;
  /** The abort. */
  now: number;
}

export function timeToDetect(input: DetectionInput): number | null {
  const { judgement, firstPauseAt, windowStart, now } = input;
  if (judgement.verdict === 'red') return now - (judgement.evidenceSince ?? windowStart);
  if (judgement.verdict === 'yellow' && firstPauseAt !== null) return now - firstPauseAt;
  return null;
}
