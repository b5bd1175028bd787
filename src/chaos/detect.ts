import { judge, type JudgeOptions, type StageLimits } from '../analysis/judge.ts';
import type { Observation } from '../analysis/observation.ts';
import { answeredAt, servingAgain } from '../analysis/recovery.ts';
import type { HealthProbe, Recording, UpSample } from './recording.ts';

// When the fault was noticed, and when the target was back: pure readings of a Recording.
// "Noticed" is when the evidence was in hand: a probe's answer (or its time-out), not its
// sending; a judgement only sees requests that had been answered by then.

function probesOf(rec: Pick<Recording, 'probes'>, region: string): HealthProbe[] {
  return rec.probes.filter((p) => p.region === region).sort((a, b) => a.at - b.at);
}

type RecoveryFacts = Pick<
  Recording,
  'kind' | 'observations' | 'probes' | 'crashed' | 'injectAt' | 'revertAt' | 'recoveryDeadline'
>;

/** When `region`'s requests sent after `from` succeeded again (analysis/recovery.ts). */
export function servingAgainAt(
  observations: readonly Observation[],
  region: string,
  from: number,
  deadline: number,
): number | null {
  return servingAgain(
    observations.filter((o) => o.region === region),
    from,
    deadline,
  );
}

/**
 * When `region` answered /health again (after a dependency's outage: served its traffic again).
 * After a crash the outage begins at the first failed probe after the kill, and recovery is the
 * first success after that (a probe that slipped in before the process died does not count);
 * otherwise the first success sent once the fault was lifted.
 */
export function recoveredAt(rec: RecoveryFacts, region: string): number | null {
  if (rec.kind === 'dependency') return servingAgainAt(rec.observations, region, rec.revertAt, rec.recoveryDeadline);
  const probes = probesOf(rec, region).filter((p) => answeredAt(p) <= rec.recoveryDeadline);
  const from = rec.crashed ? rec.injectAt : rec.revertAt;
  let after = from;
  if (rec.crashed) {
    const down = probes.find((p) => p.at >= from && !p.ok);
    if (down) after = down.at;
  }
  const up = probes.find((p) => p.at >= after && p.ok);
  return up ? answeredAt(up) : null;
}

/** When the recovery clock starts: the kill for a crash, the lifting of the fault otherwise. */
export function recoveryFrom(rec: Pick<Recording, 'crashed' | 'injectAt' | 'revertAt'>): number {
  return rec.crashed ? rec.injectAt : rec.revertAt;
}

/** The latest of the targets' recoveries; null when one never recovered. */
export function allRecoveredAt(rec: RecoveryFacts & Pick<Recording, 'targets'>): number | null {
  let latest: number | null = null;
  for (const region of rec.targets) {
    const at = recoveredAt(rec, region);
    if (at === null) return null;
    latest = latest === null ? at : Math.max(latest, at);
  }
  return latest;
}

/** The first failed /health probe of `region` sent during the fault: when it was known. */
export function healthFlaggedAt(
  rec: Pick<Recording, 'probes' | 'injectAt' | 'revertAt'>,
  region: string,
): number | null {
  const failed = probesOf(rec, region).find((p) => p.at >= rec.injectAt && p.at < rec.revertAt && !p.ok);
  return failed ? answeredAt(failed) : null;
}

/** The first reading of up == 0 for `region` taken during the fault (or just after: the scrape lags). */
export function detectedDownAt(
  samples: readonly UpSample[],
  region: string,
  from: number,
  until: number,
): number | null {
  const hit = samples
    .filter((s) => s.region === region && s.at >= from && s.at <= until && s.up === 0)
    .sort((a, b) => a.at - b.at)[0];
  return hit ? hit.at : null;
}

/**
 * Replays the canary judgement every `stepMs` of the fault, the target's traffic during the
 * fault as the canary and its traffic before as the baseline, and returns the first moment
 * the verdict was red (a rollout would have rolled back), or null.
 */
export function judgementFlaggedAt(
  before: readonly Observation[],
  during: readonly Observation[],
  from: number,
  until: number,
  limits: StageLimits,
  options: JudgeOptions,
  stepMs = 250,
): number | null {
  const answered = [...during].sort((a, b) => answeredAt(a) - answeredAt(b));
  let n = 0;
  for (let t = from + stepMs; t <= until + stepMs; t += stepMs) {
    while (n < answered.length && answeredAt(answered[n] as Observation) <= t) n++;
    if (n === 0) continue;
    if (judge(answered.slice(0, n), before, limits, options).verdict === 'red') return t;
  }
  return null;
}

/** The latest of per-target times; null when any target has none. */
export function latestOf(values: readonly (number | null)[]): number | null {
  if (values.length === 0 || values.some((v) => v === null)) return null;
  return Math.max(...(values as number[]));
}
