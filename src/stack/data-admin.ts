import { request } from 'undici';
import { jsonOrText } from '../util/json.ts';
import { InfraError } from './errors.ts';
import { regionUrl, type RegionTarget, type StackTarget } from './target.ts';

// The region service's data administration (/admin/backup, /admin/integrity,
// /admin/restore; bearer token, like /faults), and reading an order back. Always the
// region's stable container: the canary is gone by the time anything is checked or restored.

// The wire contract is the service's own types: one definition on both sides of the HTTP call.
import type { BackupReport, IntegrityReport, RestoreReport } from '../../services/region/src/data.ts';
export type { BackupReport, IntegrityReport, RestoreReport };

export interface DataAdmin {
  backup(region: RegionTarget, name: string): Promise<BackupReport>;
  /** With a backup name: also every backed-up row looked up in the live table. */
  integrity(region: RegionTarget, name?: string): Promise<IntegrityReport>;
  restore(region: RegionTarget, name: string, keepVersion: string): Promise<RestoreReport>;
  /** The order's item as the region's stable service returns it; null: not found. */
  readItem(region: RegionTarget, id: number): Promise<string | null>;
}

export interface HttpAnswer {
  status: number;
  body: unknown;
}

export type Send = (
  method: 'GET' | 'POST',
  url: string,
  headers: Record<string, string>,
  body: string | undefined,
  timeoutMs: number,
) => Promise<HttpAnswer>;

export const undiciSend: Send = async (method, url, headers, body, timeoutMs) => {
  const res = await request(url, {
    method,
    headers,
    body: body ?? null,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  return { status: res.statusCode, body: jsonOrText(await res.body.text()) };
};

const READ_ATTEMPTS = 3;
// A restore of a large table holds the write lock for its duration: generous, but bounded.
const ADMIN_TIMEOUT_MS = 60_000;

export function httpDataAdmin(target: StackTarget, token: string, send: Send = undiciSend): DataAdmin {
  const admin = async <T>(
    region: RegionTarget,
    path: string,
    payload: Record<string, unknown>,
    expect: number,
  ): Promise<T> => {
    const url = `${regionUrl(target, region)}${path}`;
    let answer: HttpAnswer;
    try {
      answer = await send(
        'POST',
        url,
        { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        JSON.stringify(payload),
        ADMIN_TIMEOUT_MS,
      );
    } catch (e) {
      throw new InfraError(`${region.name}: ${path} did not answer: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (answer.status !== expect)
      throw new InfraError(`${region.name}: ${path} answered HTTP ${answer.status}: ${JSON.stringify(answer.body)}`);
    return answer.body as T;
  };
  return {
    backup: (region, name) => admin<BackupReport>(region, '/admin/backup', { name }, 201),
    integrity: (region, name) =>
      admin<IntegrityReport>(region, '/admin/integrity', name === undefined ? {} : { name }, 200),
    restore: (region, name, keepVersion) =>
      admin<RestoreReport>(region, '/admin/restore', { name, keep_version: keepVersion }, 200),
    async readItem(region, id) {
      let last: HttpAnswer | undefined;
      // A read is retried: one failed answer is not evidence that the row is gone.
      for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
        last = await send('GET', `${regionUrl(target, region)}/api/orders/${id}`, {}, undefined, 5000).catch(
          (): HttpAnswer => ({ status: 0, body: 'no answer' }),
        );
        if (last.status === 404) return null;
        const item = (last.body as { item?: unknown } | null)?.item;
        if (last.status === 200 && typeof item === 'string') return item;
      }
      throw new InfraError(
        `${region.name}: reading order ${id} back answered HTTP ${last?.status ?? 0}: ${JSON.stringify(last?.body)}`,
      );
    },
  };
}

/** A backup name from the candidate and a time: only the characters the service accepts. */
export function backupName(region: string, version: string, at: number): string {
  return `${region}-before-${version}-${at}`.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100);
}
