import { loadConfig } from '../../config/load.ts';
import { formatPrediction } from '../../predict/format.ts';
import { livePrediction, type LivePrediction } from '../../predict/live.ts';
import { toJsonText } from '../../util/json-text.ts';
import { predictExitCode } from '../../gate/exit.ts';
import { createRandom } from '../../util/random.ts';
import type { CommandContext } from '../main.ts';
import { openStack } from './stack.ts';

export interface PredictCommand {
  version: string;
  failureRate: number;
  config?: string;
  environment?: string;
  seed: number;
  json: boolean;
}

export async function runPredict(command: PredictCommand, ctx: CommandContext): Promise<number> {
  // Everything the user wrote is validated before the stack is touched.
  const config = loadConfig(command.config, process.cwd(), command.environment);
  const stack = await openStack(ctx);
  const random = createRandom(command.seed);
  const result = await livePrediction(
    {
      version: command.version,
      failureRate: command.failureRate,
      rollout: config.rollout,
      predict: config.predict,
      seed: command.seed,
      cwd: process.cwd(),
    },
    { stack, progress: ctx.progress, signal: ctx.signal, random: () => random.next() },
  );
  ctx.signal.throwIfAborted();
  ctx.progress.info(`pre-flight took ${(result.preflightMs / 1000).toFixed(1)} s in ${result.region}`);
  ctx.out(
    command.json
      ? toJsonText(predictionJson(result))
      : [
          formatPrediction(result.prediction),
          `  history: ${result.history.records.length} run(s) from ${result.history.file}`,
          ...result.history.problems.map((p) => `  history problem: ${p}`),
        ].join('\n'),
  );
  return predictExitCode(result);
}

/** What --json prints: the prediction, where the history came from, and how long the pre-flight took. */
export function predictionJson(result: LivePrediction) {
  return {
    prediction: result.prediction,
    history: { file: result.history.file, runs: result.history.records.length, problems: result.history.problems },
    preflightRun: { region: result.region, durationMs: result.preflightMs },
  };
}
