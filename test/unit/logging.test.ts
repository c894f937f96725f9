import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.js';
import { censored, logFormat } from '../../src/logging.js';

describe('LOG_FORMAT', () => {
  it('is pretty on a terminal and JSON otherwise, unless forced', () => {
    expect(logFormat(undefined, true)).toBe('pretty');
    expect(logFormat(undefined, false)).toBe('json');
    expect(logFormat('', true)).toBe('pretty');
    expect(logFormat('json', true)).toBe('json');
    expect(logFormat('PRETTY', false)).toBe('pretty');
    expect(() => logFormat('xml', false)).toThrow(ConfigError);
  });
});


describe('log lines never carry secrets', () => {
  it('censors credentials in headers and bodies, and leaves the caller’s objects as they were', () => {
    const body = { key: 'lbk_secret', Serverkey: 'srv', name: 'Room 1' };
    const line = { req: { headers: { authorization: 'Basic abc', host: 'x' } }, body, msg: 'hello' };
    const out = censored(line);
    expect(out).toEqual({ req: { headers: { authorization: '[redacted]', host: 'x' } }, body: { key: '[redacted]', Serverkey: '[redacted]', name: 'Room 1' }, msg: 'hello' });
    expect(line.req.headers.authorization).toBe('Basic abc');
    expect(body.key).toBe('lbk_secret');
  });

  it('returns a line without secrets untouched', () => {
    const line = { accountId: 'acc_1', msg: 'ok' };
    expect(censored(line)).toBe(line);
  });
});
