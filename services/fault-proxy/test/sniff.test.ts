import { describe, expect, test } from 'vitest';
import { classify } from '../src/sniff.ts';

describe('classify', () => {
  test.each([
    ['GET / HTTP/1.1\r\n', 'http'],
    ['POST /api/orders?x=1 HTTP/1.0\r\n', 'http'],
    ['OPTIONS * HTTP/1.1', 'http'],
    ['PROPFIND /dav HTTP/1.', 'http'],
    ['', 'more'],
    ['GE', 'more'],
    ['GET ', 'more'],
    ['GET /a', 'more'],
    ['GET /a HTT', 'more'],
    ['GET /a HTTP/1', 'more'],
    ['GET /a HTTP/2.0\r\n', 'tcp'],
    ['PRI * HTTP/2.0\r\n', 'tcp'],
    ['PING\r\n', 'tcp'],
    ['SET key value\r\n', 'tcp'],
    ['get / HTTP/1.1\r\n', 'tcp'],
    ['\u0000\u0000\u0000\u0008\u0004\u00d2\u0016\u002f', 'tcp'],
    ['\u0016\u0003\u0001\u0002\u0000', 'tcp'],
  ])('%j is %s', (text, expected) => {
    expect(classify(Buffer.from(text, 'latin1'))).toBe(expected);
  });

  test('stops waiting for a request line after 8 KiB', () => {
    expect(classify(Buffer.from(`GET /${'a'.repeat(8192)}`))).toBe('tcp');
  });
});
