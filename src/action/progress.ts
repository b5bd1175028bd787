import * as core from '@actions/core';
import type { Progress } from '../util/progress.ts';

// In the Action every step is a log group with its elapsed time; details go inside it.
export function actionProgress(now: () => number = Date.now): Progress {
  const start = now();
  let open = false;
  const stamp = () => `[${((now() - start) / 1000).toFixed(1)}s]`;
  return {
    step(message) {
      if (open) core.endGroup();
      core.startGroup(`${stamp()} ${message}`);
      open = true;
    },
    info: (message) => core.info(`${stamp()} ${message}`),
    warn: (message) => core.warning(message),
  };
}
