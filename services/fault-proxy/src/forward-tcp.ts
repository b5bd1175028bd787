import { connect, type Socket } from 'node:net';
import { Shaper } from './shaper.ts';
import type { RouteContext } from './route.ts';
import type { Toxic } from './toxics.ts';

// A raw TCP pipe between a client and the route's upstream (PostgreSQL, Redis, a WebSocket
// after its upgrade): bytes as they come, with latency and bandwidth on the way back.

export class TcpLink {
  readonly client: Socket;
  readonly #ctx: RouteContext;
  #upstream: Socket | null = null;
  #shaper: Shaper | null = null;
  /** Toxic ids already counted for this connection: a connection counts once per toxic. */
  readonly #seen = new Set<number>();
  #stopped = false;

  /** Connects upstream, sends head (bytes the client already sent), then pipes both ways. */
  constructor(ctx: RouteContext, client: Socket, head: Buffer) {
    this.#ctx = ctx;
    this.client = client;
    ctx.links.add(this);
    client.once('close', () => this.#close());
    const { upstream_host: host, upstream_port: port } = ctx.route;
    const upstream = connect({ host, port, noDelay: true, allowHalfOpen: true });
    this.#upstream = upstream;
    upstream.on('error', () => {
      ctx.stats.errors_upstream++;
      // A reset, not a clean end: the client must not mistake a dead upstream for a finished answer.
      if (!client.destroyed) client.resetAndDestroy();
    });
    upstream.once('connect', () => this.#pipe(upstream, head));
  }

  #pipe(upstream: Socket, head: Buffer): void {
    if (this.#stopped) return;
    const { client } = this;
    const shaper = new Shaper(this.#ctx.clock, () => this.#ctx.toxics.shaping(this.#ctx.route.name, this.#seen));
    this.#shaper = shaper;
    if (head.length > 0) upstream.write(head);
    // The client may have half-closed while we sniffed: its 'end' has been and gone.
    if (client.readableEnded) upstream.end();
    else client.pipe(upstream);
    upstream.pipe(shaper).pipe(client);
  }

  /** reset toxic: the client gets an RST now. */
  reset(): void {
    this.client.resetAndDestroy();
  }

  /** timeout toxic: nothing more goes either way until the toxic ends, then both sides close. */
  hold(toxic: Toxic): void {
    const upstream = this.#upstream;
    this.#stopped = true;
    this.client.unpipe();
    this.client.pause();
    upstream?.unpipe();
    upstream?.pause();
    this.#shaper?.unpipe();
    this.#shaper?.destroy();
    this.#ctx.holds.hold(toxic, this.client);
  }

  #close(): void {
    this.#ctx.links.delete(this);
    this.#upstream?.destroy();
    this.#shaper?.destroy();
  }
}
