// Seeded, deterministic rollout simulation: `simulate(plan, scenario, seed)`.
export { simulate } from './simulate.ts';
export { SIM_DEPLOY_MS } from './stack.ts';
export type { SimulationScenario, CohortModel, LatencyModel } from './scenario.ts';
export type { SimulationResult, StageJson, TransitionJson, MetricsJson } from './result.ts';
export { createRandom, lognormal, type Random } from '../util/random.ts';
export {
  runStudy,
  studyCandidates,
  DEFAULT_STUDY_SEEDS,
  type StudyResult,
  type CandidateStudy,
  type StudyShare,
} from './study.ts';
