import { execa } from 'execa';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, gateIn, root, runAction } from './cli.ts';

// A team's own repository, gated as the README tells them to: examples/items copied into a
// fresh git repository, the candidate built from its HEAD and the baseline from HEAD~1. A good
// change opens the gate; a code change that fails a share of writes closes it and every
// region is rolled back to the baseline's image.

interface ReportJson {
  version: string;
  deployment_gate: string;
  gate: { reasons: string[] };
  rollout: { final_state: string; version: string } | null;
  environment: { notes: string[] };
}

const repo = mkdtempSync(join(tmpdir(), 'chaos-gate-items-'));
const git = async (...args: string[]) =>
  (
    await execa('git', args, {
      cwd: repo,
      env: { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' },
    })
  ).stdout.trim();

const gate = (reportDir: string, expectedExit: number, extra: readonly string[] = []) =>
  gateIn<ReportJson>(repo, reportDir, expectedExit, extra);

beforeAll(async () => {
  cpSync(join(root, 'examples/items'), repo, { recursive: true, filter: (src) => !src.includes('/test') });
  await git('init', '-q');
  await git('add', '-A');
  await git('commit', '-qm', 'first');
  writeFileSync(join(repo, 'VERSION'), '1.0.1\n');
  await git('commit', '-qam', 'a good change');
}, 60_000);

afterAll(async () => {
  await cli(['down']);
});

describe('gating your own service (examples/items)', () => {
  it("refuses the demo's failure-rate knob before anything runs", async () => {
    const res = await cli(['gate', '--failure-rate', '0.5'], { cwd: repo, timeoutMs: 60_000 });
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toMatch(/--failure-rate.*demo/);
  });

  it('opens the gate for a good commit, built from the workspace against HEAD~1', async () => {
    const head = await git('rev-parse', 'HEAD');
    const res = await gate('reports/good', 0);
    expect(res.report?.deployment_gate).toBe('OPEN');
    expect(res.report?.version).toBe(head.slice(0, 12));
    expect(res.report?.rollout?.final_state).toBe('COMPLETED');
    expect(res.report?.environment.notes.join('\n')).toMatch(/candidate .* (built in|reused)/);
  }, 900_000);

  it('opens the gate through the Action (dist/index.js) run in the repository as a runner runs it', async () => {
    const head = await git('rev-parse', 'HEAD');
    const res = await runAction(
      { config: 'chaos-gate.yml', 'report-dir': 'reports/action' },
      { workspace: repo, sha: head },
    );
    expect(res.exitCode, res.stdout).toBe(0);
    expect(res.outputs.gate).toBe('OPEN');
    expect(res.outputs['report-json']).toBe(join(repo, 'reports/action/report.json'));
    expect(res.summary).toContain(head.slice(0, 12));
  }, 900_000);

  it('handles a service that starts in 20 s, ignores SIGTERM and serves no metrics, and says what it could not do', async () => {
    const config = readFileSync(join(repo, 'chaos-gate.yml'), 'utf8')
      .replace(
        '  port: 3000\n',
        '  port: 3000\n  env: { START_DELAY_SECONDS: "20", IGNORE_SIGTERM: "1", NO_METRICS: "1" }\n',
      )
      .replace(/regions: \[[^\]]*\]/, 'regions: [us-west]')
      // The pre-flight and the controls would start the slow canary again: the start-up is what this test is about.
      .concat('predict:\n  enabled: false\ngate:\n  controls: { enabled: false }\n');
    expect(config).toContain('START_DELAY_SECONDS');
    writeFileSync(join(repo, 'awkward.yml'), config);
    try {
      const res = await gate('reports/awkward', 0, ['--config', 'awkward.yml']);
      expect(res.report?.deployment_gate).toBe('OPEN');
      expect(res.report?.environment.notes.join('\n')).toMatch(/service\.metrics: .*\/metrics answered HTTP 404/);
    } finally {
      rmSync(join(repo, 'awkward.yml'));
    }
  }, 900_000);

  it('closes the gate for a commit that fails a share of writes, and rolls every touched region back', async () => {
    await execa('git', ['apply', 'bugs/fail-writes.patch'], { cwd: repo });
    // Rolled back whatever the controls would show: they would only cost time here.
    await execa('sh', ['-c', 'printf "gate:\\n  controls: { enabled: false }\\n" >> chaos-gate.yml'], { cwd: repo });
    await git('commit', '-qam', 'a bug');
    const res = await gate('reports/bad', 1);
    expect(res.report?.deployment_gate).toBe('CLOSED');
    expect(res.report?.rollout?.final_state).toBe('ROLLED_BACK');
    // Rollbacks are verified by image id: a rollback that left the candidate's image would fail.
    expect(res.stdout + res.stderr).not.toMatch(/verification failed/i);
  }, 900_000);

  it('refuses a probe whose id field the service never answers (exit 2), and tears the stack down', async () => {
    const config = readFileSync(join(repo, 'chaos-gate.yml'), 'utf8').replace('      id: id\n', '      id: data.id\n');
    expect(config).toContain('id: data.id');
    writeFileSync(join(repo, 'bad-probe.yml'), config);
    try {
      const res = await cli(['gate', '--config', 'bad-probe.yml', '--only', 'none'], { cwd: repo, timeoutMs: 600_000 });
      expect(res.exitCode, res.stderr).toBe(2);
      expect(res.stderr).toMatch(/bad-probe\.yml.*service\.probe\.write\.id/);
      expect(res.stderr).toMatch(/has no id at "data\.id"/);
      expect(
        (await execa('docker', ['ps', '-aq', '--filter', 'label=com.docker.compose.project=chaos-gate'])).stdout,
      ).toBe('');
    } finally {
      rmSync(join(repo, 'bad-probe.yml'));
    }
  }, 600_000);

  it('names baseline.ref when the previous commit is not there (a shallow checkout)', async () => {
    const shallow = mkdtempSync(join(tmpdir(), 'chaos-gate-shallow-'));
    await execa('git', ['clone', '-q', '--depth', '1', `file://${repo}`, shallow]);
    const res = await cli(['gate', '--report-dir', 'reports'], { cwd: shallow, timeoutMs: 300_000 });
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toMatch(/baseline\.ref/);
    expect(res.stderr).toMatch(/fetch-depth/);
  }, 300_000);
});
