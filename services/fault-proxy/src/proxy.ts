import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { systemClock, type Clock } from './clock.ts';
import type { Route } from './config.ts';
import { createHttpForwarder, type HttpForwarder } from './forward-http.ts';
import { TcpLink } from './forward-tcp.ts';
import { Holds, type RouteContext } from './route.ts';
import { sniff, SNIFF_MS, type Sniffed } from './sniff.ts';
import type { Toxic, Toxics } from './toxics.ts';

// The listeners: one per route, each connection sniffed and handed to the HTTP or TCP forwarder.

export interface ProxyOptions {
  /** Real time for sniffing and shaping (default: the system clock). */
  clock?: Clock;
  /** Where the routes listen (default 0.0.0.0; tests use 127.0.0.1). */
  host?: string;
  sniffMs?: number;
}

interface Listener {
  ctx: RouteContext;
  server: Server;
  http: HttpForwarder;
}

export type RouteJson = Route & RouteContext['stats'];

export class FaultProxy {
  readonly #toxics: Toxics;
  readonly #options: Required<ProxyOptions>;
  readonly #listeners: Listener[];
  readonly #sockets = new Set<Socket>();

  constructor(routes: readonly Route[], toxics: Toxics, options: ProxyOptions = {}) {
    this.#toxics = toxics;
    this.#options = { clock: systemClock, host: '0.0.0.0', sniffMs: SNIFF_MS, ...options };
    const holds = new Holds(toxics);
    this.#listeners = routes.map((route) => {
      const stats = { connections: 0, requests: 0, errors_upstream: 0 };
      const { clock } = this.#options;
      const ctx: RouteContext = { route: { ...route }, stats, toxics, clock, links: new Set(), holds };
      const server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.#accept(listener, socket));
      const listener: Listener = { ctx, server, http: createHttpForwarder(ctx) };
      return listener;
    });
    toxics.onAdd((toxic) => this.#strikeOpenLinks(toxic));
  }

  /** Listens on every route; rejects on the first port that cannot be had. */
  async listen(): Promise<void> {
    await Promise.all(
      this.#listeners.map(
        ({ ctx, server }) =>
          new Promise<void>((resolve, reject) => {
            server.once('error', reject);
            server.listen(ctx.route.listen_port, this.#options.host, () => {
              server.off('error', reject);
              // Later errors (EMFILE on accept) are logged, not fatal: the other connections carry on.
              server.on('error', (err) => console.error(`fault-proxy: route ${ctx.route.name}: ${err.message}`));
              // Port 0 (tests): report the port actually taken.
              ctx.route.listen_port = (server.address() as AddressInfo).port;
              resolve();
            });
          }),
      ),
    );
  }

  routes(): RouteJson[] {
    return this.#listeners.map(({ ctx }) => ({ ...ctx.route, ...ctx.stats }));
  }

  /** Stops listening and drops every connection at once: a stopping proxy owes nobody an answer. */
  async close(): Promise<void> {
    const closed = this.#listeners.map(({ server }) => new Promise((resolve) => server.close(resolve)));
    for (const socket of this.#sockets) socket.destroy();
    for (const { http } of this.#listeners) http.agent.destroy();
    await Promise.all(closed);
  }

  #accept(listener: Listener, socket: Socket): void {
    listener.ctx.stats.connections++;
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    // A client's reset is its own business; 'close' follows and cleans up.
    socket.on('error', () => {});
    void sniff(socket, this.#options.clock, this.#options.sniffMs).then((sniffed) => {
      if (sniffed) this.#dispatch(listener, socket, sniffed);
      else socket.destroy();
    });
  }

  #dispatch({ ctx, http }: Listener, socket: Socket, { protocol, head }: Sniffed): void {
    if (protocol === 'http') {
      socket.unshift(head);
      http.server.emit('connection', socket);
      socket.resume();
      return;
    }
    const verdict = this.#toxics.verdict(ctx.route.name, 'tcp');
    if (verdict.action === 'reset') socket.resetAndDestroy();
    else if (verdict.action === 'timeout') ctx.holds.hold(verdict.toxic, socket);
    else new TcpLink(ctx, socket, head);
  }

  /** A reset or timeout toxic also acts on the TCP connections already open (a pooled database connection). */
  #strikeOpenLinks(toxic: Toxic): void {
    const { kind, route } = toxic.spec;
    if (kind !== 'reset' && kind !== 'timeout') return;
    for (const { ctx } of this.#listeners) {
      if (ctx.route.name !== route) continue;
      for (const link of [...ctx.links]) {
        if (!this.#toxics.pick(toxic)) continue;
        if (kind === 'reset') link.reset();
        else link.hold(toxic);
      }
    }
  }
}
