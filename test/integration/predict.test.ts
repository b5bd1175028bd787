import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ComposeStack } from '../../src/stack/compose-stack.ts';
import { cli, freshStack, root } from './cli.ts';

// The prediction on the live stack: a short pre-flight (2 profiles of 3 s in us-west), a
// two-region rollout of two 2 s stages, the history in a temporary file.
const dir = mkdtempSync(join(tmpdir(), 'chaos-gate-predict-'));
const historyFile = join(dir, 'history.jsonl');
const validate = new Ajv2020({ allErrors: true, strict: false }).compile(
  JSON.parse(readFileSync(join(root, 'schemas/report.schema.json'), 'utf8')) as object,
);

function config(name: string, onHighRisk: 'close' | 'small_tiers', history = historyFile): string {
  const file = join(dir, `${name}.yml`);
  writeFileSync(
    file,
    `rollout:
  regions: [us-west, us-east]
  bake_seconds: 2
  stages:
    - { weight: 10 }
    - { weight: 100 }
  analysis: { stage_deadline_seconds: 20 }
predict:
  on_high_risk: ${onHighRisk}
  preflight:
    seconds: 3
    profiles:
      - { name: low, rps: 15, write_share: 0.3 }
      - { name: peak, rps: 40, write_share: 0.5 }
  history: { file: ${JSON.stringify(history)} }
# What is tested here is the prediction: the controls would only add their time to every gate.
gate:
  controls: { enabled: false }
`,
  );
  return file;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- JSON as a reader gets it */
const readJson = (file: string): any => JSON.parse(readFileSync(file, 'utf8'));
const historyLines = (file = historyFile): any[] =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

let stack: ComposeStack;
beforeAll(async () => {
  stack = await freshStack();
});

describe('chaos-gate predict', () => {
  it('gives a healthy candidate a low score and proceeds, and leaves no canary behind', async () => {
    const res = await cli(['predict', '--version', 'v2', '--json', '--config', config('healthy', 'small_tiers')], {
      timeoutMs: 90_000,
    });
    expect(res.exitCode, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout);
    expect(out.prediction.risk.score).toBeLessThan(out.prediction.action.max_risk);
    expect(out.prediction.action.action).toBe('proceed');
    expect(out.prediction.stages.map((s: any) => s.weight)).toEqual([10, 100]);
    expect(out.prediction.preflight.profiles.map((p: any) => p.canary.count)).toEqual([
      expect.any(Number),
      expect.any(Number),
    ]);
    expect(out.history.problems[0]).toMatch(/no history yet/);
    const status = await stack.status();
    expect(status.regions.map((r) => r.canary)).toEqual([undefined, undefined, undefined, undefined]);
    process.stderr.write(
      `predict healthy: risk ${out.prediction.risk.score}, pre-flight ${out.preflight_run.duration_ms} ms\n`,
    );
  });

  it('removes the pre-flight canary when interrupted by SIGINT', async () => {
    const child = execa(
      process.execPath,
      ['bin/chaos-gate.js', 'predict', '--version', 'v2', '--config', config('interrupted', 'small_tiers')],
      { cwd: root, reject: false, stdin: 'ignore', timeout: 90_000 },
    );
    // Interrupt once the canary answers: the pre-flight is then mid-profile.
    let stderr = '';
    await new Promise<void>((done) => {
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (/canary answers on/.test(stderr)) done();
      });
      void child.then(() => done());
    });
    child.kill('SIGINT');
    const res = await child;
    expect(res.exitCode, String(res.stderr)).toBe(130);
    expect((await stack.status()).regions.map((r) => r.canary)).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('refuses a bad version before anything runs', async () => {
    const res = await cli(['predict', '--version', 'v2;rm -rf /']);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toMatch(/must be a plain tag/);
  });
});

describe('the gate with prediction', () => {
  it('closes the gate before the rollout for a failure rate of 0.8 under on_high_risk: close', async () => {
    const reports = join(dir, 'closed');
    const res = await cli(
      [
        'gate',
        '--version',
        'v3',
        '--failure-rate',
        '0.8',
        '--only',
        'none',
        '--config',
        config('close', 'close'),
        '--report-dir',
        reports,
        '--keep-stack',
      ],
      { timeoutMs: 90_000 },
    );
    expect(res.exitCode, res.stderr).toBe(1);
    const report = readJson(join(reports, 'report.json'));
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    expect(report.prediction.risk.score).toBeGreaterThan(90);
    expect(report.prediction.action.action).toBe('close');
    expect(report.rollout).toBeNull();
    expect(report.gate.reasons[0]).toMatch(/^risk score [\d.]+ above predict.max_risk 50: closed before the rollout/);
    expect(historyLines().at(-1)).toMatchObject({ verdict: 'CLOSED', rollout: 'NOT_RUN', risk: { action: 'close' } });
    process.stderr.write(`gate 0.8 close: risk ${report.prediction.risk.score}\n`);
  });

  it('stops a failure rate of 0.8 at the first small tier under on_high_risk: small_tiers', async () => {
    const reports = join(dir, 'tiers');
    const res = await cli(
      [
        'gate',
        '--version',
        'v3',
        '--failure-rate',
        '0.8',
        '--only',
        'none',
        '--config',
        config('tiers', 'small_tiers'),
        '--report-dir',
        reports,
        '--keep-stack',
      ],
      { timeoutMs: 90_000 },
    );
    expect(res.exitCode, res.stderr).toBe(1);
    const report = readJson(join(reports, 'report.json'));
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    expect(report.prediction.action.action).toBe('small-tiers');
    expect(report.prediction.stages.map((s: any) => s.weight)).toEqual([0.1, 0.5, 10, 100]);
    expect(report.rollout.final_state).toBe('ROLLED_BACK');
    expect(report.rollout.stages.map((s: any) => [s.region, s.weight])).toEqual([['us-west', 0.1]]);
    expect(report.prediction.stages[0].observed[0].region).toBe('us-west');
  });

  it('records a healthy run in the history, and the next prediction reads it', async () => {
    // A history of its own: the failed candidates above would raise this run's score.
    const ownHistory = join(dir, 'healthy-history.jsonl');
    const before = 0;
    const reports = join(dir, 'open');
    const file = config('open', 'small_tiers', ownHistory);
    const res = await cli(
      ['gate', '--version', 'v2', '--only', 'none', '--config', file, '--report-dir', reports, '--keep-stack'],
      { timeoutMs: 90_000 },
    );
    expect(res.exitCode, res.stderr).toBe(0);
    const report = readJson(join(reports, 'report.json'));
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    expect(report.rollout.final_state).toBe('COMPLETED');
    const lines = historyLines(ownHistory);
    expect(lines).toHaveLength(before + 1);
    const last = lines.at(-1);
    expect(last).toMatchObject({ verdict: 'OPEN', rollout: 'COMPLETED', version: 'v2', risk: { action: 'proceed' } });
    expect(last.regions.map((r: any) => r.outcome)).toEqual(['promoted', 'promoted']);
    expect(last.prediction_accuracy.stages).toBe(4);
    // Inside the predicted error-rate range at every stage and region: the candidate fails no
    // request (FAILURE_RATE 0), and with no failed history the range starts at 0 (measured 16
    // of 16 over earlier runs). The p99 is recorded beside its range but not asserted: at a few
    // ms it follows the host's scheduler, and the measured share inside is 9 of 16
    // (docs/prediction.md).
    const observed = report.prediction.stages.flatMap((s: any) =>
      s.observed.map((o: any) => [s.weight, o.region, o.error_rate.position]),
    );
    expect(observed).toHaveLength(4);
    expect(
      observed.filter((o: any[]) => o[2] !== 'inside'),
      JSON.stringify(observed),
    ).toEqual([]);
    expect(report.prediction.history.trends.runs).toBe(before + 1);
    process.stderr.write(
      `gate healthy: risk ${report.prediction.risk.score}, accuracy ${JSON.stringify(last.prediction_accuracy)}, pre-flight ${last.durations_ms.preflight} ms\n`,
    );

    // A corrupt line (a crash mid-write, a bad merge) is reported and skipped; the rest is read.
    appendFileSync(ownHistory, 'not json\n');
    const next = await cli(['predict', '--version', 'v4', '--json', '--config', file], { timeoutMs: 90_000 });
    expect(next.exitCode, next.stderr).toBe(0);
    const out = JSON.parse(next.stdout);
    expect(out.history.runs).toBe(before + 1);
    expect(out.history.problems).toEqual([expect.stringMatching(new RegExp(`:${before + 2}: not JSON`))]);
    expect(out.prediction.models.error_rate.prior.source).toBe('history');
    expect(out.prediction.models.error_rate.prior.runs).toBe(1);
  });
});
