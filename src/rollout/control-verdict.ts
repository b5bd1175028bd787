import type { AbortCause } from './machine.ts';
import type { RolloutResult } from './result.ts';

// Whether the gate's own checks would catch a bad release and let a good one through, judged
// from the controls it ran before the candidate (gate/controls.ts). Pure: outcomes in,
// verdicts with their reasons out. A fault that did not take effect proves nothing either
// way: that control could not run, which closes the gate like a failed one (nothing then
// shows that an OPEN gate means anything).

/** known-good: the baseline as its own canary. known-bad: the baseline as a canary cut off from its network. */
export type ControlName = 'known-good' | 'known-bad';

export interface FaultEvidence {
  /** How it was done, e.g. "docker-network-disconnect", "host-kill-9". */
  method: string;
  tookEffect: boolean;
  /** What was seen, e.g. "region-us-west-canary on no network". */
  detail: string;
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

export type ControlVerdict = 'pass' | 'fail' | 'could_not_run';

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

function judgeBad(o: ControlOutcome): [ControlVerdict, string] {
  if (!o.sabotage?.tookEffect)
    return [
      'could_not_run',
      `the known-bad canary could not be made bad: ` +
        (o.sabotage?.detail ?? 'it was never cut off (its deploy failed first)'),
    ];
  if (o.finalState === 'COMPLETED')
    return [
      'fail',
      `the checks would not have caught a bad release: a canary cut off from its network in ${o.region} was promoted`,
    ];
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
    .filter((r) => r.verdict !== 'pass')
    .map((r) => `control ${r.name}${r.verdict === 'could_not_run' ? ' could not run' : ''}: ${r.reason}`);
}
