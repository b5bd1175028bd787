import type { UndoStep } from '../../stack/warden-args.ts';
import type { Fault } from '../experiment.ts';
import type { InjectorContext, Injection } from './injector.ts';
import { serviceFaultInjection } from './service-fault.ts';

// network-latency: netem delay in each target container's network namespace where the
// kernel has netem (GitHub-hosted runners); otherwise the region service's own latency
// fault, which delays every answer but scrapes and fault calls (these machines have no
// netem: machine-notes.md). With method auto the choice is made at run time and the result
// names the method that ran.

type LatencyFault = Extract<Fault, { kind: 'latency' }>;

export function latencyInjection(fault: LatencyFault, ctx: InjectorContext): Injection {
  const delayed: number[] = [];
  const endpoint = serviceFaultInjection(fault, ctx);

  const revertNetem = async (): Promise<void> => {
    const problems: string[] = [];
    for (const pid of [...delayed]) {
      try {
        await ctx.control.clearDelay(pid);
        delayed.splice(delayed.indexOf(pid), 1);
      } catch (e) {
        problems.push((e as Error).message);
      }
    }
    if (problems.length > 0) throw new Error(problems.join('; '));
  };

  return {
    async guard() {
      const steps: UndoStep[] = await endpoint.guard();
      if (fault.method === 'fault-endpoint') return steps;
      // netem may be chosen at inject(): a fresh interface is what drops its qdisc. That blips
      // the network once, and only when the gate died before lifting the fault itself.
      for (const t of ctx.targets)
        steps.push({
          kind: 'reset-network',
          container: t.container.id,
          networks: await ctx.control.networks(t.container.id),
        });
      return steps;
    },
    async inject() {
      const notes: string[] = [];
      if (fault.method !== 'fault-endpoint') {
        let refused: string | undefined;
        for (const target of ctx.targets) {
          const outcome = await ctx.control.addDelay(target.container.pid, fault.delayMs, fault.jitterMs);
          if (!outcome.ok) {
            refused = `${target.region}: ${outcome.reason}`;
            break;
          }
          delayed.push(target.container.pid);
        }
        if (refused === undefined) return { method: 'tc-netem', notes };
        await revertNetem();
        if (fault.method === 'tc-netem')
          throw new Error(`tc netem is required (method: tc-netem) but cannot run here: ${refused}`);
        notes.push(`tc netem not available (${refused}); used the service's latency fault instead`);
      }
      await endpoint.inject();
      return { method: 'fault-endpoint', notes };
    },
    async revert() {
      const problems: string[] = [];
      await revertNetem().catch((e: unknown) => problems.push((e as Error).message));
      // Lifted whichever method ran: harmless after netem, and it never depends on how far inject() got.
      await endpoint.revert().catch((e: unknown) => problems.push((e as Error).message));
      if (problems.length > 0) throw new Error(problems.join('; '));
    },
  };
}
