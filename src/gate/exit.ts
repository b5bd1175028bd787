import type { ExperimentResult } from '../chaos/result.ts';
import type { LivePrediction } from '../predict/live.ts';
import type { RolloutResult } from '../rollout/result.ts';

// Every exit status in one place, for the CLI and the Action alike (README: Exit status).

export const EXIT = { ok: 0, closed: 1, usage: 2, infra: 3, interrupted: 130 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** 0 gate OPEN, 1 gate CLOSED, 3 the infrastructure failed part-way (the report says where). */
export function gateExitCode(gate: 'OPEN' | 'CLOSED', infraFailure: string | undefined): 0 | 1 | 3 {
  if (infraFailure) return EXIT.infra;
  return gate === 'OPEN' ? EXIT.ok : EXIT.closed;
}

/** 0 every experiment passed, 1 one failed (or could not run), 3 the infrastructure failed. */
export function suiteExitCode(outcome: {
  results: readonly Pick<ExperimentResult, 'status' | 'reverted'>[];
  infraFailure?: string | undefined;
}): ExitCode {
  if (outcome.infraFailure !== undefined || outcome.results.some((r) => !r.reverted)) return EXIT.infra;
  return outcome.results.every((r) => r.status === 'PASS') ? EXIT.ok : EXIT.closed;
}

/**
 * 0 only for a clean completion. A rollout that put even one region back is 1, also when
 * rollback: region kept the others on the candidate or continued to the end (finalState is
 * ROLLED_BACK then, with rollback.scope "region"): the candidate failed somewhere, and a
 * pipeline must not read that as success. 3: a rollback not verified (data check included).
 */
export function rolloutExitCode(result: Pick<RolloutResult, 'finalState'>): ExitCode {
  if (result.finalState === 'COMPLETED') return EXIT.ok;
  return result.finalState === 'ROLLED_BACK' ? EXIT.closed : EXIT.infra;
}

/**
 * 0 when the rollout may go ahead (proceed, or small tiers), 1 when the prediction says
 * close: the same answer the gate would act on, so a script can stop before deploying.
 */
export function predictExitCode(result: Pick<LivePrediction, 'prediction'>): 0 | 1 {
  return result.prediction.action.action === 'close' ? EXIT.closed : EXIT.ok;
}

/** `status`: 0 when every region is up, 3 when one is not. */
export function statusExitCode(allUp: boolean): ExitCode {
  return allUp ? EXIT.ok : EXIT.infra;
}
