import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import type { AcknowledgedWrite } from '../traffic/store.ts';
import type { ReadBack } from './recording.ts';

// Every write the service acknowledged (201) during an experiment is read back at its end:
// a 404, or another item under its id, is a lost write. A read that gets no clean answer is
// retried until the deadline and then counted as unverified (it cannot be read back either).

export interface ReadBackOptions {
  concurrency?: number;
  deadlineMs?: number;
  timeoutMs?: number;
}

type Outcome = 'ok' | 'missing' | 'retry';

export async function readBackWrites(writes: readonly AcknowledgedWrite[], baseUrlOf: (region: string) => string, options: ReadBackOptions = {}): Promise<ReadBack> {
  const { concurrency = 16, deadlineMs = 20_000, timeoutMs = 2000 } = options;
  const agent = new Agent({ connections: concurrency });
  const end = Date.now() + deadlineMs;
  const result: ReadBack = { checked: writes.length, missing: 0, unverified: 0 };
  let next = 0;

  const readOne = async (write: AcknowledgedWrite): Promise<Outcome> => {
    try {
      const res = await request(`${baseUrlOf(write.region)}/api/orders/${write.id}`, { dispatcher: agent, signal: AbortSignal.timeout(timeoutMs) });
      const text = await res.body.text();
      if (res.statusCode === 404) return 'missing';
      if (res.statusCode !== 200) return 'retry';
      return (JSON.parse(text) as { item?: unknown }).item === write.item ? 'ok' : 'missing';
    } catch {
      return 'retry';
    }
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
