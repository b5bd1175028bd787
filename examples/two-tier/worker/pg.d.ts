// Types of pg.js, for the TypeScript tests (the worker itself is plain JavaScript).

export type Row = Record<string, string | null>;

export interface QueryResult {
  /** The CommandComplete tag: 'INSERT 0 1', 'SELECT 3'. */
  command: string;
  rows: Row[];
}

export class PgError extends Error {
  constructor(fields: Record<string, string>);
  /** SQLSTATE, e.g. '42P01'. */
  code: string | undefined;
  severity: string | undefined;
  fields: Record<string, string>;
}

export class ConnectionError extends Error {
  constructor(message: string, options?: { timeout?: boolean; cause?: unknown });
  connection: true;
  timeout: boolean;
}

export type BackendMessage =
  | { type: 'AuthenticationOk' }
  | { type: 'Authentication'; code: number }
  | { type: 'ParameterStatus'; name: string; value: string }
  | { type: 'BackendKeyData'; pid: number; secret: number }
  | { type: 'ReadyForQuery'; status: string }
  | { type: 'RowDescription'; fields: { name: string; tableOid: number; column: number; typeOid: number; typeSize: number; typeMod: number; format: number }[] }
  | { type: 'DataRow'; values: (string | null)[] }
  | { type: 'CommandComplete'; tag: string }
  | { type: 'ErrorResponse'; fields: Record<string, string> }
  | { type: 'NoticeResponse'; fields: Record<string, string> }
  | { type: 'EmptyQueryResponse' }
  | { type: 'Other'; code: string };

export interface ConnectOptions {
  host?: string;
  port?: number;
  user?: string;
  database?: string;
  /** Connecting and authenticating (2000). */
  timeoutMs?: number;
}

export interface Connection {
  parameters: Record<string, string>;
  broken: boolean;
  onClose: (() => void) | undefined;
  query(sql: string, timeoutMs?: number): Promise<QueryResult>;
  close(): void;
}

export interface Pool {
  query(sql: string, options?: { timeoutMs?: number }): Promise<QueryResult>;
  stats(): { open: number; idle: number; waiting: number };
  end(): void;
}

export function literal(value: string | null | undefined): string;
export function encodeStartup(options: { user: string; database: string }): Buffer;
export function encodeQuery(sql: string): Buffer;
export function encodeTerminate(): Buffer;
export function splitMessages(buffer: Buffer): { messages: { type: string; body: Buffer }[]; rest: Buffer };
export function parseMessage(type: string, body: Buffer): BackendMessage;
export function connect(options?: ConnectOptions): Promise<Connection>;
export function createPool(options?: ConnectOptions & { size?: number }): Pool;
