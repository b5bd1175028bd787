import type { Socket } from 'node:net';
import type { Clock } from './clock.ts';
import type { Route } from './config.ts';
import type { TcpLink } from './forward-tcp.ts';
import type { Toxic, Toxics } from './toxics.ts';

// What the forwarders of one route share: its counters, the toxic table and the held sockets.

export interface RouteStats {
  /** Accepted client connections, HTTP and TCP alike. */
  connections: number;
  /** HTTP requests received (including those a toxic answered or dropped). */
  requests: number;
  /** Upstream connections or exchanges that failed. */
  errors_upstream: number;
}

export interface RouteContext {
  route: Route;
  stats: RouteStats;
  toxics: Toxics;
  /** Real time for shaping and sniffing; the toxic table may run on another (test) clock. */
  clock: Clock;
  /** Open raw TCP links, so a reset or timeout toxic also reaches connections already open. */
  links: Set<TcpLink>;
  holds: Holds;
}

/** Sockets a timeout toxic holds, closed when that toxic ends (expiry, DELETE or shutdown). */
export class Holds {
  readonly #toxics: Toxics;
  readonly #held = new Map<number, Set<Socket>>();

  constructor(toxics: Toxics) {
    this.#toxics = toxics;
    toxics.onLift((toxic) => this.release(toxic.id));
  }

  hold(toxic: Toxic, socket: Socket): void {
    // Lifted between the verdict and now: never forward later, so just close.
    if (!this.#toxics.isActive(toxic.id)) return void socket.destroy();
    let sockets = this.#held.get(toxic.id);
    if (!sockets) this.#held.set(toxic.id, (sockets = new Set()));
    sockets.add(socket);
    socket.pause();
    socket.once('close', () => sockets.delete(socket));
  }

  release(id: number): void {
    const sockets = this.#held.get(id);
    this.#held.delete(id);
    for (const socket of sockets ?? []) socket.destroy();
  }

  get size(): number {
    let n = 0;
    for (const sockets of this.#held.values()) n += sockets.size;
    return n;
  }
}
