// The benchmark harness: `npm run bench` (Node 24 first on PATH) runs every section below
// and prints ONE JSON object to stdout, `{ "<section>": { ...numbers } }`; progress goes to
// stderr. Numbers, not pass/fail: compare them across commits.
//
// A section is a sibling module exporting `name` (the key in the output) and
// `async run({ root, log })` returning a JSON-serializable object. To add one, write
// bench/<name>.mjs and add it to SECTIONS. `node bench/run.mjs service` runs only the
// named sections.
//
// All traffic goes to loopback, and every request loop is bounded in time and count.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as service from './service.mjs';
import * as simulation from './simulate.mjs';
import * as rollout from './rollout.mjs';
import * as chaos from './chaos.mjs';
import * as prediction from './predict.mjs';
import * as userService from './user-service.mjs';
import * as differential from './differential.mjs';
import * as trust from './trust.mjs';

/** @type {{ name: string, run: (ctx: { root: string, log: (line: string) => void }) => Promise<unknown> }[]} */
const SECTIONS = [service, simulation, prediction, rollout, chaos, userService, differential, trust];

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const log = (line) => process.stderr.write(`[bench] ${line}\n`);

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !SECTIONS.some((s) => s.name === w));
if (unknown.length > 0) {
  log(`unknown section(s): ${unknown.join(', ')}; known: ${SECTIONS.map((s) => s.name).join(', ')}`);
  process.exit(2);
}
const major = Number(process.versions.node.split('.')[0]);
if (major < 24)
  log(
    `warning: running on Node ${process.version}; the project targets Node 24 (npm run bench puts node_modules/.bin first on PATH)`,
  );

const results = {};
let failed = false;
for (const section of SECTIONS.filter((s) => wanted.length === 0 || wanted.includes(s.name))) {
  log(`${section.name}: start`);
  const started = performance.now();
  try {
    results[section.name] = await section.run({ root, log: (line) => log(`${section.name}: ${line}`) });
    log(`${section.name}: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } catch (err) {
    failed = true;
    const message = err instanceof Error ? err.message : String(err);
    log(`${section.name}: FAILED: ${message}`);
    results[section.name] = { error: message };
  }
}

process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
process.exitCode = failed ? 1 : 0;
