import type { Fault } from '../experiment.ts';
import type { InjectorContext, Injection } from './injector.ts';

// service-kill: SIGKILL of each target container's main process, sent from the host. That is
// a crash, so `restart: unless-stopped` must bring the container back; `docker kill` would
// be a manual stop, which restart policies ignore (machine-notes.md). Nothing to lift
// afterwards: a container that does not come back is started again by the runner's repair.

export function killInjection(_fault: Extract<Fault, { kind: 'kill' }>, ctx: InjectorContext): Injection {
  return {
    guard() {
      return Promise.resolve(ctx.targets.map((t) => ({ kind: 'start' as const, container: t.container.id })));
    },
    async inject() {
      let method = '';
      for (const target of ctx.targets) method = await ctx.control.crash(target.container.pid);
      return { method, notes: [] };
    },
    async revert() {
      // The process is gone; what remains to do is recovery, which the runner measures and repairs.
    },
  };
}
