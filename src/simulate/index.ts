// Seeded, deterministic rollout simulation: `simulate(plan, scenario, seed)`.
export { simulate, SIM_DEPLOY_MS, SIM_HEALTH_INTERVAL_MS } from './simulate.ts';
export type { SimulationScenario, CohortModel, LatencyModel } from './scenario.ts';
export type { SimulationResult, StageJson, TransitionJson, MetricsJson } from './result.ts';
export { createRandom, lognormal, type Random } from '../util/random.ts';
