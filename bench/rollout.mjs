// Live rollout benchmark on the Compose stack (brought up if needed): `deploy v3 0.8` run
// BENCH_ROLLOUT_RUNS times (default 5) from a healthy stable version, reporting the median
// and range of time to detect (first breach of a limit -> red verdict; src/rollout/detect.ts)
// and time to roll back (red verdict -> every touched region verified on stable), for each
// judgement source configuration in CONFIGS, over the runs that ended ROLLED_BACK (the
// others are counted apart). Numbers, not pass/fail. Traffic goes to loopback only.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const name = 'rollout';

// Each entry: a label and the chaos-gate.yml text it runs with (null = defaults).
const CONFIGS = [
  ['synthetic', null],
  [
    'prometheus_only',
    'rollout:\n  analysis: { sources: [prometheus] }\nprometheus:\n  checks:\n    - { name: error-rate, template: error_rate, max: 0.05 }\n',
  ],
];

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return null;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export async function run({ root, log }) {
  const runs = Number(process.env.BENCH_ROLLOUT_RUNS ?? 5);
  const cli = (args, ok = [0]) => {
    try {
      return {
        status: 0,
        out: execFileSync(process.execPath, ['bin/chaos-gate.js', ...args], {
          cwd: root,
          stdio: ['ignore', 'pipe', 'pipe'],
          timeout: 600_000,
        }).toString(),
      };
    } catch (e) {
      if (!ok.includes(e.status))
        throw new Error(`chaos-gate ${args.join(' ')} exited ${e.status}: ${String(e.stderr).slice(-500)}`);
      return { status: e.status, out: String(e.stdout) };
    }
  };
  const dir = mkdtempSync(join(tmpdir(), 'bench-rollout-'));
  log('bringing the stack up');
  cli(['up']);
  const out = {};
  for (const [label, yaml] of CONFIGS) {
    const config = yaml ? join(dir, `${label}.yml`) : undefined;
    if (config) writeFileSync(config, yaml);
    const detect = [];
    const rollback = [];
    const stalls = [];
    let untimed = 0;
    let notRolledBack = 0;
    for (let i = 0; i < runs; i++) {
      log(`${label}: deploy v3 0.8, run ${i + 1}/${runs}`);
      const file = join(dir, `${label}-${i}.json`);
      const res = cli(
        ['deploy', 'v3', '0.8', '--result-file', file, ...(config ? ['--config', config] : [])],
        [0, 1, 2, 3],
      );
      if (res.status === 2) throw new Error(`${label}: configuration refused; is this judgement source implemented?`);
      const r = JSON.parse(readFileSync(file, 'utf8'));
      // The gate's own event loop: a stall here would be read as service latency.
      stalls.push(r.traffic.max_client_stall_ms);
      untimed += r.traffic.untimed;
      if (r.final_state !== 'ROLLED_BACK') {
        log(`${label}: run ${i + 1} ended ${r.final_state}; left out of the medians`);
        notRolledBack++;
        continue;
      }
      if (r.time_to_detect_ms !== null) detect.push(r.time_to_detect_ms);
      if (r.time_to_rollback_ms !== null) rollback.push(r.time_to_rollback_ms);
    }
    const spread = (xs) =>
      xs.length === 0
        ? { median: null, min: null, max: null, n: 0 }
        : { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length };
    out[label] = {
      runs,
      not_rolled_back: notRolledBack,
      time_to_detect_ms: spread(detect),
      time_to_rollback_ms: spread(rollback),
      max_client_stall_ms: spread(stalls),
      untimed_requests: untimed,
    };
  }
  return out;
}
