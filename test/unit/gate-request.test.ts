import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { UsageError } from '../../src/util/errors.ts';
import { runGate, type GateRequest } from '../../src/gate/pipeline.ts';
import { execWrapper } from '../../src/stack/exec.ts';
import { silentProgress } from '../../src/util/progress.ts';

// What the gate refuses before it touches anything: the version it needs for the demo, and
// the demo's knob with a user's service. Every process start is spied on: none may happen.

const root = mkdtempSync(join(tmpdir(), 'cg-request-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

const SERVICE = `service:
  build: { context: . }
  port: 3000
  health: { path: /healthz }
  traffic: [{ method: GET, path: /api/items }]
`;

function request(cwd: string, extra: Partial<GateRequest> = {}): GateRequest {
  return { reportDir: 'reports', seed: 1, keepStack: false, cwd, ...extra };
}

async function refusal(req: GateRequest): Promise<UsageError> {
  const exec = vi.spyOn(execWrapper, 'exec');
  const error = await runGate(req, {
    progress: silentProgress,
    signal: new AbortController().signal,
    now: Date.now,
  }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(exec).not.toHaveBeenCalled();
  expect(error).toBeInstanceOf(UsageError);
  return error as UsageError;
}

describe('runGate refuses before anything runs', () => {
  it('the demo needs --version', async () => {
    const dir = mkdtempSync(join(root, 'demo-'));
    const e = await refusal(request(dir));
    expect(e.issues[0]).toMatchObject({ source: '--version', rule: expect.stringContaining('required for the demo') });
  });

  it.each([0, 0.5])("a user's service refuses --failure-rate %s (the demo's knob)", async (failureRate) => {
    const dir = mkdtempSync(join(root, 'user-'));
    writeFileSync(join(dir, 'chaos-gate.yml'), SERVICE);
    writeFileSync(join(dir, 'Dockerfile'), 'FROM node:24-alpine\n');
    const e = await refusal(request(dir, { failureRate }));
    expect(e.issues[0]).toMatchObject({ source: '--failure-rate', rule: expect.stringContaining('demo') });
  });
});
