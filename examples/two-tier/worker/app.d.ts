// Types of app.js, for the TypeScript tests (the service itself is plain JavaScript).
import type { Server } from 'node:http';
import type { QueryResult } from './pg.js';

/** What the worker needs of a database: pg.js's pool, or a fake in tests. */
export interface Db {
  query(sql: string, options?: { timeoutMs?: number }): Promise<QueryResult>;
  end(): void;
}

export interface StartOptions {
  /** 4000; 0 = any free port. */
  port?: number;
  /** '0.0.0.0'. */
  host?: string;
  /** Default: a pool of 4 connections to `pg`. */
  db?: Db;
  pg?: { host?: string; port?: number; user?: string; database?: string };
  /** Per query, retry included (1500: below the API's 2 s per call). */
  queryTimeoutMs?: number;
  /** How long to wait between attempts to create the schema (1000). */
  schemaRetryMs?: number;
  /** How long close() lets in-flight requests finish (5000). */
  graceMs?: number;
  log?: (line: string) => void;
}

export interface Service {
  server: Server;
  port: number;
  /** http://127.0.0.1:<port> */
  url: string;
  /** Resolves once the schema exists (or close() began first). */
  ready: Promise<void>;
  /** Stops accepting, finishes in-flight requests (at most graceMs), ends the pool. */
  close(): Promise<void>;
}

export const DEFAULT_QUERY_TIMEOUT_MS: number;
/** The name from a POST body (a Buffer of JSON); throws a 400 otherwise. */
export function parseName(raw: Buffer): string;
export function start(options?: StartOptions): Promise<Service>;
