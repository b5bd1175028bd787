import { systemClock } from './clock.ts';
import { parseProxyConfig } from './config.ts';
import { createControlServer } from './control.ts';
import { FaultProxy } from './proxy.ts';
import { Toxics } from './toxics.ts';

// The fault proxy as a process: configuration from the environment, the route listeners, the
// control API, and a prompt stop on SIGTERM/SIGINT.

const EX_CONFIG = 78;
const STOP_DEADLINE_MS = 900;

async function main(): Promise<void> {
  const parsed = parseProxyConfig(process.env);
  if (!parsed.ok) {
    for (const error of parsed.errors) process.stderr.write(`fault-proxy: config error: ${error}\n`);
    process.exitCode = EX_CONFIG;
    return;
  }
  const { routes, controlPort } = parsed.config;
  const toxics = new Toxics(systemClock, Math.random);
  const proxy = new FaultProxy(routes, toxics);
  const control = createControlServer({ toxics, clock: systemClock, routes: () => proxy.routes() });
  try {
    await proxy.listen();
    await new Promise<void>((resolve, reject) => control.once('error', reject).listen(controlPort, '0.0.0.0', resolve));
  } catch (err) {
    console.error(`fault-proxy: cannot listen: ${(err as Error).message}`);
    process.exit(1);
  }
  const list = routes.map((r) => `${r.name}:${r.listen_port}->${r.upstream_host}:${r.upstream_port}`).join(' ');
  console.log(`fault-proxy control=${controlPort} routes=${list}`);

  const stop = (signal: NodeJS.Signals): void => {
    console.log(`fault-proxy: ${signal}, lifting every toxic and closing`);
    // Nothing here is worth waiting for: a held or delayed connection only delays the stop.
    setTimeout(() => process.exit(0), STOP_DEADLINE_MS).unref();
    toxics.liftAll();
    control.closeAllConnections();
    void Promise.all([proxy.close(), new Promise((resolve) => control.close(resolve))]).then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

void main();
