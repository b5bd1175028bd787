// The root `preinstall` (issue 16). npm runs it once the dependencies are in place, with
// node_modules/.bin first on PATH. On a machine whose own Node is older than 24, it says in
// one line where Node 24 comes from (the `node` devDependency); it fails when that is missing.
// Plain JavaScript that Node 20 runs too: it may run before the project's Node exists.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REQUIRED_MAJOR = 24;
const major = (version) => Number(/^v?(\d+)/.exec(version)?.[1] ?? 0);

/** The Node npm itself runs on, from its user agent ("npm/11.6.2 node/v20.19.5 linux x64"). */
const npmNode = /\bnode\/(v[\d.]+)/.exec(process.env.npm_config_user_agent ?? '')?.[1] ?? process.version;

/** The Node the project's scripts and tests run on: node_modules/.bin/node. */
function projectNode() {
  const bin = fileURLToPath(new URL('../node_modules/.bin/node', import.meta.url));
  try {
    return execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
  } catch (e) {
    return `none (${bin}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)})`;
  }
}

const project = projectNode();
if (major(project) < REQUIRED_MAJOR) {
  console.error(
    `chaos-gate: needs Node ${REQUIRED_MAJOR} from the "node" devDependency, found ${project}: ` +
      'run npm ci again (it installs it from the npm registry)',
  );
  process.exit(1);
}
if (major(npmNode) < REQUIRED_MAJOR) {
  console.log(
    `chaos-gate: npm ran on Node ${npmNode}; the project runs on Node ${project} from the "node" ` +
      'devDependency (node_modules/.bin/node, first on PATH in npm scripts and scripts/test.sh). ' +
      'Engine warnings are off (.npmrc loglevel=error); `npm ci --loglevel=warn` shows them.',
  );
}
