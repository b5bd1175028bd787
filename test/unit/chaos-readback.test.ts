import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBackWrites } from '../../src/chaos/readback.ts';
import type { AcknowledgedWrite } from '../../src/traffic/store.ts';
import { userWorkload } from '../../src/traffic/workload.ts';

// The read-back against a loopback server that answers like the demo region service:
// GET /api/orders/:id is 200 {item}, 404 when the order is not there; order 4 is busy (503).
let server: Server;
let baseUrl = '';
const orders = new Map<string, string>([
  ['1', 'cg-1'],
  ['3', 'cg-garbled'],
]);

beforeAll(async () => {
  server = createServer((req, res) => {
    const id = /^\/api\/orders\/(\w+)$/.exec(req.url ?? '')?.[1] ?? '';
    const item = orders.get(id);
    if (id === '4') res.writeHead(503).end('busy');
    else if (item === undefined) res.writeHead(404).end('{}');
    else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: Number(id), item }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function order(id: number): AcknowledgedWrite {
  return { id, region: 'us-west', cohort: 'canary', version: 'v2', at: 0, item: `cg-${id}` };
}

describe('readBackWrites', () => {
  it("reads the demo's orders by default: gone or another item is lost, no clean answer by the deadline unverified", async () => {
    const result = await readBackWrites([order(1), order(2), order(3), order(4)], () => baseUrl, { deadlineMs: 300 });
    expect(result).toEqual({ checked: 4, missing: 2, unverified: 1 });
  });

  it('checks nothing when there is nothing to check', async () => {
    expect(await readBackWrites([], () => baseUrl)).toEqual({ checked: 0, missing: 0, unverified: 0 });
  });

  it('counts writes unverified when the workload cannot read them back', async () => {
    const workload = userWorkload({ health: { path: '/health', expectStatus: [200] }, traffic: [], probe: undefined });
    expect(await readBackWrites([order(1)], () => baseUrl, { workload })).toEqual({
      checked: 1,
      missing: 0,
      unverified: 1,
    });
  });
});
