import type { Fault } from '../experiment.ts';
import type { InjectorContext, Injection } from './injector.ts';

// network-partition: each target container is disconnected from every network it is on
// (peers such as Prometheus lose it, and so do its published ports), then reconnected with
// the same DNS aliases, so Prometheus finds it again by its Compose service name.

export function partitionInjection(_fault: Extract<Fault, { kind: 'partition' }>, ctx: InjectorContext): Injection {
  // What each container was on before, recorded before the first disconnect.
  const original = new Map<string, Record<string, string[]>>();
  const record = async () => {
    for (const target of ctx.targets) {
      const id = target.container.id;
      if (original.has(id)) continue;
      const networks = await ctx.control.networks(id);
      if (Object.keys(networks).length === 0)
        throw new Error(`${target.region}: container ${target.container.name} is on no network to cut it from`);
      original.set(id, networks);
    }
  };
  return {
    async guard() {
      await record();
      return [...original].map(([container, networks]) => ({ kind: 'reconnect' as const, container, networks }));
    },
    async inject() {
      await record();
      for (const [id, networks] of original) {
        for (const network of Object.keys(networks)) await ctx.control.disconnect(id, network);
      }
      return { method: 'docker-network-disconnect', notes: [] };
    },
    async revert() {
      const problems: string[] = [];
      for (const [id, networks] of original) {
        try {
          const now = await ctx.control.networks(id);
          for (const [network, aliases] of Object.entries(networks)) {
            if (!(network in now)) await ctx.control.connect(id, network, aliases);
          }
        } catch (e) {
          problems.push((e as Error).message);
        }
      }
      if (problems.length > 0) throw new Error(problems.join('; '));
    },
  };
}
