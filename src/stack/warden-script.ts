// The program a warden container runs (`node -e WARDEN_SCRIPT PLAN`): sleep until the
// fault's expiry, or until FIRE_SIGNAL, then run each undo step (warden-args.ts) through the
// Docker Engine API on the mounted socket, print what it did, and exit 0 when every step
// held. Plain JavaScript, self-contained, because it runs in the stack's Node image.
export const WARDEN_SCRIPT = String.raw`
'use strict';
const http = require('node:http');
const plan = JSON.parse(process.argv[1]);
function api(method, path, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: plan.socket, method, path, timeout: 15000,
      headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('timeout', () => req.destroy(new Error('the Docker API did not answer in 15 s')));
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}
async function inspect(id) {
  const r = await api('GET', '/containers/' + encodeURIComponent(id) + '/json');
  if (r.status !== 200) throw new Error('inspect ' + id + ': HTTP ' + r.status + ' ' + r.text.trim());
  return JSON.parse(r.text);
}
async function connect(id, network, aliases) {
  const r = await api('POST', '/networks/' + encodeURIComponent(network) + '/connect',
    { Container: id, EndpointConfig: { Aliases: aliases } });
  if (r.status !== 200 && !/already exists/.test(r.text)) throw new Error('connect ' + network + ': ' + r.text.trim());
}
async function disconnect(id, network) {
  const r = await api('POST', '/networks/' + encodeURIComponent(network) + '/disconnect',
    { Container: id, Force: true });
  if (r.status !== 200 && !/is not connected/.test(r.text)) {
    throw new Error('disconnect ' + network + ': ' + r.text.trim());
  }
}
const steps = {
  async reconnect(s) {
    const now = (await inspect(s.container)).NetworkSettings.Networks || {};
    for (const [n, aliases] of Object.entries(s.networks)) if (!(n in now)) await connect(s.container, n, aliases);
  },
  async 'reset-network'(s) {
    for (const [n, aliases] of Object.entries(s.networks)) {
      await disconnect(s.container, n);
      await connect(s.container, n, aliases);
    }
  },
  async 'lift-endpoint'(s) {
    // A service that does not answer holds no fault: its faults live in its process.
    const res = await fetch(s.url, { method: 'DELETE', headers: { authorization: 'Bearer ' + process.env.FAULT_TOKEN },
      signal: AbortSignal.timeout(5000) }).catch((e) => ({ status: 'no answer (' + e.message + ')' }));
    console.log('  ' + s.url + ': ' + res.status);
  },
  async start(s) {
    if ((await inspect(s.container)).State.Running) return;
    const r = await api('POST', '/containers/' + encodeURIComponent(s.container) + '/start');
    if (r.status !== 204 && r.status !== 304) throw new Error('start: ' + r.text.trim());
  },
  async unpause(s) {
    if (!(await inspect(s.container)).State.Paused) return;
    const r = await api('POST', '/containers/' + encodeURIComponent(s.container) + '/unpause');
    if (r.status !== 204) throw new Error('unpause: ' + r.text.trim());
  },
  async 'memory-limit'(s) {
    // As restoreMemoryArgs: the swap limit raised first (cgroup v1), then the old limit; Docker
    // cannot remove a memory limit, so none comes back as the host's whole memory.
    const now = (await inspect(s.container)).HostConfig;
    const memory = s.memory > 0 ? s.memory : JSON.parse((await api('GET', '/info')).text).MemTotal;
    const swap = s.memory > 0 && s.memorySwap > 0 ? s.memorySwap : -1;
    const raised = swap > 0 ? swap : 2 * memory;
    for (const body of [{ Memory: now.Memory, MemorySwap: raised }, { Memory: memory, MemorySwap: swap }]) {
      const r = await api('POST', '/containers/' + encodeURIComponent(s.container) + '/update', body);
      if (r.status !== 200) throw new Error('update: ' + r.text.trim());
    }
  },
  async 'cpu-limit'(s) {
    // A quota of -1 is "none" for the kernel; --cpus, where the container had it, comes back as it was.
    const body = s.nanoCpus > 0 ? { NanoCpus: s.nanoCpus } : { CpuQuota: s.cpuQuota > 0 ? s.cpuQuota : -1 };
    const r = await api('POST', '/containers/' + encodeURIComponent(s.container) + '/update', body);
    if (r.status !== 200) throw new Error('update: ' + r.text.trim());
  },
};
let fired = false;
async function fire(why) {
  if (fired) return;
  fired = true;
  let failed = 0;
  for (const s of plan.undo) {
    try { await steps[s.kind](s); console.log('undone (' + why + '): ' + s.kind + ' ' + (s.container || s.url)); }
    catch (e) { failed += 1; console.error('could not undo ' + s.kind + ': ' + e.message); }
  }
  process.exit(failed > 0 ? 1 : 0);
}
const timer = setTimeout(() => fire('expiry'), Math.max(0, plan.expiresAt - Date.now()));
process.on('SIGUSR2', () => { clearTimeout(timer); fire('asked'); });
process.on('SIGTERM', () => process.exit(143));
console.log('warden: ' + plan.undo.length + ' step(s) at ' + new Date(plan.expiresAt).toISOString());
`;
