// Types of app.js, for the TypeScript tests (the service itself is plain JavaScript).
import type { Server } from 'node:http';

export interface StartOptions {
  /** 3000; 0 = any free port. */
  port?: number;
  /** '0.0.0.0'. */
  host?: string;
  /** '/data': the folder of items.db. */
  dataDir?: string;
  /** The VERSION file's content. */
  version?: string;
  /** Shown by /version when set. */
  commit?: string;
  /** Test knob: wait this long before listening. */
  startDelaySeconds?: number;
  /** Test knob: /metrics answers 404. */
  noMetrics?: boolean;
  /** How long close() lets in-flight requests finish (5000). */
  graceMs?: number;
  log?: (line: string) => void;
}

export interface Service {
  server: Server;
  port: number;
  /** http://127.0.0.1:<port> */
  url: string;
  version: string;
  /** Resolves once the database is open (or close() began first). */
  ready: Promise<void>;
  /** Stops accepting, finishes in-flight requests (at most graceMs), closes the database. */
  close(): Promise<void>;
}

export function readVersion(): string;
export function start(options?: StartOptions): Promise<Service>;
