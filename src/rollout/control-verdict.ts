import type { AbortCause } from './machine.ts';
import type { RolloutResult } from './result.ts';

// Whether the gate's own checks would catch a bad release and let a good one through, judged
// from the controls it ran before the candidate (gate/controls.ts). Pure: outcomes in,
// verdicts with their reasons out. A fault that did not take effect proves nothing either
// way: that control could not run, which closes the gate like a failed one (nothing then
// shows that an OPEN gate means anything).

/**
 * known-good: the baseline as its own canary. known-bad: the baseline as a canary cut off from its network (every
 * request fails). known-bad-latency: the baseline as a canary slowed by the experiments' latency fault.
 */
export type ControlName = 'known-good' | 'known-bad' | 'known-bad-latency';

export interface FaultEvidence {
  /** How it was done, e.g. "docker-network-disconnect", "host-kill-9". */
  method: string;
  tookEffect: boolean;
  /** What was seen, e.g. "region-us-west-canary on no network". */
  detail: string;
  /** No method for this fault exists on this host for this service (e.g. no netem and no fault endpoint). */
  unavailable?: boolean;
}

export interface ControlOutcome {
  name: ControlName;
  region: string;
  version: string;
  finalState: RolloutResult['finalState'];
  rollbackReason: string | null;
  /** Why the control's rollout aborted; null: it did not. */
  abortCause: AbortCause | null;
  rollbackProblems: readonly string[];
  durationMs: number;
  timeToDetectMs: number | null;
  timeToRollbackMs: number | null;
  /** The known-bad control's fault on the canary. */
  sabotage?: FaultEvidence | undefined;
  /** The crash its rollback met (rollback under fire). */
  fire?: FaultEvidence;
  /** The baseline's acknowledged writes in the region, read back after the rollback. */
  writes?: { checked: number; missing: number; unverified: number };
}

/** skipped: the host has no way to make this control's fault (said in the report; it does not close the gate). */
export type ControlVerdict = 'pass' | 'fail' | 'could_not_run' | 'skipped';

export interface ControlResult extends ControlOutcome {
  verdict: ControlVerdict;
  reason: string;
}

const seconds = (ms: number | null) => (ms === null ? '?' : `${(ms / 1000).toFixed(1)} s`);

export function judgeControl(o: ControlOutcome): ControlResult {
  const [verdict, reason] = o.name === 'known-good' ? judgeGood(o) : judgeBad(o);
  return { ...o, verdict, reason };
}

/** Aborts the checks did not decide (the stack failed, the run was stopped, an error): they say nothing about them. */
const NOT_THE_CHECKS: readonly AbortCause[] = ['infrastructure', 'interrupted', 'other'];

function judgeGood(o: ControlOutcome): [ControlVerdict, string] {
  if (o.finalState === 'COMPLETED')
    return [
      'pass',
      `the baseline as its own canary in ${o.region} was promoted: the checks let a good release through`,
    ];
  if (o.abortCause !== null && NOT_THE_CHECKS.includes(o.abortCause))
    return ['could_not_run', `the known-good canary did not run to a verdict: ${o.rollbackReason ?? ''}`];
  return [
    'fail',
    `the checks would have blocked a good release: the baseline as its own canary in ${o.region} was ` +
      `${o.finalState.toLowerCase().replace('_', ' ')} (${o.rollbackReason ?? o.rollbackProblems.join('; ')})`,
  ];
}

/** What makes each known-bad control bad, as the reasons say it. */
const BAD_RELEASE: Record<Exclude<ControlName, 'known-good'>, string> = {
  'known-bad': 'a canary cut off from its network',
  'known-bad-latency': 'a canary slowed by the latency fault',
};

function judgeBad(o: ControlOutcome): [ControlVerdict, string] {
  const bad = BAD_RELEASE[o.name as keyof typeof BAD_RELEASE];
  if (o.sabotage?.unavailable) return ['skipped', `${o.name} not run: ${o.sabotage.detail}`];
  if (!o.sabotage?.tookEffect)
    return [
      'could_not_run',
      `the ${o.name} canary could not be made bad: ` +
        (o.sabotage?.detail ?? 'its fault was never injected (its deploy failed first)'),
    ];
  if (o.finalState === 'COMPLETED')
    return ['fail', `the checks would not have caught a bad release: ${bad} in ${o.region} was promoted`];
  if (o.finalState === 'FAILED')
    return [
      'fail',
      `the rollback did not hold${o.fire ? ' under fire' : ''}: ${o.rollbackProblems.join('; ') || 'not verified'}`,
    ];
  if (o.fire && !o.fire.tookEffect) return ['could_not_run', `rollback under fire could not run: ${o.fire.detail}`];
  if (o.writes && o.writes.missing + o.writes.unverified > 0) {
    return [
      'fail',
      `the rollback${o.fire ? ' under fire' : ''} lost acknowledged writes: ` +
        `${o.writes.missing} missing and ${o.writes.unverified} unreadable of ${o.writes.checked}`,
    ];
  }
  const fire = o.fire ? ` while ${o.fire.detail}` : '';
  const writes = o.writes ? `; ${o.writes.checked} acknowledged write(s) read back` : '';
  return [
    'pass',
    `caught after ${seconds(o.timeToDetectMs)} and rolled back, verified, ` +
      `in ${seconds(o.timeToRollbackMs)}${fire}${writes}`,
  ];
}

/** The gate's reason for each control that did not pass. */
export function controlFindings(results: readonly ControlResult[]): string[] {
  return results
    .filter((r) => r.verdict !== 'pass' && r.verdict !== 'skipped')
    .map((r) => `control ${r.name}${r.verdict === 'could_not_run' ? ' could not run' : ''}: ${r.reason}`);
}

/**
 * The delay of the known-bad-latency control: far beyond the comparison's tolerance of a few ms, yet under the first
 * stage's p99 limit where that limit allows 50 ms or more, so that the comparison with the baseline must catch it.
 */
export function latencyControlDelayMs(maxP99Ms: number): number {
  return Math.min(200, Math.max(50, Math.round(maxP99Ms / 5)));
}

/**
 * Whether the injected delay showed in what the traffic measured: the canary's median at least half the delay above
 * the baseline's. Too few timed requests on either side (under 5) is no evidence.
 */
export function latencyEffect(
  delayMs: number,
  canary: { count: number; p50Ms: number | null },
  baseline: { count: number; p50Ms: number | null },
): { tookEffect: boolean; detail: string } {
  const shown = (s: { count: number; p50Ms: number | null }) =>
    s.p50Ms === null ? `no timed answers (${s.count})` : `a median of ${s.p50Ms.toFixed(1)} ms (n=${s.count})`;
  const detail =
    `the canary answered in ${shown(canary)}, the baseline in ${shown(baseline)}, ` + `under a ${delayMs} ms delay`;
  if (canary.p50Ms === null || baseline.p50Ms === null || canary.count < 5 || baseline.count < 5)
    return { tookEffect: false, detail: `${detail}: too few requests to see the delay` };
  const tookEffect = canary.p50Ms - baseline.p50Ms >= delayMs / 2;
  return { tookEffect, detail: tookEffect ? detail : `${detail}: the delay did not show` };
}
