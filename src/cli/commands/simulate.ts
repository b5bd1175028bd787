import { loadConfig } from '../../config/load.ts';
import { simulate } from '../../simulate/index.ts';
import type { CommandContext } from '../main.ts';

// Async so that a refused config rejects, as in every command.
// eslint-disable-next-line @typescript-eslint/require-await -- see the line above
export async function runSimulate(command: { seed: number; config?: string }, ctx: CommandContext): Promise<number> {
  const config = loadConfig(command.config);
  // A simulation has no Prometheus: its synthetic traffic is the only judge.
  const plan = { ...config.rollout, analysis: { ...config.rollout.analysis, sources: ['synthetic' as const] } };
  const result = simulate(plan, config.simulation, command.seed);
  ctx.out(JSON.stringify(result, null, 2));
  return 0;
}
