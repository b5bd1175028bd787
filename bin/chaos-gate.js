#!/usr/bin/env node
// Runs the TypeScript sources directly: Node 24 strips types natively, so the CLI needs no
// build step. `npm install` puts Node 24 at node_modules/.bin/node, which npm and npx put
// first on PATH.
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  console.error(
    `chaos-gate needs Node 24 or newer (this is ${process.version}); run it through npx or npm, which use node_modules/.bin/node`,
  );
  process.exit(2);
}
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
