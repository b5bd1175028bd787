import { latencyInjection } from '../chaos/injectors/latency.ts';
import type { Injection } from '../chaos/injectors/injector.ts';
import { summarize } from '../analysis/metrics.ts';
import type { ContainerControl } from '../stack/docker-control.ts';
import type { Stack } from '../stack/stack.ts';
import { innerUrl, regionUrl, type RegionTarget } from '../stack/target.ts';
import type { ObservationStore } from '../traffic/store.ts';
import { latencyEffect, type FaultEvidence } from '../rollout/control-verdict.ts';

// The known-bad-latency control's fault: the experiments' own latency injector on the canary
// alone (tc netem in its network namespace where the kernel has it, else the demo's fault
// endpoint). Its evidence is what the traffic measured, not that a call succeeded. Nothing
// outlives the control: the rollback removes the canary, and with it netem's qdisc and the
// endpoint's fault (which also lifts itself at its expiry).

export interface LatencySabotage {
  evidence: FaultEvidence;
  /** Lifts the fault if the canary still exists; never throws. */
  lift(): Promise<void>;
  /** The evidence once the control is over: the delay as the canary's and the baseline's requests saw it. */
  measured(store: ObservationStore): FaultEvidence;
}

export interface LatencySabotageEnv {
  stack: Stack;
  control: ContainerControl;
  /** The fault endpoint's token; '' for the user's own service (it has no endpoint). */
  token: string;
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Slows `region`'s canary by `delayMs` for `seconds`; `unavailable` when this host has no method for it. */
export async function slowCanary(
  env: LatencySabotageEnv,
  region: RegionTarget,
  delayMs: number,
  seconds: number,
): Promise<LatencySabotage> {
  const ownService = env.stack.target.service !== undefined;
  const fault = {
    kind: 'latency' as const,
    durationSeconds: seconds,
    delayMs,
    jitterMs: 0,
    method: ownService ? ('tc-netem' as const) : ('auto' as const),
  };
  const canary = (await env.stack.containers()).find((c) => c.service === region.canaryService);
  const failed = (evidence: FaultEvidence): LatencySabotage => ({
    evidence,
    lift: () => Promise.resolve(),
    measured: () => evidence,
  });
  if (!canary) return failed({ method: fault.method, tookEffect: false, detail: `${region.canaryService} is gone` });
  const injection: Injection = latencyInjection(fault, {
    control: env.control,
    token: env.token,
    targets: [
      {
        region: region.name,
        baseUrl: regionUrl(env.stack.target, region, 'canary'),
        innerUrl: innerUrl(env.stack.target, region, 'canary'),
        container: canary,
      },
    ],
    facts: async () => (await env.stack.containers()).find((c) => c.service === region.canaryService),
    dependency: () => Promise.resolve(undefined),
    // By the time it is lifted the rollout has removed the canary, and the fault with it: no 15 s wait for an answer.
    revertDeadlineMs: 2000,
  });
  const since = Date.now();
  let method: string;
  try {
    method = (await injection.inject()).method;
  } catch (e) {
    await injection.revert().catch(() => undefined);
    const detail = message(e);
    // The user's service has no fault endpoint to fall back to: without netem, this host cannot slow it.
    const unavailable = ownService && /netem/.test(detail);
    return failed({
      method: fault.method,
      tookEffect: false,
      detail: unavailable ? `no way to slow ${region.canaryService} from outside on this host: ${detail}` : detail,
      ...(unavailable ? { unavailable } : {}),
    });
  }
  const injected = `${region.canaryService} slowed by ${delayMs} ms (${method})`;
  return {
    evidence: { method, tookEffect: true, detail: injected },
    lift: () => injection.revert().catch(() => undefined),
    measured(store) {
      const side = (cohort: 'canary' | 'baseline') =>
        summarize(store.select({ region: region.name, cohort, from: since }));
      const effect = latencyEffect(delayMs, side('canary'), side('baseline'));
      return { method, tookEffect: effect.tookEffect, detail: `${injected}: ${effect.detail}` };
    },
  };
}
