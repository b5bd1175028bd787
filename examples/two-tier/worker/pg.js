// A minimal PostgreSQL client, no dependency: protocol 3.0, trust authentication only, the
// simple Query protocol ('Q'), every value as text (or null). Enough for the worker; use a
// real driver (pg, postgres.js) for anything more.
import { connect as netConnect } from 'node:net';

const PROTOCOL_3_0 = 196608;

/** An ErrorResponse from the server: the statement failed, the connection is still usable. */
export class PgError extends Error {
  constructor(fields) {
    super(fields.M ?? 'PostgreSQL error');
    this.name = 'PgError';
    this.code = fields.C;
    this.severity = fields.S;
    this.fields = fields;
  }
}

/** The connection could not be opened, broke, or timed out (`timeout`): it is gone. */
export class ConnectionError extends Error {
  constructor(message, { timeout = false, cause } = {}) {
    super(message, cause ? { cause } : undefined);
    this.name = 'ConnectionError';
    this.connection = true;
    this.timeout = timeout;
  }
}

function noNul(what, s) {
  if (String(s).includes('\0')) throw new TypeError(`${what} cannot hold a NUL character`);
  return String(s);
}

/** A string as an SQL literal (standard_conforming_strings on: only ' is special). */
export function literal(value) {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value !== 'string') throw new TypeError('literal() takes a string');
  return `'${noNul('a string literal', value).replaceAll("'", "''")}'`;
}

function message(type, body) {
  const out = Buffer.alloc(5 + body.length);
  out[0] = type.charCodeAt(0);
  out.writeInt32BE(4 + body.length, 1);
  body.copy(out, 5);
  return out;
}

/** StartupMessage: length, protocol 3.0, then name/value pairs ending with an empty name. */
export function encodeStartup({ user, database }) {
  const pairs = ['user', noNul('user', user), 'database', noNul('database', database), 'client_encoding', 'UTF8'];
  const params = Buffer.from(`${pairs.join('\0')}\0\0`, 'utf8');
  const out = Buffer.alloc(8 + params.length);
  out.writeInt32BE(out.length, 0);
  out.writeInt32BE(PROTOCOL_3_0, 4);
  params.copy(out, 8);
  return out;
}

export const encodeQuery = (sql) => message('Q', Buffer.from(`${noNul('a query', sql)}\0`, 'utf8'));
export const encodeTerminate = () => message('X', Buffer.alloc(0));

/** Splits bytes into whole backend messages [{type, body}]; `rest` is an unfinished one. */
export function splitMessages(buffer) {
  const messages = [];
  let at = 0;
  while (buffer.length - at >= 5) {
    const length = buffer.readInt32BE(at + 1);
    if (length < 4) throw new ConnectionError(`malformed message length ${length}`);
    if (buffer.length - at < 1 + length) break;
    messages.push({ type: String.fromCharCode(buffer[at]), body: buffer.subarray(at + 5, at + 1 + length) });
    at += 1 + length;
  }
  return { messages, rest: buffer.subarray(at) };
}

/** One backend message's content, by its type byte. */
export function parseMessage(type, body) {
  let at = 0;
  const int16 = () => ((at += 2), body.readInt16BE(at - 2));
  const int32 = () => ((at += 4), body.readInt32BE(at - 4));
  const cstring = () => {
    const end = body.indexOf(0, at);
    if (end < 0) throw new ConnectionError(`unterminated string in message '${type}'`);
    const s = body.toString('utf8', at, end);
    at = end + 1;
    return s;
  };
  const fields = () => {
    const out = {};
    while (at < body.length && body[at] !== 0) out[String.fromCharCode(body[at++])] = cstring();
    return out;
  };
  switch (type) {
    case 'R': {
      const code = int32();
      return code === 0 ? { type: 'AuthenticationOk' } : { type: 'Authentication', code };
    }
    case 'S': return { type: 'ParameterStatus', name: cstring(), value: cstring() };
    case 'K': return { type: 'BackendKeyData', pid: int32(), secret: int32() };
    case 'Z': return { type: 'ReadyForQuery', status: String.fromCharCode(body[0]) };
    case 'T': return {
      type: 'RowDescription',
      fields: Array.from({ length: int16() }, () => {
        const name = cstring();
        return { name, tableOid: int32(), column: int16(), typeOid: int32(), typeSize: int16(), typeMod: int32(), format: int16() };
      }),
    };
    case 'D': return {
      type: 'DataRow',
      values: Array.from({ length: int16() }, () => {
        const n = int32();
        if (n < 0) return null;
        at += n;
        return body.toString('utf8', at - n, at);
      }),
    };
    case 'C': return { type: 'CommandComplete', tag: cstring() };
    case 'E': return { type: 'ErrorResponse', fields: fields() };
    case 'N': return { type: 'NoticeResponse', fields: fields() };
    case 'I': return { type: 'EmptyQueryResponse' };
    default: return { type: 'Other', code: type };
  }
}

/** Opens and authenticates one connection; resolves once the server is ReadyForQuery. */
export function connect({ host = 'postgres', port = 5432, user = 'postgres', database = 'postgres', timeoutMs = 2000 } = {}) {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host, port });
    const timer = setTimeout(() => fail(new ConnectionError(`no connection to ${host}:${port} within ${timeoutMs} ms`, { timeout: true })), timeoutMs);
    const startup = { resolve: () => (clearTimeout(timer), resolve(conn)), reject: (e) => (clearTimeout(timer), reject(e)) };
    let pending = startup;
    let buffered = Buffer.alloc(0);
    let names = [];
    let result;
    let error;
    const fail = (err) => {
      const p = pending;
      pending = undefined;
      conn.broken = true;
      socket.destroy();
      p?.reject(err);
    };
    const conn = {
      /** What the server reported in ParameterStatus (server_version, TimeZone, ...). */
      parameters: {},
      broken: false,
      /** Called once when the socket is gone (the pool forgets the connection). */
      onClose: undefined,
      /**
       * Runs `sql`; resolves {command, rows} at ReadyForQuery, i.e. after the statement's
       * implicit transaction committed. On timeout the socket is destroyed.
       */
      query(sql, queryTimeoutMs = 2000) {
        if (conn.broken) return Promise.reject(new ConnectionError('connection is closed'));
        if (pending) return Promise.reject(new Error('a query is already running on this connection'));
        return new Promise((res, rej) => {
          const t = setTimeout(() => fail(new ConnectionError(`query timed out after ${queryTimeoutMs} ms`, { timeout: true })), queryTimeoutMs);
          result = { command: '', rows: [] };
          error = undefined;
          pending = { resolve: () => (clearTimeout(t), res(result)), reject: (e) => (clearTimeout(t), rej(e)) };
          socket.write(encodeQuery(sql));
        });
      },
      close() {
        if (!conn.broken) socket.end(encodeTerminate());
      },
    };
    const handle = (m) => {
      switch (m.type) {
        case 'Authentication':
          throw new ConnectionError(`PostgreSQL asks for authentication method ${m.code} (3 = password, 5 = MD5, 10 = SASL); this client supports trust only (POSTGRES_HOST_AUTH_METHOD=trust)`);
        case 'ParameterStatus': conn.parameters[m.name] = m.value; break;
        case 'RowDescription': names = m.fields.map((f) => f.name); result.rows = []; break;
        case 'DataRow': result.rows.push(Object.fromEntries(names.map((n, i) => [n, m.values[i]]))); break;
        case 'CommandComplete': result.command = m.tag; break;
        case 'ErrorResponse':
          error = new PgError(m.fields);
          // At startup (no such database, the server still starting) the server closes next.
          if (pending === startup) throw new ConnectionError(error.message, { cause: error });
          break;
        case 'ReadyForQuery': {
          if (pending === startup && conn.parameters.standard_conforming_strings !== 'on') throw new ConnectionError('standard_conforming_strings is off; literal() needs it on');
          const p = pending;
          pending = undefined;
          if (error) p?.reject(error);
          else p?.resolve();
          break;
        }
        default: // AuthenticationOk, BackendKeyData, NoticeResponse, EmptyQueryResponse, others: nothing to do
      }
    };
    socket.on('connect', () => socket.write(encodeStartup({ user, database })));
    socket.on('data', (chunk) => {
      try {
        const { messages, rest } = splitMessages(buffered.length ? Buffer.concat([buffered, chunk]) : chunk);
        buffered = rest;
        for (const { type, body } of messages) handle(parseMessage(type, body));
      } catch (err) {
        fail(err instanceof ConnectionError ? err : new ConnectionError(err.message, { cause: err }));
      }
    });
    socket.on('error', (err) => fail(new ConnectionError(`connection to ${host}:${port}: ${err.message}`, { cause: err })));
    socket.on('close', () => {
      const why = error?.severity === 'FATAL' ? error.message : 'closed';
      fail(new ConnectionError(`connection to ${host}:${port} lost: ${why}`));
      conn.onClose?.();
    });
  });
}

/**
 * At most `size` connections, opened on demand; a broken one is dropped and the next query
 * opens a new one. `timeoutMs` bounds a whole query: waiting for a connection, connecting,
 * running it.
 */
/** The least time worth running a query with: less, and it would only time out. */
const MIN_QUERY_MS = 50;

export function createPool({ size = 4, timeoutMs = 2000, connectTimeoutMs = timeoutMs, ...options } = {}) {
  const idle = [];
  const waiters = [];
  let open = 0;
  let ended = false;
  /** Wakes the longest waiter, with the error of a failed connect when there is one. */
  const wakeOne = (err) => waiters.shift()?.(err);

  /**
   * Opens a connection in the background with its own time-out, not the caller's: a caller
   * about to give up would start a connect that gives up at once, and while the server hangs
   * that churn leaves hundreds of connections in its backlog, a storm that outlasts the outage.
   */
  function openOne() {
    open += 1;
    connect({ ...options, timeoutMs: connectTimeoutMs }).then((conn) => {
      conn.onClose = () => {
        open -= 1;
        const i = idle.indexOf(conn);
        if (i >= 0) idle.splice(i, 1);
        wakeOne();
      };
      if (ended) return conn.close();
      idle.push(conn);
      wakeOne();
    }, (err) => {
      open -= 1;
      wakeOne(err);
    });
  }

  async function acquire(deadline, budget) {
    for (;;) {
      if (ended) throw new ConnectionError('the pool is closed');
      const free = idle.pop();
      if (free?.broken) continue; // errored, its close event not yet here
      if (free) return free;
      const left = deadline - performance.now();
      if (left <= 0) throw new ConnectionError(`no free connection within ${budget} ms`, { timeout: true });
      if (open < size) openOne();
      const failed = await new Promise((resolve) => {
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(wake), 1);
          resolve(undefined);
        }, left);
        const wake = (err) => (clearTimeout(timer), resolve(err));
        waiters.push(wake);
      });
      if (failed) throw failed;
    }
  }

  return {
    /** Runs `sql` on a pooled connection, within `timeoutMs` (the pool's by default). */
    async query(sql, { timeoutMs: budget = timeoutMs } = {}) {
      const deadline = performance.now() + budget;
      const conn = await acquire(deadline, budget);
      const left = deadline - performance.now();
      // A caller that waited out its budget in the queue gives the connection back unused: its
      // query would time out and destroy a healthy connection, and after an outage every
      // queued caller would do so in turn (a reconnect storm that outlasts the outage).
      if (left < MIN_QUERY_MS) {
        idle.push(conn);
        wakeOne();
        throw new ConnectionError(`no time left for the query after waiting ${budget} ms for a connection`, { timeout: true });
      }
      try {
        return await conn.query(sql, Math.ceil(left));
      } finally {
        if (ended) conn.close();
        else if (!conn.broken) {
          idle.push(conn);
          wakeOne();
        }
      }
    },
    /** Connections open (or opening), idle, and queries waiting for one. */
    stats: () => ({ open, idle: idle.length, waiting: waiters.length }),
    /** Closes the idle connections now and the busy ones when their query ends. */
    end() {
      ended = true;
      for (const conn of idle.splice(0)) conn.close();
      for (const wake of waiters.splice(0)) wake();
    },
  };
}
