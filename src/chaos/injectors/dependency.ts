import type { ContainerFacts } from '../../stack/inspect.ts';
import type { Fault } from '../experiment.ts';
import type { InjectorContext, Injection } from './injector.ts';

// dependency: a service of the user's dependencies file fails from outside, with no help from
// it: `docker pause` freezes it (its connections hang, callers see time-outs) or `docker
// stop` takes it away (callers are refused at once). The container's own state, read back
// after the action, is the evidence that the fault took effect: one that is not paused or
// stopped then was not faulted, and the experiment could not run.

type DependencyFault = Extract<Fault, { kind: 'dependency' }> & { mode: 'pause' | 'stop' };

/** The state a faulted container must be in, as `docker inspect` says it. */
const FAULTED_STATE = { pause: 'paused', stop: 'exited' } as const;

export function dependencyInjection(fault: DependencyFault, ctx: InjectorContext): Injection {
  let container: ContainerFacts | undefined;
  const find = async (): Promise<ContainerFacts> => {
    container ??= await ctx.dependency(fault.service);
    if (!container) throw new Error(`the dependency ${fault.service} has no container in the stack`);
    if (container.state !== 'running')
      throw new Error(`the dependency ${fault.service} is ${container.state}, not running: there is nothing to fault`);
    return container;
  };
  const stateNow = async (): Promise<string | undefined> => (await ctx.dependency(fault.service))?.state;
  return {
    async guard() {
      const c = await find();
      return [{ kind: fault.mode === 'pause' ? ('unpause' as const) : ('start' as const), container: c.id }];
    },
    async inject() {
      const c = await find();
      if (fault.mode === 'pause') await ctx.control.pause(c.id);
      else await ctx.control.stop(c.id);
      const state = await stateNow();
      if (state !== FAULTED_STATE[fault.mode])
        throw new Error(
          `docker ${fault.mode} of ${fault.service} did not take effect: its container is ${state ?? 'gone'}`,
        );
      return { method: `docker-${fault.mode}`, notes: [`${fault.service} (${c.name}) ${state}`] };
    },
    async revert() {
      if (!container) return;
      const state = await stateNow();
      if (state === 'paused') await ctx.control.unpause(container.id);
      else if (state !== 'running' && state !== undefined) await ctx.control.start(container.id);
      const after = await stateNow();
      if (after !== 'running') throw new Error(`${fault.service} is ${after ?? 'gone'} after the fault was lifted`);
    },
  };
}
