import type { Fault } from '../experiment.ts';
import type { InjectorContext, Injection } from './injector.ts';
import { cpuCgroupInjection } from './cpu-cgroup.ts';
import { dependencyInjection } from './dependency.ts';
import { killInjection } from './kill.ts';
import { latencyInjection } from './latency.ts';
import { partitionInjection } from './partition.ts';
import { serviceFaultInjection } from './service-fault.ts';

/** The injection for a fault; nothing is done until its inject() is called. */
export function injectionFor(fault: Fault, ctx: InjectorContext): Injection {
  switch (fault.kind) {
    case 'kill': return killInjection(fault, ctx);
    case 'latency': return latencyInjection(fault, ctx);
    case 'partition': return partitionInjection(fault, ctx);
    case 'dependency': return dependencyInjection(fault, ctx);
    case 'cpu': return fault.method === 'cgroup' ? cpuCgroupInjection(fault, ctx) : serviceFaultInjection(fault, ctx);
    case 'memory':
    case 'db_unavailable':
    case 'failure_rate':
      return serviceFaultInjection(fault, ctx);
  }
}
