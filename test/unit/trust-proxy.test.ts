import { describe, expect, it } from 'vitest';
import { parseTrustProxy } from '../../src/server.js';

describe('TRUST_PROXY', () => {
  it('off by default; true believes every hop (the server warns)', () => {
    for (const off of [undefined, '', 'false', '0']) expect(parseTrustProxy(off)).toBe(false);
    expect(parseTrustProxy('true')).toBe(true);
  });

  it('a number is how many proxies stand in front: the client is the first hop past them', () => {
    const trust = parseTrustProxy('2') as (address: string, hop: number) => boolean;
    expect(typeof trust).toBe('function');
    expect([0, 1, 2, 3].map((hop) => trust('203.0.113.1', hop))).toEqual([true, true, false, false]);
    expect(() => parseTrustProxy('33')).toThrow(/hop count up to 32/);
  });

  it('a list names the proxies: addresses, CIDRs and proxy-addr names; anything else is refused', () => {
    expect(parseTrustProxy('10.0.0.1, 192.168.0.0/16,::1,fd00::/8,loopback')).toEqual(['10.0.0.1', '192.168.0.0/16', '::1', 'fd00::/8', 'loopback']);
    for (const bad of ['yes', '10.0.0.300', '10.0.0.0/33', '::1/129', '10.0.0.1/8/8', '1.2.3.4,']) {
      expect(() => parseTrustProxy(bad), bad).toThrow(/TRUST_PROXY/);
    }
  });
});
