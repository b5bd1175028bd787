import { noAnnotator } from '../grafana/annotations.ts';
import { runRollout } from '../rollout/controller.ts';
import type { RolloutPlan } from '../plan/rollout.ts';
import { silentProgress } from '../util/progress.ts';
import { SimulatedClock } from './clock.ts';
import { createRandom } from '../util/random.ts';
import { simulationResult, type SimulationResult } from './result.ts';
import type { SimulationScenario } from './scenario.ts';
import { CANDIDATE_IMAGE, SimulatedStack } from './stack.ts';
import { SimulatedStore } from './store.ts';
import { SimulatedTraffic } from './traffic.ts';

// A seeded, deterministic rollout on a virtual clock: the live controller (runRollout) against
// a simulated stack, simulated traffic and a simulated clock, so that what is simulated is
// what a deploy does, rollout.rollback: region included. The result is a pure function of
// (plan, scenario, seed): same inputs, byte-identical JSON.

export async function simulate(
  plan: RolloutPlan,
  scenario: SimulationScenario,
  seed: number,
): Promise<SimulationResult> {
  const random = createRandom(seed);
  const p: RolloutPlan =
    scenario.requestsPerSecond === undefined ? plan : { ...plan, trafficRps: scenario.requestsPerSecond };
  const clock = new SimulatedClock();
  const stack = new SimulatedStack(p.regions, scenario, clock, random);
  const store = new SimulatedStore();
  const traffic = new SimulatedTraffic(stack, store, clock, random);
  const result = await runRollout(
    { version: scenario.canary.version, failureRate: 0, image: CANDIDATE_IMAGE, plan: p },
    {
      stack,
      progress: silentProgress,
      signal: new AbortController().signal,
      random: () => random.next(),
      store,
      annotator: noAnnotator,
      dataAdmin: null,
      clock,
      probes: stack.probes,
      traffic,
    },
  );
  return simulationResult(seed, result, {
    requests: traffic.stats.sent,
    canaryRequests: traffic.canarySent,
    healthProbes: stack.healthProbes,
  });
}
