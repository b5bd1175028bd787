import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ComposeStack } from '../../src/stack/compose-stack.ts';
import { httpDataAdmin } from '../../src/stack/data-admin.ts';
import { regionUrl } from '../../src/stack/target.ts';
import { cli, freshStack } from './cli.ts';

// Rollback with mitigation on the live stack: a candidate that garbles rows (DATA_FAULT) and
// fails often enough to be rolled back. Its region's database was backed up before it
// arrived; on rollback the integrity check finds the damage, the backup is restored, and
// every write acknowledged before the deploy reads back.
const out = mkdtempSync(join(tmpdir(), 'chaos-gate-mitigation-'));
const config = join(out, 'one-region.yml');
writeFileSync(
  config,
  [
    'rollout:',
    '  regions: [us-west]',
    '  bake_seconds: 3',
    '  stages: [{ weight: 50 }, { weight: 100 }]',
    // 50 canary requests a second: the first analysis (after 1 s) already has the candidate's
    // writes to look at, however quickly its errors turn the verdict red.
    '  traffic_rps: 100',
    '  analysis: { sources: [synthetic], stage_deadline_seconds: 20 }',
    '',
  ].join('\n'),
);
let stack: ComposeStack;

interface Mitigation {
  region: string;
  backup: { rows: number; duration_ms: number } | null;
  integrity: { ok: boolean; problems: string[] } | null;
  restored: boolean;
  restore: { duration_ms: number; undone: Record<string, number> } | null;
  pre_deploy_writes_checked: number;
  pre_deploy_writes_missing: number;
  acknowledged_read_back: { checked: number; missing: number };
  candidate_writes_acknowledged: number;
  candidate_writes_lost_by_candidate: number;
  candidate_writes_undone: number;
  problems: string[];
}

async function post(url: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await request(url, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
    headersTimeout: 5000,
  });
  return { status: res.statusCode, json: (await res.body.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  stack = await freshStack();
});

describe('rollback with mitigation', () => {
  it.each(['corrupt', 'drop'] as const)(
    'a candidate with DATA_FAULT=%s is rolled back, its database restored, no pre-deploy write lost, its own writes counted as undone',
    async (fault) => {
      const region = stack.target.regions[0]!;
      const url = regionUrl(stack.target, region);
      // Writes acknowledged before the deploy, checked here independently of the gate.
      const before: { id: number; item: string }[] = [];
      for (let i = 0; i < 60; i++) {
        const item = `pre-${fault}-${i}`;
        const res = await post(`${url}/api/orders`, { item, quantity: 1 });
        expect(res.status).toBe(201);
        before.push({ id: res.json.id as number, item });
      }
      const file = join(out, `${fault}.json`);
      const res = await cli(
        ['deploy', 'v2', '--failure-rate', '0.2', '--data-fault', fault, '--config', config, '--result-file', file],
        { timeoutMs: 120_000 },
      );
      expect(res.exitCode, res.stderr).toBe(1);
      const r = JSON.parse(readFileSync(file, 'utf8')) as {
        final_state: string;
        mitigation: Mitigation[];
        regions: { final_version: string }[];
      };
      expect(r.final_state).toBe('ROLLED_BACK');
      expect(r.regions[0]?.final_version).toBe('v1');
      const m = r.mitigation[0]!;
      expect(m.region).toBe('us-west');
      expect(m.backup?.rows).toBeGreaterThanOrEqual(60);
      expect(m.integrity?.ok).toBe(false);
      expect(m.integrity?.problems.join('; ')).toMatch(fault === 'corrupt' ? /garbled/ : /missing/);
      expect(m.restored).toBe(true);
      expect(m.pre_deploy_writes_checked).toBe(m.backup?.rows);
      expect(m.pre_deploy_writes_missing).toBe(0);
      expect(m.acknowledged_read_back.missing).toBe(0);
      expect(m.candidate_writes_acknowledged).toBeGreaterThan(0);
      // Every acknowledged candidate write is accounted for: undone by the restore, or already
      // lost (dropped, garbled) by the candidate itself before it.
      expect(m.candidate_writes_undone).toBeGreaterThan(0);
      expect(m.candidate_writes_undone + m.candidate_writes_lost_by_candidate).toBe(m.candidate_writes_acknowledged);
      expect(m.restore?.undone.v2).toBeGreaterThanOrEqual(m.candidate_writes_undone);
      expect(m.problems).toEqual([]);

      for (const w of before) {
        const got = await request(`${url}/api/orders/${w.id}`, { headersTimeout: 5000 });
        expect(got.statusCode).toBe(200);
        expect(((await got.body.json()) as { item: string }).item).toBe(w.item);
      }
      const admin = httpDataAdmin(stack.target, await stack.faultToken());
      expect(await admin.integrity(region)).toMatchObject({ ok: true, checksumMismatches: 0, missingRows: 0 });
      console.log(
        `${fault}: backup ${m.backup?.duration_ms} ms of ${m.backup?.rows} rows, restore ${m.restore?.duration_ms} ms, candidate writes ${m.candidate_writes_acknowledged} acknowledged, ${m.candidate_writes_undone} undone by the restore, ${m.candidate_writes_lost_by_candidate} lost by the candidate itself`,
      );
    },
  );
});
