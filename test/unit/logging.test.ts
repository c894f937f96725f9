import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.js';
import { logFormat } from '../../src/logging.js';

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
