import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { NetworkInterfaceInfo } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addressDetector, ConfigError, defaultRouteInterface, loadConfig, parseIceServers, type HostNetwork } from '../../src/config.js';

const dataDir = mkdtempSync(join(tmpdir(), 'parley-config-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const v4 = (address: string, internal = false): NetworkInterfaceInfo => ({
  address, family: 'IPv4', internal, netmask: '255.255.255.0', mac: '00:00:00:00:00:00', cidr: `${address}/24`,
});
const v6 = (address: string): NetworkInterfaceInfo => ({
  address, family: 'IPv6', internal: false, netmask: 'ffff:ffff:ffff:ffff::', mac: '00:00:00:00:00:00', cidr: `${address}/64`, scopeid: 0,
});

// /proc/net/route as Linux writes it: hex, little-endian addresses; a docker bridge listed first.
const ROUTES = [
  'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
  'docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0',
  'wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0',
  'eth1\t00000000\t0100000A\t0003\t0\t0\t100\t00000000\t0\t0\t0',
  'eth1\t0000000A\t00000000\t0001\t0\t0\t100\t000000FF\t0\t0\t0',
  'down0\t00000000\t01010101\t0002\t0\t0\t0\t00000000\t0\t0\t0',
  '',
].join('\n');

const HOST: HostNetwork = {
  // docker0 comes first, as networkInterfaces() may list it: the old "first address" rule picked it.
  interfaces: () => ({ lo: [v4('127.0.0.1', true)], docker0: [v4('172.17.0.1')], eth1: [v6('fe80::1'), v4('10.0.0.7')], wlan0: [v4('192.168.1.20')] }),
  routeTable: () => ROUTES,
};

function detect(env: Record<string, string>, host: HostNetwork = HOST) {
  return addressDetector(loadConfig({ DATA_DIR: dataDir, ...env }), host)();
}

describe('the default route', () => {
  it('is the up 0.0.0.0/0 route with the lowest metric', () => {
    expect(defaultRouteInterface(ROUTES)).toBe('eth1');
    expect(defaultRouteInterface(ROUTES.replace('\t100\t00000000', '\t900\t00000000'))).toBe('wlan0');
  });

  it('is absent without a table, or without an up default route', () => {
    expect(defaultRouteInterface(undefined)).toBeUndefined();
    expect(defaultRouteInterface('')).toBeUndefined();
    expect(defaultRouteInterface(ROUTES.split('\n').filter((l) => !/^(wlan0|eth1)\t00000000/.test(l)).join('\n'))).toBeUndefined();
  });
});

describe('the announced address', () => {
  it('is RTC_LISTEN_IP when media listens on one address', () => {
    expect(detect({ RTC_LISTEN_IP: '10.0.0.9' })).toEqual({ addresses: ['10.0.0.9'], source: 'RTC_LISTEN_IP' });
    expect(detect({ RTC_LISTEN_IP: '127.0.0.1' }).addresses).toEqual(['127.0.0.1']);
  });

  it('with a wildcard listen address, is the default route interface’s IPv4 address', () => {
    expect(detect({})).toEqual({ addresses: ['10.0.0.7'], source: 'the default route\'s interface eth1' });
    expect(detect({ RTC_LISTEN_IP: '::' }).addresses).toEqual(['10.0.0.7']);
  });

  it('without a usable default route, is the first non-internal IPv4 address, else loopback', () => {
    expect(detect({}, { ...HOST, routeTable: () => undefined }).addresses).toEqual(['172.17.0.1']);
    // a default route through an interface without IPv4
    expect(detect({}, { ...HOST, interfaces: () => ({ ...HOST.interfaces(), eth1: [v6('fe80::1')] }) }).addresses).toEqual(['172.17.0.1']);
    expect(detect({}, { interfaces: () => ({ lo: [v4('127.0.0.1', true)] }), routeTable: () => ROUTES })).toEqual({
      addresses: ['127.0.0.1'], source: 'loopback (no other interface)',
    });
  });

  it('ANNOUNCED_IP wins over the listen address, the announced-ip file over both', () => {
    expect(detect({ ANNOUNCED_IP: '203.0.113.7, 203.0.113.8', RTC_LISTEN_IP: '10.0.0.9' })).toEqual({ addresses: ['203.0.113.7', '203.0.113.8'], source: 'ANNOUNCED_IP' });
    const file = join(dataDir, 'announced-ip');
    writeFileSync(file, '198.51.100.1\n198.51.100.2,\n');
    try {
      expect(detect({ ANNOUNCED_IP: '203.0.113.7' })).toEqual({ addresses: ['198.51.100.1', '198.51.100.2'], source: `the file ${file}` });
      writeFileSync(file, ' \n');
      expect(detect({ ANNOUNCED_IP: '203.0.113.7' }).source).toBe('ANNOUNCED_IP'); // an empty file counts as none
    } finally {
      rmSync(file);
    }
  });

  it('refuses ANNOUNCED_IP and RTC_LISTEN_IP values that are not IP addresses', () => {
    expect(() => loadConfig({ ANNOUNCED_IP: '203.0.113.7,media.example.com' })).toThrow(new ConfigError('ANNOUNCED_IP must be IP addresses separated by commas, got "media.example.com"'));
    expect(() => loadConfig({ RTC_LISTEN_IP: 'eth0' })).toThrow(/RTC_LISTEN_IP must be an IP address/);
  });
});

describe('ICE_SERVERS', () => {
  it('is empty by default', () => {
    expect(loadConfig({}).iceServers).toEqual([]);
    expect(parseIceServers('  ')).toEqual([]);
  });

  it('accepts STUN servers only', () => {
    const servers = [{ urls: 'stun:stun.example.com:3478' }, { urls: ['stun:192.0.2.1', 'STUN:[2001:db8::1]'] }];
    expect(loadConfig({ ICE_SERVERS: JSON.stringify(servers) }).iceServers).toEqual(servers);
  });

  it.each([
    ['not JSON', '[{urls:', /ICE_SERVERS must be a JSON array .*not valid JSON/],
    ['not an array', '{"urls":"stun:a.example"}', /^ICE_SERVERS must be a JSON array/],
    ['an entry that is no object', '["stun:a.example"]', /^ICE_SERVERS\[0\] must be an object/],
    ['a misspelt field', '[{"url":"stun:a.example"}]', /^ICE_SERVERS\[0\] has an unknown field "url"/],
    ['no urls', '[{}]', /^ICE_SERVERS\[0\]\.urls must be a URL or a non-empty array of URLs/],
    ['an empty list', '[{"urls":[]}]', /^ICE_SERVERS\[0\]\.urls must be/],
    ['an http URL', '[{"urls":"stun:a.example"},{"urls":"https://turn.example.com"}]', /^ICE_SERVERS\[1\]\.urls: "https:\/\/turn\.example\.com" is not a stun:, turn: or turns: URL/],
    ['a URL without host', '[{"urls":"stun:"}]', /is not a stun:, turn: or turns: URL/],
    ['a port out of range', '[{"urls":"stun:a.example:70000"}]', /has a port outside 1-65535/],
    ['a transport on stun', '[{"urls":"stun:a.example?transport=tcp"}]', /\?transport is for turn: URLs only/],
    ['a TURN URL (a static password for every browser)', '[{"urls":"turn:t.example"}]', /^ICE_SERVERS\[0\]\.urls: "turn:t\.example" is a TURN URL; ICE_SERVERS is for STUN only\. TURN relays are set with TURN_URLS and TURN_SECRET/],
    ['a TURNS URL among STUN ones', '[{"urls":["stun:s.example","turns:t.example"]}]', /"turns:t\.example" is a TURN URL.*TURN_SECRET/],
    ['a static TURN credential', '[{"urls":"turn:t.example","username":"u","credential":"secret-pw"}]', /^ICE_SERVERS\[0\] has a username: ICE_SERVERS is for STUN servers without credentials\. TURN relays are set with TURN_URLS and TURN_SECRET/],
  ])('refuses %s with a clear message', (_name, raw, message) => {
    let error: unknown;
    try {
      loadConfig({ ICE_SERVERS: raw });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('secret-pw');
  });
});

describe('TURN_URLS, TURN_SECRET, TURN_TTL_SECONDS', () => {
  const SECRET = 'a'.repeat(32);
  it('is off by default; set, it keeps the URLs, the secret and a one-hour lifetime', () => {
    expect(loadConfig({}).turn).toBeUndefined();
    expect(loadConfig({ TURN_URLS: ' turn:relay.example:3478 , turn:relay.example:3478?transport=tcp,turns:relay.example:443', TURN_SECRET: SECRET }).turn).toEqual({
      urls: ['turn:relay.example:3478', 'turn:relay.example:3478?transport=tcp', 'turns:relay.example:443'], secret: SECRET, ttlSeconds: 3600,
    });
    expect(loadConfig({ TURN_URLS: 'turn:relay.example', TURN_SECRET: SECRET, TURN_TTL_SECONDS: '600' }).turn?.ttlSeconds).toBe(600);
  });

  it.each([
    ['URLs without a secret', { TURN_URLS: 'turn:relay.example' }, /^TURN_URLS needs TURN_SECRET/],
    ['a secret without URLs', { TURN_SECRET: SECRET }, /^TURN_SECRET is set without TURN_URLS/],
    ['a lifetime alone', { TURN_TTL_SECONDS: '600' }, /^TURN_TTL_SECONDS is set without TURN_URLS and TURN_SECRET/],
    ['a short secret', { TURN_URLS: 'turn:relay.example', TURN_SECRET: 'short-secret-pw' }, /^TURN_SECRET must be at least 32 characters/],
    ['a STUN URL', { TURN_URLS: 'stun:relay.example', TURN_SECRET: SECRET }, /^TURN_URLS: "stun:relay\.example" is a STUN URL; put STUN servers in ICE_SERVERS/],
    ['no URL', { TURN_URLS: 'relay.example:3478', TURN_SECRET: SECRET }, /^TURN_URLS: "relay\.example:3478" is not a stun:, turn: or turns: URL/],
    ['TURNS over UDP', { TURN_URLS: 'turns:relay.example?transport=udp', TURN_SECRET: SECRET }, /turns: runs over TCP/],
    ['a lifetime out of range', { TURN_URLS: 'turn:relay.example', TURN_SECRET: SECRET, TURN_TTL_SECONDS: '10' }, /^TURN_TTL_SECONDS must be a whole number from 60 to 604800/],
  ])('refuses %s with a clear message', (_name, env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
    try {
      loadConfig(env);
    } catch (error) {
      expect((error as Error).message).not.toContain('short-secret-pw');
    }
  });
});
