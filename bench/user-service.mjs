// Benchmark of the gate on a user's service: examples/items copied into a fresh git
// repository (two commits), then `chaos-gate gate` run twice in it. The first run builds the
// candidate and the baseline; the second finds both images by their context key and reuses
// them. Then examples/two-tier once (API, worker built from its dependencies file,
// PostgreSQL, and its own chaos suite). Prints each run's phases (build, stack_up, baseline,
// suite, rollout, down) in ms, as the report's environment.phases records them, and the wall
// time of each run.
//
// Environment (optional): BENCH_GATE_TIMEOUT_SECONDS (default 900) bounds each run.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const name = 'user_service';

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'bench',
  GIT_AUTHOR_EMAIL: 'bench@localhost',
  GIT_COMMITTER_NAME: 'bench',
  GIT_COMMITTER_EMAIL: 'bench@localhost',
};

function repository(root, example, versionFile) {
  const repo = mkdtempSync(join(tmpdir(), `chaos-gate-bench-${example}-`));
  cpSync(join(root, 'examples', example), repo, {
    recursive: true,
    filter: (src) => !src.startsWith(join(root, 'examples', example, 'test')),
  });
  const git = (...args) => execFileSync('git', args, { cwd: repo, env: GIT_ENV, stdio: 'ignore' });
  git('init', '-q');
  git('add', '-A');
  git('commit', '-qm', 'baseline');
  writeFileSync(join(repo, versionFile), '1.0.1\n');
  git('commit', '-qam', 'candidate');
  return repo;
}

function gate(root, repo, reportDir) {
  const timeout = Number(process.env.BENCH_GATE_TIMEOUT_SECONDS ?? 900) * 1000;
  const started = performance.now();
  try {
    execFileSync(process.execPath, [join(root, 'bin/chaos-gate.js'), 'gate', '--report-dir', reportDir], {
      cwd: repo,
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout,
    });
  } catch (e) {
    // Exit 1 (gate CLOSED) still wrote a report; anything else is the benchmark's failure.
    if (e.status !== 1) throw new Error(`chaos-gate gate exited ${e.status}: ${String(e.stderr).slice(-2000)}`);
  }
  const wallMs = Math.round(performance.now() - started);
  const report = JSON.parse(readFileSync(join(repo, reportDir, 'report.json'), 'utf8'));
  const scenarios = report.scenarios.map((e) => `${e.name} ${e.status}`);
  return {
    gate: report.deployment_gate,
    wall_ms: wallMs,
    phases_ms: Object.fromEntries(report.environment.phases.map((p) => [p.name, p.ms])),
    ...(scenarios.length ? { scenarios } : {}),
  };
}

export async function run({ root, log }) {
  const repo = repository(root, 'items', 'VERSION');
  const twoTier = repository(root, 'two-tier', 'api/VERSION');
  try {
    log(`first run (builds both images) in ${repo}`);
    const first = gate(root, repo, 'reports/first');
    log(`second run (images reused): first took ${first.wall_ms} ms`);
    const second = gate(root, repo, 'reports/second');
    log(`two-tier (worker built, PostgreSQL, its chaos suite) in ${twoTier}`);
    const two_tier = gate(root, twoTier, 'reports/two-tier');
    return { first, second, two_tier };
  } finally {
    rmSync(repo, { recursive: true, force: true });
    rmSync(twoTier, { recursive: true, force: true });
  }
}
