import { pollUntil } from '../../util/poll.ts';
import { activeFaults, liftFaults, postFault } from '../endpoint.ts';
import type { Fault } from '../experiment.ts';
import {
  REVERT_DEADLINE_MS,
  SELF_LIFT_GRACE_SECONDS,
  type InjectorContext,
  type Injection,
  type TargetContainer,
} from './injector.ts';

// Faults the region service injects into itself through its fault endpoint: cpu, memory,
// db_unavailable, failure_rate, and latency where netem cannot run.

export type ServiceFault = Extract<Fault, { kind: 'cpu' | 'memory' | 'db_unavailable' | 'failure_rate' | 'latency' }>;

/** The POST /faults body for a fault (service field names, snake_case). */
export function faultBody(fault: ServiceFault): Record<string, unknown> {
  const duration_ms = Math.round((fault.durationSeconds + SELF_LIFT_GRACE_SECONDS) * 1000);
  switch (fault.kind) {
    case 'latency':
      return { kind: 'latency', duration_ms, delay_ms: fault.delayMs, jitter_ms: fault.jitterMs };
    case 'memory':
      return { kind: 'memory', duration_ms, mb: fault.mb };
    case 'failure_rate':
      return { kind: 'failure_rate', duration_ms, rate: fault.rate };
    default:
      return { kind: fault.kind, duration_ms };
  }
}

/** Lifts every fault on one target and confirms none is left; a process that died took its faults with it. */
export async function liftAndConfirm(ctx: InjectorContext, target: TargetContainer): Promise<void> {
  const deadlineMs = ctx.revertDeadlineMs ?? REVERT_DEADLINE_MS;
  const lifted = await pollUntil(
    async () => {
      await liftFaults(target.baseUrl, ctx.token);
      const left = await activeFaults(target.baseUrl, ctx.token);
      return left?.length === 0 ? true : undefined;
    },
    { deadlineMs, intervalMs: 250 },
  );
  if (lifted) return;
  // No answer: the faults live in the process's memory, so a process that is gone or was
  // replaced holds none. A live, unchanged process that does not answer is a failure.
  const now = await ctx.facts(target.region);
  if (!now || now.state !== 'running' || now.pid !== target.container.pid) return;
  throw new Error(
    `could not confirm that the faults on ${target.region} were lifted: ` +
      `${target.baseUrl}/faults did not answer with an empty list within ${deadlineMs / 1000} s`,
  );
}

export function serviceFaultInjection(fault: ServiceFault, ctx: InjectorContext): Injection {
  const body = faultBody(fault);
  return {
    guard() {
      return Promise.resolve(ctx.targets.map((t) => ({ kind: 'lift-endpoint' as const, url: `${t.innerUrl}/faults` })));
    },
    async inject() {
      const notes: string[] = [];
      for (const target of ctx.targets) {
        try {
          await postFault(target.baseUrl, ctx.token, body);
        } catch (e) {
          // Allocating toward the memory limit may kill the service before it answers:
          // that is one of the outcomes the memory experiment measures, not a failed injection.
          if (fault.kind !== 'memory' || !isTransportError(e)) throw e;
          notes.push(`${target.region}: the service dropped the connection while allocating ${fault.mb} MiB`);
        }
      }
      return { method: 'fault-endpoint', notes };
    },
    async revert() {
      const problems: string[] = [];
      for (const target of ctx.targets)
        await liftAndConfirm(ctx, target).catch((e: unknown) => problems.push((e as Error).message));
      if (problems.length > 0) throw new Error(problems.join('; '));
    },
  };
}

function isTransportError(e: unknown): boolean {
  const { code, name } = (e ?? {}) as { code?: unknown; name?: unknown };
  return (
    (typeof code === 'string' && /^(UND_ERR_SOCKET|ECONNRESET|UND_ERR_CLOSED|EPIPE)$/.test(code)) ||
    name === 'TimeoutError'
  );
}
