// One bundler (esbuild) builds every committed bundle:
//   services/region/dist/server.js  the region service, the only file its image needs
//   services/fault-proxy/dist/proxy.js  the fault-injecting proxy (node: built-ins only), its image's only file
//   dist/index.js                   the GitHub Action (main and post steps), once src/action exists
// `node scripts/build.mjs --check` rebuilds into a temp dir and fails when a committed
// bundle differs, so CI catches a stale bundle.
import { build } from 'esbuild';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
const outRoot = check ? mkdtempSync(join(tmpdir(), 'chaos-gate-build-')) : root;

// CommonJS dependencies (prom-client) call require() on Node built-ins; an ESM bundle needs
// a real require for that.
const banner = {
  js: "import { createRequire as __cgCreateRequire } from 'node:module';\nconst require = __cgCreateRequire(import.meta.url);",
};

const bundles = [
  { entry: 'services/region/src/main.ts', out: 'services/region/dist/server.js' },
  { entry: 'services/fault-proxy/src/main.ts', out: 'services/fault-proxy/dist/proxy.js' },
  { entry: 'src/action/index.ts', out: 'dist/index.js' },
].filter((b) => existsSync(join(root, b.entry)));

let stale = [];
for (const b of bundles) {
  await build({
    entryPoints: [join(root, b.entry)],
    outfile: join(outRoot, b.out),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    banner,
    legalComments: 'none',
    logLevel: 'warning',
  });
  if (check) {
    const committed = join(root, b.out);
    const fresh = readFileSync(join(outRoot, b.out), 'utf8');
    if (!existsSync(committed) || readFileSync(committed, 'utf8') !== fresh) stale.push(b.out);
  } else {
    console.log(`built ${b.out}`);
  }
}
if (stale.length > 0) {
  console.error(`stale bundle(s): ${stale.join(', ')}; run 'npm run build' and commit the result`);
  process.exit(1);
}
if (check) console.log(`bundles up to date: ${bundles.map((b) => b.out).join(', ')}`);
