import { setTimeout as sleep } from 'node:timers/promises';
import { Agent } from 'undici';
import type { AcknowledgedWrite } from '../traffic/store.ts';
import { DEMO_WORKLOAD, exchange, type ReadBackOutcome, type Workload } from '../traffic/workload.ts';
import type { ReadBack } from './recording.ts';

// Every write the service acknowledged during an experiment is read back at its end, with the
// workload that wrote it (traffic/workload.ts): for the demo a 404, or another item under its
// id, is a lost write; for a user's probe a 404 or 410, or an answer without every uuid the
// write sent (an item there but corrupted counts as lost too). A read that gets no clean
// answer is retried until the deadline and then counted as unverified (it cannot be read back
// either).

export interface ReadBackOptions {
  concurrency?: number;
  deadlineMs?: number;
  timeoutMs?: number;
  /** How the writes are read and judged (default: the demo's). */
  workload?: Pick<Workload, 'readBack'>;
}

export async function readBackWrites(
  writes: readonly AcknowledgedWrite[],
  baseUrlOf: (region: string) => string,
  options: ReadBackOptions = {},
): Promise<ReadBack> {
  const { concurrency = 16, deadlineMs = 20_000, timeoutMs = 2000, workload = DEMO_WORKLOAD } = options;
  const spec = workload.readBack;
  const result: ReadBack = { checked: writes.length, missing: 0, unverified: 0 };
  if (spec === undefined || writes.length === 0) return { ...result, unverified: writes.length };
  const agent = new Agent({ connections: concurrency });
  const end = Date.now() + deadlineMs;
  let next = 0;

  const readOne = async (write: AcknowledgedWrite): Promise<ReadBackOutcome> => {
    const answer = await exchange(agent, baseUrlOf(write.region), spec.request(write), timeoutMs);
    return answer.status === 0 ? 'retry' : spec.judge(write, answer);
  };

  const worker = async (): Promise<void> => {
    for (;;) {
      const write = writes[next++];
      if (!write) return;
      let outcome = await readOne(write);
      while (outcome === 'retry' && Date.now() < end) {
        await sleep(250);
        outcome = await readOne(write);
      }
      if (outcome === 'missing') result.missing++;
      if (outcome === 'retry') result.unverified++;
    }
  };

  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, writes.length) }, worker));
  } finally {
    await agent.close();
  }
  return result;
}
