import type { ContainerControl } from '../../stack/docker-control.ts';
import type { ContainerFacts } from '../../stack/inspect.ts';
import type { UndoStep } from '../../stack/warden-args.ts';
import type { Fault } from '../experiment.ts';

// One injector per fault kind. The runner gets an Injection before anything happens and
// calls revert() in a finally block whatever happened: after the fault's time, after a failed
// or partial inject(), on SIGINT/SIGTERM. So revert() must be idempotent, must undo only
// what is still there, and must not take an AbortSignal (cleanup is never cut short).

export interface TargetContainer {
  region: string;
  baseUrl: string;
  /** The container as it was before the fault. */
  container: ContainerFacts;
  /** The service as the stack's own network reaches it (for a warden), e.g. http://region-us-west:8080. */
  innerUrl: string;
}

export interface InjectorContext {
  control: ContainerControl;
  /** Bearer token of the region service's fault endpoint. */
  token: string;
  targets: readonly TargetContainer[];
  /** The target's container as it is now (a new pid after a restart), or undefined when gone. */
  facts(region: string): Promise<ContainerFacts | undefined>;
  /** The container of a service of the user's dependencies file as it is now; undefined when there is none. */
  dependency(service: string): Promise<ContainerFacts | undefined>;
  /** The control API of a region's fault proxy; undefined: the stack has none. */
  proxyUrl?: (region: string) => string | undefined;
  /** How long a revert keeps trying to confirm a fault is gone (default 15 s). */
  revertDeadlineMs?: number;
}

export interface InjectOutcome {
  /** How it was injected: "host-kill-9", "tc-netem", "fault-endpoint", "docker-network-disconnect". */
  method: string;
  /** Facts worth a line in the result, e.g. why a fallback was taken. */
  notes: string[];
}

export interface Injection {
  /**
   * What undoes the fault without this process, read before inject() (a partition records the
   * networks it will cut): a warden holds these steps and runs them at the fault's expiry.
   */
  guard(): Promise<UndoStep[]>;
  inject(): Promise<InjectOutcome>;
  /** Lifts the fault; throws when it could not (the run then ends with exit 3). */
  revert(): Promise<void>;
  /** After revert(): what the injector itself saw of the fault acting; undefined: nothing (or it cannot see). */
  evidence?(): string | undefined;
}

export type Injector<F extends Fault = Fault> = (fault: F, ctx: InjectorContext) => Injection;

/** How long a revert keeps trying by default (ms). */
export const REVERT_DEADLINE_MS = 15_000;

/** Seconds a service-side fault outlives its planned end: the runner lifts it first, the service lifts it anyway. */
export const SELF_LIFT_GRACE_SECONDS = 5;

/**
 * Undoes what each held target still has, in turn; a target undone leaves `held` (so a second
 * revert() does nothing), one that could not be stays and is named in the error thrown.
 */
export async function undoEach<H extends { target: TargetContainer }>(
  held: H[],
  undo: (h: H) => Promise<void>,
): Promise<void> {
  const problems: string[] = [];
  for (const h of [...held]) {
    try {
      await undo(h);
      held.splice(held.indexOf(h), 1);
    } catch (e) {
      problems.push(`${h.target.region}: ${(e as Error).message}`);
    }
  }
  if (problems.length > 0) throw new Error(problems.join('; '));
}
