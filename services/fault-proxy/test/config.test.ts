import { describe, expect, test } from 'vitest';
import { parseProxyConfig } from '../src/config.ts';

const worker = { name: 'worker', listen_port: 4000, upstream_host: 'worker-us-west', upstream_port: 4000 };
const env = (routes: unknown, extra: Record<string, string> = {}): Record<string, string> => ({
  CG_PROXY_ROUTES: JSON.stringify(routes),
  ...extra,
});

describe('parseProxyConfig', () => {
  test('reads the routes, and the control port defaulting to 7070', () => {
    const db = { name: 'db', listen_port: 5432, upstream_host: '10.0.0.7', upstream_port: 5432 };
    const db2 = { ...db, listen_port: 5433, upstream_port: 5433 };
    const config = { routes: [worker, db, db2], controlPort: 7070 };
    expect(parseProxyConfig(env([worker, db, db2]))).toEqual({ ok: true, config });
    const custom = parseProxyConfig(env([worker], { CG_PROXY_CONTROL_PORT: '9000' }));
    expect(custom).toMatchObject({ ok: true, config: { controlPort: 9000 } });
  });

  test.each([
    [{}, 'CG_PROXY_ROUTES is required: a JSON array of {name, listen_port, upstream_host, upstream_port}'],
    [{ CG_PROXY_ROUTES: '[{' }, /^CG_PROXY_ROUTES is not valid JSON: /],
    [env({ routes: [] }), 'CG_PROXY_ROUTES must be a non-empty JSON array of routes, not {"routes":[]}'],
    [env([]), 'CG_PROXY_ROUTES must be a non-empty JSON array of routes, not []'],
    [env(['worker']), 'CG_PROXY_ROUTES[0] must be an object with name, listen_port, upstream_host, upstream_port'],
    [env([{ ...worker, name: '' }]), 'CG_PROXY_ROUTES[0].name="" must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$'],
    [env([{ ...worker, listen_port: 0 }]), 'CG_PROXY_ROUTES[0].listen_port=0 must be an integer between 1 and 65535'],
    [
      env([{ ...worker, upstream_port: '4000' }]),
      'CG_PROXY_ROUTES[0].upstream_port="4000" must be an integer between 1 and 65535',
    ],
    [
      env([{ ...worker, upstream_host: 'a b' }]),
      'CG_PROXY_ROUTES[0].upstream_host="a b" must be a host name or IP address',
    ],
    [
      env([{ ...worker, upstream_host: undefined }]),
      'CG_PROXY_ROUTES[0].upstream_host=undefined must be a host name or IP address',
    ],
    [env([{ ...worker, port: 1 }]), 'CG_PROXY_ROUTES[0].port is not a route field'],
    [env([worker, worker]), 'CG_PROXY_ROUTES[1].listen_port=4000 is already used by CG_PROXY_ROUTES[0]'],
    [
      env([{ ...worker, listen_port: 7070 }]),
      'CG_PROXY_ROUTES[0].listen_port=7070 is already used by CG_PROXY_CONTROL_PORT',
    ],
    [
      env([worker], { CG_PROXY_CONTROL_PORT: '70000' }),
      'CG_PROXY_CONTROL_PORT="70000" must be an integer between 1 and 65535',
    ],
    [
      env([worker], { CG_PROXY_CONTROL_PORT: '7e3' }),
      'CG_PROXY_CONTROL_PORT="7e3" must be an integer between 1 and 65535',
    ],
  ])('refuses %j', (input, message) => {
    const result = parseProxyConfig(input);
    expect(result.ok).toBe(false);
    const expected: unknown = typeof message === 'string' ? message : expect.stringMatching(message);
    expect(result.ok === false && result.errors).toContainEqual(expected);
  });

  test('names every problem at once', () => {
    const result = parseProxyConfig(env([{ name: 'ok' }, 3], { CG_PROXY_CONTROL_PORT: 'x' }));
    expect(result.ok === false && result.errors).toHaveLength(5);
  });
});
