import { describe, expect, test } from 'vitest';
import { parseConfig } from '../src/config.ts';

const base = { VERSION: 'v1', REGION: 'us-west' };

describe('parseConfig', () => {
  test('applies the defaults', () => {
    expect(parseConfig(base)).toEqual({
      ok: true,
      config: { version: 'v1', region: 'us-west', failureRate: 0, port: 8080, dataDir: '/data', faultToken: '' },
    });
  });

  test.each([
    [{ FAILURE_RATE: '0' }, { failureRate: 0 }],
    [{ FAILURE_RATE: '1' }, { failureRate: 1 }],
    [{ FAILURE_RATE: '0.3' }, { failureRate: 0.3 }],
    [{ FAILURE_RATE: '.25' }, { failureRate: 0.25 }],
    [{ FAILURE_RATE: '1.000' }, { failureRate: 1 }],
    [{ PORT: '1' }, { port: 1 }],
    [{ PORT: '65535' }, { port: 65535 }],
    [{ DATA_DIR: '/tmp/x' }, { dataDir: '/tmp/x' }],
    [{ FAULT_TOKEN: 's3cret' }, { faultToken: 's3cret' }],
    [{ FAULT_TOKEN: '' }, { faultToken: '' }],
    [{ VERSION: '1.2.3-rc.1_b' }, { version: '1.2.3-rc.1_b' }],
    [{ VERSION: 'a'.repeat(128) }, { version: 'a'.repeat(128) }],
    [{ REGION: 'a'.repeat(63) }, { region: 'a'.repeat(63) }],
  ])('accepts %j', (env, expected) => {
    const result = parseConfig({ ...base, ...env });
    expect(result.ok && result.config).toMatchObject(expected);
  });

  test.each([
    [{ FAILURE_RATE: '1.5' }, 'FAILURE_RATE="1.5" must be a number between 0.0 and 1.0'],
    [{ FAILURE_RATE: 'abc' }, 'FAILURE_RATE="abc" must be a number between 0.0 and 1.0'],
    [{ FAILURE_RATE: '' }, 'FAILURE_RATE="" must be a number between 0.0 and 1.0'],
    [{ FAILURE_RATE: 'NaN' }, 'FAILURE_RATE="NaN" must be a number between 0.0 and 1.0'],
    [{ FAILURE_RATE: '-0.1' }, 'FAILURE_RATE="-0.1" must be a number between 0.0 and 1.0'],
    [{ FAILURE_RATE: '1e-1' }, 'FAILURE_RATE="1e-1" must be a number between 0.0 and 1.0'],
    [{ FAILURE_RATE: ' 0.5' }, 'FAILURE_RATE=" 0.5" must be a number between 0.0 and 1.0'],
    [{ FAILURE_RATE: 'Infinity' }, 'FAILURE_RATE="Infinity" must be a number between 0.0 and 1.0'],
    [{ FAILURE_RATE: '1.' }, 'FAILURE_RATE="1." must be a number between 0.0 and 1.0'],
    [{ VERSION: undefined }, 'VERSION is required and must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$'],
    [{ VERSION: '' }, 'VERSION is required and must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$'],
    [{ VERSION: '.hidden' }, 'VERSION=".hidden" must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$'],
    [{ VERSION: 'v2; rm -rf /' }, 'VERSION="v2; rm -rf /" must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$'],
    [{ VERSION: 'a'.repeat(129) }, `VERSION="${'a'.repeat(80)}..." must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`],
    [{ REGION: undefined }, 'REGION is required and must match ^[a-z0-9][a-z0-9-]{0,62}$'],
    [{ REGION: 'US-West' }, 'REGION="US-West" must match ^[a-z0-9][a-z0-9-]{0,62}$'],
    [{ REGION: '-west' }, 'REGION="-west" must match ^[a-z0-9][a-z0-9-]{0,62}$'],
    [{ REGION: 'a'.repeat(64) }, `REGION="${'a'.repeat(64)}" must match ^[a-z0-9][a-z0-9-]{0,62}$`],
    [{ PORT: '0' }, 'PORT="0" must be an integer between 1 and 65535'],
    [{ PORT: '65536' }, 'PORT="65536" must be an integer between 1 and 65535'],
    [{ PORT: '80.5' }, 'PORT="80.5" must be an integer between 1 and 65535'],
    [{ PORT: 'http' }, 'PORT="http" must be an integer between 1 and 65535'],
    [{ PORT: '' }, 'PORT="" must be an integer between 1 and 65535'],
    [{ DATA_DIR: '' }, 'DATA_DIR="" must be a non-empty directory path'],
    [{ REGION: 'us\nwest' }, 'REGION="us\\nwest" must match ^[a-z0-9][a-z0-9-]{0,62}$'],
  ])('refuses %j', (env, message) => {
    expect(parseConfig({ ...base, ...env })).toEqual({ ok: false, errors: [message] });
  });

  test('lists every error, one line each', () => {
    const result = parseConfig({ FAILURE_RATE: '2', PORT: 'x' });
    expect(result.ok).toBe(false);
    const errors = result.ok ? [] : result.errors;
    expect(errors.map((e) => e.split(/[ =]/)[0])).toEqual(['VERSION', 'REGION', 'FAILURE_RATE', 'PORT']);
    for (const e of errors) expect(e).not.toContain('\n');
  });
});

describe('REGRESSION', () => {
  test('is none when unset or empty (Compose passes an unset variable as "")', () => {
    const plain = parseConfig(base);
    expect(plain.ok && 'regression' in plain.config).toBe(false);
    const empty = parseConfig({ ...base, REGRESSION: '' });
    expect(empty.ok && 'regression' in empty.config).toBe(false);
  });

  test('slow-start is read, beside a DATA_FAULT', () => {
    expect(parseConfig({ ...base, REGRESSION: 'slow-start', DATA_FAULT: 'drop' })).toMatchObject({
      ok: true,
      config: { regression: 'slow-start', dataFault: 'drop' },
    });
  });

  test.each(['Slow-Start', 'slow', ' slow-start', 'slow-start,drop'])('refuses %j, naming the values', (value) => {
    expect(parseConfig({ ...base, REGRESSION: value })).toEqual({
      ok: false,
      errors: [
        `REGRESSION=${JSON.stringify(value)} must be one of slow-start, memory-growth (or empty: no regression)`,
      ],
    });
  });

  test('a bad REGRESSION is listed with the other errors', () => {
    const result = parseConfig({ ...base, DATA_FAULT: 'wipe', REGRESSION: 'fast' });
    expect(result.ok ? [] : result.errors.map((e) => e.split('=')[0])).toEqual(['DATA_FAULT', 'REGRESSION']);
  });
});
