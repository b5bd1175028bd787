import { request } from 'undici';
import { jsonOrText } from '../util/json.ts';

// The region service's fault-injection endpoint (POST/GET/DELETE /faults, bearer token).
// Every fault posted carries duration_ms, after which the service lifts it by itself: an
// interrupted run can leave a fault on for at most that long.

export interface EndpointAnswer {
  status: number;
  body: unknown;
}

async function call(
  method: 'GET' | 'POST' | 'DELETE',
  baseUrl: string,
  token: string,
  body: unknown,
  timeoutMs: number,
): Promise<EndpointAnswer> {
  const res = await request(`${baseUrl}/faults`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  return { status: res.statusCode, body: jsonOrText(await res.body.text()) };
}

/** Posts a fault; throws when the service refuses it (the message carries its answer). */
export async function postFault(
  baseUrl: string,
  token: string,
  fault: Record<string, unknown>,
  timeoutMs = 5000,
): Promise<void> {
  const answer = await call('POST', baseUrl, token, fault, timeoutMs);
  if (answer.status !== 202)
    throw new Error(
      `${baseUrl}/faults refused ${JSON.stringify(fault)}: HTTP ${answer.status} ${JSON.stringify(answer.body)}`,
    );
}

/** Lifts every fault of the service; undefined when it did not answer. */
export async function liftFaults(baseUrl: string, token: string, timeoutMs = 2000): Promise<number | undefined> {
  try {
    const answer = await call('DELETE', baseUrl, token, undefined, timeoutMs);
    return answer.status === 200 ? Number((answer.body as { lifted?: unknown }).lifted ?? 0) : undefined;
  } catch {
    return undefined;
  }
}

/** The kinds of the service's active faults; undefined when it did not answer with a list. */
export async function activeFaults(baseUrl: string, token: string, timeoutMs = 2000): Promise<string[] | undefined> {
  try {
    const answer = await call('GET', baseUrl, token, undefined, timeoutMs);
    const faults = (answer.body as { faults?: unknown } | null)?.faults;
    if (answer.status !== 200 || !Array.isArray(faults)) return undefined;
    return faults.map((f) => String((f as { kind?: unknown }).kind));
  } catch {
    return undefined;
  }
}
