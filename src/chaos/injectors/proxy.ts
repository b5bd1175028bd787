import { addToxic, liftToxic, listRoutes, listToxics, type Toxic } from '../../stack/fault-proxy.ts';
import { proxyParamsOf, type Fault, type ProxyMode } from '../experiment.ts';
import type { InjectorContext, Injection } from './injector.ts';
import { SELF_LIFT_GRACE_SECONDS } from './injector.ts';

// dependency faults on the way to a dependency: each target region's fault proxy (the only
// way from the region to its dependencies) slows, fails, resets, holds or throttles what
// goes to that dependency. The proxy listing the fault is the evidence that it is in place;
// it lifts it by itself shortly after its planned end, so a gate that dies leaves none.

type ProxyFault = Extract<Fault, { kind: 'dependency' }> & { mode: ProxyMode };

export function proxyInjection(fault: ProxyFault, ctx: InjectorContext): Injection {
  const placed: { url: string; region: string; toxic: Toxic }[] = [];
  let affected = 0;
  // A region's stable and canary containers share its proxy: one fault there hits both alike.
  const proxies = (): Map<string, string> => {
    const out = new Map<string, string>();
    for (const t of ctx.targets) {
      const url = ctx.proxyUrl?.(t.region);
      if (url === undefined)
        throw new Error(
          `mode ${fault.mode} needs the fault proxy between ${t.region} and its dependencies, ` +
            'and this stack has none (it runs with a dependencies file only)',
        );
      if (![...out.values()].includes(url)) out.set(t.region, url);
    }
    return out;
  };
  return {
    // The proxy's own expiry is the undo step: nothing for a warden to hold.
    guard() {
      return Promise.resolve([]);
    },
    async inject() {
      const duration = (fault.durationSeconds + SELF_LIFT_GRACE_SECONDS) * 1000;
      const kinds = new Set<string>();
      for (const [region, url] of proxies()) {
        const kind = fault.mode === 'errors' ? await errorsKind(url, fault.service) : fault.mode;
        const params =
          kind === 'http_error' && fault.mode === 'errors'
            ? { status: 503, share: fault.share ?? 1 }
            : proxyParamsOf(fault);
        kinds.add(kind);
        placed.push({
          url,
          region,
          toxic: await addToxic(url, { route: fault.service, kind, duration_ms: duration, ...params }),
        });
      }
      for (const p of placed) {
        if (!(await listToxics(p.url)).some((t) => t.id === p.toxic.id))
          throw new Error(`the fault proxy of ${p.region} does not list the ${fault.mode} fault it accepted`);
      }
      return {
        method: [...kinds].map((k) => `fault-proxy-${k}`).join(', '),
        notes: placed.map(
          (p) =>
            `${describeProxyFault(fault)} on the way from ${p.region} to ${fault.service}` +
            (p.toxic.kind === fault.mode ? '' : ` (${p.toxic.kind})`),
        ),
      };
    },
    async revert() {
      const problems: string[] = [];
      for (const p of [...placed]) {
        try {
          affected += (await liftToxic(p.url, p.toxic.id))?.affected ?? 0;
          placed.splice(placed.indexOf(p), 1);
        } catch (e) {
          problems.push(`${p.region}: ${(e as Error).message}`);
        }
      }
      if (problems.length > 0) throw new Error(problems.join('; '));
    },
    evidence() {
      return affected > 0 ? `the fault proxy acted on ${affected} call(s) to ${fault.service}` : undefined;
    },
  };
}

/**
 * errors: a 503 where the way to the dependency has carried HTTP requests, a reset where it has carried only
 * connections.
 */
async function errorsKind(url: string, service: string): Promise<'http_error' | 'reset'> {
  const routes = (await listRoutes(url)).filter((r) => r.name === service);
  return routes.some((r) => r.requests > 0) ? 'http_error' : 'reset';
}

/** "300 ms (±50) slower", "50% of requests answered 503", ... */
export function describeProxyFault(fault: ProxyFault): string {
  const share = `${Math.round((fault.share ?? 1) * 100)}%`;
  switch (fault.mode) {
    case 'latency':
      return `${fault.delayMs ?? 0} ms${fault.jitterMs ? ` (±${fault.jitterMs})` : ''} slower`;
    case 'http_error':
      return fault.firstN === undefined
        ? `${share} of requests answered ${fault.status ?? 503}`
        : `the first ${fault.firstN} requests answered ${fault.status ?? 503}`;
    case 'errors':
      return `${share} of requests failed (503, or reset where it speaks no HTTP)`;
    case 'reset':
      return `${share} of requests and connections reset`;
    case 'timeout':
      return `${share} of requests and connections held without an answer`;
    case 'bandwidth':
      return `throttled to ${fault.rateKbps ?? 0} KiB/s`;
  }
}

/** A dependency fault for a reason: "worker frozen (docker pause)", "calls to worker: 300 ms slower". */
export function dependencyFaultText(fault: Extract<Fault, { kind: 'dependency' }>): string {
  if (fault.mode === 'pause') return `${fault.service} frozen (docker pause)`;
  if (fault.mode === 'stop') return `${fault.service} stopped`;
  return `calls to ${fault.service}: ${describeProxyFault({ ...fault, mode: fault.mode })}`;
}
