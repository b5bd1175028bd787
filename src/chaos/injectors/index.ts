import { isProxyMode, type Fault, type ProxyMode } from '../experiment.ts';
import type { InjectorContext, Injection } from './injector.ts';
import { cpuCgroupInjection } from './cpu-cgroup.ts';
import { dependencyInjection } from './dependency.ts';
import { killInjection } from './kill.ts';
import { latencyInjection } from './latency.ts';
import { memoryCgroupInjection } from './memory-cgroup.ts';
import { partitionInjection } from './partition.ts';
import { proxyInjection } from './proxy.ts';
import { serviceFaultInjection } from './service-fault.ts';

/** The injection for a fault; nothing is done until its inject() is called. */
export function injectionFor(fault: Fault, ctx: InjectorContext): Injection {
  switch (fault.kind) {
    case 'kill':
      return killInjection(fault, ctx);
    case 'latency':
      return latencyInjection(fault, ctx);
    case 'partition':
      return partitionInjection(fault, ctx);
    case 'dependency':
      return isProxyFault(fault)
        ? proxyInjection(fault, ctx)
        : dependencyInjection({ ...fault, mode: fault.mode === 'stop' ? 'stop' : 'pause' }, ctx);
    case 'cpu':
      return fault.method === 'cgroup' ? cpuCgroupInjection(fault, ctx) : serviceFaultInjection(fault, ctx);
    case 'memory':
      return fault.method === 'cgroup' ? memoryCgroupInjection(fault, ctx) : serviceFaultInjection(fault, ctx);
    case 'db_unavailable':
    case 'failure_rate':
      return serviceFaultInjection(fault, ctx);
  }
}

function isProxyFault(
  fault: Extract<Fault, { kind: 'dependency' }>,
): fault is Extract<Fault, { kind: 'dependency' }> & { mode: ProxyMode } {
  return isProxyMode(fault.mode);
}
