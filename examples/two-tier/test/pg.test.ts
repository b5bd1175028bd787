// The worker's PostgreSQL client: the wire codec from bytes, and connections and the pool
// against a fake server on loopback that speaks just enough of the protocol.
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { ConnectionError, PgError, connect, createPool, encodeQuery, encodeStartup, encodeTerminate, literal, parseMessage, splitMessages } from '../worker/pg.js';

const int16 = (n: number): Buffer => { const b = Buffer.alloc(2); b.writeInt16BE(n); return b; };
const int32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeInt32BE(n); return b; };
const cstr = (s: string): Buffer => Buffer.from(`${s}\0`, 'utf8');
/** A backend message: type byte, int32 length (itself included), body. */
function msg(type: string, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from(type), int32(body.length + 4), body]);
}
const authOk = () => msg('R', int32(0));
const param = (name: string, value: string) => msg('S', cstr(name), cstr(value));
const ready = (status = 'I') => msg('Z', Buffer.from(status));
const rowDescription = (...names: string[]) => msg('T', int16(names.length), ...names.flatMap((n) => [cstr(n), int32(0), int16(0), int32(25), int16(-1), int32(-1), int16(0)]));
const dataRow = (...values: (string | null)[]) => msg('D', int16(values.length), ...values.flatMap((v) => (v === null ? [int32(-1)] : [int32(Buffer.byteLength(v)), Buffer.from(v)])));
const complete = (tag: string) => msg('C', cstr(tag));
const errorResponse = (fields: Record<string, string>) => msg('E', ...Object.entries(fields).map(([k, v]) => Buffer.concat([Buffer.from(k), cstr(v)])), Buffer.from([0]));

describe('the wire codec', () => {
  test('StartupMessage: length, protocol 3.0, user, database, UTF8, a final NUL', () => {
    const params = 'user\0alice\0database\0shop\0client_encoding\0UTF8\0\0';
    expect(encodeStartup({ user: 'alice', database: 'shop' })).toEqual(Buffer.concat([int32(8 + params.length), int32(196608), Buffer.from(params)]));
    expect(() => encodeStartup({ user: 'a\0b', database: 'x' })).toThrow(/NUL/);
  });

  test('Query and Terminate', () => {
    expect(encodeQuery('SELECT 1')).toEqual(Buffer.concat([Buffer.from('Q'), int32(13), Buffer.from('SELECT 1\0')]));
    // The length counts bytes, not characters.
    expect(encodeQuery("SELECT 'é'").readInt32BE(1)).toBe(4 + Buffer.byteLength("SELECT 'é'") + 1);
    expect(encodeTerminate()).toEqual(Buffer.from([0x58, 0, 0, 0, 4]));
    expect(() => encodeQuery('SELECT 1\0; DROP TABLE x')).toThrow(/NUL/);
  });

  test('splitMessages keeps an unfinished message for the next chunk', () => {
    const bytes = Buffer.concat([authOk(), param('TimeZone', 'UTC'), ready()]);
    const first = splitMessages(bytes.subarray(0, 12));
    expect(first.messages.map((m) => m.type)).toEqual(['R']);
    expect(first.rest).toHaveLength(3);
    const second = splitMessages(Buffer.concat([first.rest, bytes.subarray(12)]));
    expect(second.messages.map((m) => m.type)).toEqual(['S', 'Z']);
    expect(second.rest).toHaveLength(0);
    expect(() => splitMessages(Buffer.concat([Buffer.from('Z'), int32(2)]))).toThrow(ConnectionError);
  });

  const parse = (bytes: Buffer) => {
    const { messages, rest } = splitMessages(bytes);
    expect(messages).toHaveLength(1);
    expect(rest).toHaveLength(0);
    return parseMessage(messages[0]!.type, messages[0]!.body);
  };

  test('each backend message from its bytes', () => {
    expect(parse(authOk())).toEqual({ type: 'AuthenticationOk' });
    expect(parse(msg('R', int32(10), cstr('SCRAM-SHA-256'), Buffer.from([0])))).toEqual({ type: 'Authentication', code: 10 });
    expect(parse(param('standard_conforming_strings', 'on'))).toEqual({ type: 'ParameterStatus', name: 'standard_conforming_strings', value: 'on' });
    expect(parse(msg('K', int32(4242), int32(-7)))).toEqual({ type: 'BackendKeyData', pid: 4242, secret: -7 });
    expect(parse(ready('T'))).toEqual({ type: 'ReadyForQuery', status: 'T' });
    expect(parse(rowDescription('id', 'név'))).toEqual({
      type: 'RowDescription',
      fields: [
        { name: 'id', tableOid: 0, column: 0, typeOid: 25, typeSize: -1, typeMod: -1, format: 0 },
        { name: 'név', tableOid: 0, column: 0, typeOid: 25, typeSize: -1, typeMod: -1, format: 0 },
      ],
    });
    expect(parse(dataRow('1', null, '', 'ünïcödé'))).toEqual({ type: 'DataRow', values: ['1', null, '', 'ünïcödé'] });
    expect(parse(complete('INSERT 0 1'))).toEqual({ type: 'CommandComplete', tag: 'INSERT 0 1' });
    expect(parse(errorResponse({ S: 'ERROR', C: '42P01', M: 'relation "x" does not exist' }))).toEqual({ type: 'ErrorResponse', fields: { S: 'ERROR', C: '42P01', M: 'relation "x" does not exist' } });
    expect(parse(msg('N', Buffer.from('S'), cstr('NOTICE'), Buffer.from('M'), cstr('hi'), Buffer.from([0])))).toEqual({ type: 'NoticeResponse', fields: { S: 'NOTICE', M: 'hi' } });
    expect(parse(msg('I'))).toEqual({ type: 'EmptyQueryResponse' });
    expect(parse(msg('A', int32(1), cstr('chan'), cstr('payload')))).toEqual({ type: 'Other', code: 'A' });
    expect(() => parse(msg('C', Buffer.from('no terminator')))).toThrow(/unterminated/);
  });

  test('literal(): single quotes doubled, backslashes as they are, NUL refused', () => {
    expect(literal('plain')).toBe("'plain'");
    expect(literal("O'Brien")).toBe("'O''Brien'");
    expect(literal("''; DROP TABLE entries; --")).toBe("'''''; DROP TABLE entries; --'");
    expect(literal('back\\slash')).toBe("'back\\slash'");
    expect(literal('')).toBe("''");
    expect(literal(null)).toBe('NULL');
    expect(() => literal('a\0b')).toThrow(/NUL/);
    expect(() => literal(5 as unknown as string)).toThrow(TypeError);
  });
});

/**
 * A fake PostgreSQL on 127.0.0.1: answers the startup as `startup` says, then each Query by
 * its text: 'hang' never answers, 'die' closes the connection, 'fail' is an ErrorResponse,
 * 'slow' answers after 30 ms, anything else one row {x: <the query>}.
 */
interface FakeServer { server: Server; port: number; sockets: Set<Socket>; connections: number; maxOpen: number; startups: Buffer[]; queries: string[] }
const fakes: FakeServer[] = [];

afterEach(async () => {
  for (const f of fakes.splice(0)) {
    for (const s of f.sockets) s.destroy();
    await new Promise((r) => f.server.close(r));
  }
});

async function fakePostgres(startup: (s: Socket) => void = (s) => s.write(Buffer.concat([authOk(), param('standard_conforming_strings', 'on'), param('server_version', '15.0'), msg('K', int32(1), int32(2)), ready()]))): Promise<FakeServer> {
  const fake: FakeServer = { server: createServer(), port: 0, sockets: new Set(), connections: 0, maxOpen: 0, startups: [], queries: [] };
  fake.server.on('connection', (socket) => {
    fake.connections += 1;
    fake.sockets.add(socket);
    fake.maxOpen = Math.max(fake.maxOpen, fake.sockets.size);
    socket.on('close', () => fake.sockets.delete(socket));
    socket.on('error', () => {});
    let buffered: Buffer = Buffer.alloc(0);
    let started = false;
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (!started) {
        if (buffered.length < 4 || buffered.length < buffered.readInt32BE(0)) return;
        fake.startups.push(buffered.subarray(0, buffered.readInt32BE(0)));
        buffered = buffered.subarray(buffered.readInt32BE(0));
        started = true;
        startup(socket);
      }
      const { messages, rest } = splitMessages(buffered);
      buffered = rest;
      for (const m of messages) {
        if (m.type === 'X') socket.end();
        if (m.type !== 'Q') continue;
        const sql = m.body.toString('utf8', 0, m.body.length - 1);
        fake.queries.push(sql);
        if (sql === 'hang') continue;
        if (sql === 'die') socket.destroy();
        else if (sql === 'fail') socket.write(Buffer.concat([errorResponse({ S: 'ERROR', C: '23505', M: 'duplicate key' }), ready()]));
        else if (sql === 'slow') setTimeout(() => socket.write(Buffer.concat([rowDescription('x'), dataRow('slow'), complete('SELECT 1'), ready()])), 30);
        else socket.write(Buffer.concat([rowDescription('x', 'n'), dataRow(sql, null), complete('SELECT 1'), ready()]));
      }
    });
  });
  await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
  fake.port = (fake.server.address() as { port: number }).port;
  fakes.push(fake);
  return fake;
}

async function until(cond: () => boolean, ms = 2000): Promise<boolean> {
  const end = performance.now() + ms;
  while (!cond() && performance.now() < end) await new Promise((r) => setTimeout(r, 5));
  return cond();
}

describe('a connection', () => {
  test('starts up with trust, records ParameterStatus, runs queries, names columns, keeps nulls', async () => {
    const fake = await fakePostgres();
    const conn = await connect({ host: '127.0.0.1', port: fake.port, user: 'u', database: 'd' });
    expect(fake.startups[0]).toEqual(encodeStartup({ user: 'u', database: 'd' }));
    expect(conn.parameters).toEqual({ standard_conforming_strings: 'on', server_version: '15.0' });
    expect(await conn.query('SELECT 1')).toEqual({ command: 'SELECT 1', rows: [{ x: 'SELECT 1', n: null }] });
    // An ErrorResponse fails the statement, not the connection.
    const err = await conn.query('fail').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PgError);
    expect(err).toMatchObject({ code: '23505', severity: 'ERROR', message: 'duplicate key' });
    expect((await conn.query('again')).rows).toEqual([{ x: 'again', n: null }]);
    conn.close();
    expect(await until(() => fake.sockets.size === 0)).toBe(true);
  });

  test('refuses any authentication but trust, with a clear error', async () => {
    const fake = await fakePostgres((s) => s.write(msg('R', int32(3))));
    await expect(connect({ host: '127.0.0.1', port: fake.port })).rejects.toThrow(/authentication method 3 .*trust only/);
    expect(await until(() => fake.sockets.size === 0)).toBe(true);
  });

  test('refuses a server with standard_conforming_strings off (literal() would be wrong)', async () => {
    const fake = await fakePostgres((s) => s.write(Buffer.concat([authOk(), param('standard_conforming_strings', 'off'), ready()])));
    await expect(connect({ host: '127.0.0.1', port: fake.port })).rejects.toThrow(/standard_conforming_strings/);
  });

  test('an ErrorResponse at startup (no such database, still starting) is a ConnectionError', async () => {
    const fake = await fakePostgres((s) => s.end(errorResponse({ S: 'FATAL', C: '57P03', M: 'the database system is starting up' })));
    const err = await connect({ host: '127.0.0.1', port: fake.port }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err).toMatchObject({ message: 'the database system is starting up', connection: true, timeout: false });
  });

  test('nobody listening, or no startup answer within the timeout', async () => {
    const closed = await fakePostgres();
    const port = closed.port;
    await new Promise((r) => closed.server.close(r));
    fakes.splice(fakes.indexOf(closed), 1);
    await expect(connect({ host: '127.0.0.1', port })).rejects.toMatchObject({ connection: true, timeout: false, message: expect.stringMatching(/ECONNREFUSED/) });
    const silent = await fakePostgres(() => {});
    const t0 = performance.now();
    await expect(connect({ host: '127.0.0.1', port: silent.port, timeoutMs: 150 })).rejects.toMatchObject({ connection: true, timeout: true });
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  test('a query past its timeout destroys the socket', async () => {
    const fake = await fakePostgres();
    const conn = await connect({ host: '127.0.0.1', port: fake.port });
    const t0 = performance.now();
    await expect(conn.query('hang', 150)).rejects.toMatchObject({ connection: true, timeout: true, message: 'query timed out after 150 ms' });
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(conn.broken).toBe(true);
    expect(await until(() => fake.sockets.size === 0)).toBe(true);
    await expect(conn.query('SELECT 1')).rejects.toBeInstanceOf(ConnectionError);
  });

  test('a connection the server drops mid-query fails that query as a ConnectionError', async () => {
    const fake = await fakePostgres();
    const conn = await connect({ host: '127.0.0.1', port: fake.port });
    await expect(conn.query('die')).rejects.toMatchObject({ connection: true, timeout: false });
    expect(conn.broken).toBe(true);
  });
});

describe('the pool', () => {
  test('at most 4 connections, reused', async () => {
    const fake = await fakePostgres();
    const pool = createPool({ host: '127.0.0.1', port: fake.port });
    const results = await Promise.all(Array.from({ length: 12 }, () => pool.query('slow')));
    expect(results.every((r) => r.rows[0]?.x === 'slow')).toBe(true);
    expect(fake.maxOpen).toBe(4);
    expect(fake.connections).toBe(4);
    await pool.query('one more');
    expect(fake.connections).toBe(4);
    expect(pool.stats()).toEqual({ open: 4, idle: 4, waiting: 0 });
    pool.end();
    expect(await until(() => fake.sockets.size === 0)).toBe(true);
  });

  test('a broken connection is dropped and the next query opens a new one', async () => {
    const fake = await fakePostgres();
    const pool = createPool({ host: '127.0.0.1', port: fake.port });
    await pool.query('first');
    await expect(pool.query('die')).rejects.toMatchObject({ connection: true });
    expect((await pool.query('after')).rows[0]?.x).toBe('after');
    expect(fake.connections).toBe(2);
    // The server closes an idle connection (a restart): the pool forgets it.
    expect(pool.stats()).toEqual({ open: 1, idle: 1, waiting: 0 });
    for (const s of fake.sockets) s.destroy();
    expect(await until(() => pool.stats().open === 0)).toBe(true);
    expect((await pool.query('after restart')).rows[0]?.x).toBe('after restart');
    expect(fake.connections).toBe(3);
    pool.end();
  });

  test('a caller that waited out its budget gives the connection back unused, so a queue cannot destroy healthy connections', async () => {
    const fake = await fakePostgres();
    const pool = createPool({ host: '127.0.0.1', port: fake.port, size: 1 });
    // Three 30 ms queries hold the one connection; the fourth has ~20 ms left when it gets it.
    const queued = [pool.query('slow'), pool.query('slow'), pool.query('slow'), pool.query('slow', { timeoutMs: 110 })];
    const [a, b, c, late] = await Promise.allSettled(queued);
    expect([a, b, c].map((r) => r?.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    expect(late).toMatchObject({ status: 'rejected', reason: { timeout: true } });
    expect((await pool.query('next')).rows[0]?.x).toBe('next');
    expect(fake.connections).toBe(1);
    pool.end();
  });

  test('timeoutMs bounds a query, waiting for a connection included', async () => {
    const fake = await fakePostgres();
    const pool = createPool({ host: '127.0.0.1', port: fake.port, size: 1, timeoutMs: 200 });
    const t0 = performance.now();
    const [hung, waiting] = await Promise.allSettled([pool.query('hang'), pool.query('SELECT 1', { timeoutMs: 100 })]);
    expect(waiting).toMatchObject({ status: 'rejected', reason: { timeout: true, message: 'no free connection within 100 ms' } });
    expect(hung).toMatchObject({ status: 'rejected', reason: { timeout: true } });
    expect(performance.now() - t0).toBeLessThan(1500);
    // The hung connection was destroyed; the pool opens another.
    expect((await pool.query('next')).rows[0]?.x).toBe('next');
    expect(fake.connections).toBe(2);
    pool.end();
  });
});
