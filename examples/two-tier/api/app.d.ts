// Types of app.js, for the TypeScript tests (the service itself is plain JavaScript).
import type { Server } from 'node:http';

export interface StartOptions {
  /** 3000; 0 = any free port. */
  port?: number;
  /** '0.0.0.0'. */
  host?: string;
  /** 'http://worker:4000'. */
  workerUrl?: string;
  /** Per call to the worker (2000). */
  workerTimeoutMs?: number;
  /** The VERSION file's content. */
  version?: string;
  /** Shown by /version when set. */
  commit?: string;
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
  /** Stops accepting, finishes in-flight requests (at most graceMs). */
  close(): Promise<void>;
}

/** 'x-failed-hop' */
export const HOP_HEADER: string;
export function readVersion(): string;
export function start(options?: StartOptions): Promise<Service>;
