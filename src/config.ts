import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { availableParallelism, networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { checkOrigin } from './core/cors.js';
import { CoreError } from './core/errors.js';
import { DEFAULT_RATE_LIMIT_PER_MINUTE } from './core/rate-limits.js';
import { isValidTimeZone } from './core/time.js';

/** Everything an operator can set, from the environment, overridable by `parley serve` flags. */
export interface Config {
  port: number;
  host: string;
  publicUrl: string;
  /** True when PUBLIC_URL was not set: it follows the port actually bound (PORT=0 picks one). */
  publicUrlFromPort: boolean;
  dataDir: string;
  databaseUrl?: string;
  timeZone: string;
  maxMeetings: number;
  maxUsers: number;
  bodyLimit: number;
  logLevel: string;
  /** LOG_FORMAT: json or pretty; unset, pretty on a terminal (decided when the logger is made). */
  logFormat?: string;
  /** METRICS_TOKEN: GET /metrics needs it as a Bearer token; unset, only this host may scrape. */
  metricsToken?: string;
  /** METRICS_OFF: no /metrics and no per-request latency measurement (for a deployment that scrapes nothing). */
  metricsOff: boolean;
  /** Comma-separated ANNOUNCED_IP, if set; otherwise addresses are detected. */
  announcedIps: string[];
  scheduleGraceMs: number;
  /** Media worker threads; 0 turns media off (API-only deployments and tests). */
  mediaWorkers: number;
  /** Last-N: each person receives the cameras of at most this many others, the latest speakers; 0: all. */
  lastN: number;
  /** Address the media UDP sockets bind to. */
  rtcListenIp: string;
  rtcMinPort?: number;
  rtcMaxPort?: number;
  /** STUN servers (no credentials) for browsers and media; none by default. TURN is `turn`. */
  iceServers: { urls: string | string[] }[];
  /** The TURN relay (coturn with use-auth-secret) whose per-participant credentials the room gets. */
  turn?: { urls: string[]; secret: string; ttlSeconds: number };
  /** An empty meeting ends after this long. */
  idleTimeoutMs: number;
  /** A dropped browser may come back this long without having left. */
  resumeWindowMs: number;
  /** A join token opens a socket within this long (after its not-before). */
  joinTokenTtlMs: number;
  /** After a graceful restart, the people of its rooms may take their seats again for this long. */
  rejoinWindowMs: number;
  /** Webhook delivery: per-request timeout, requests in flight, outbox poll, first retry delay. */
  webhooks: { timeoutMs: number; concurrency: number; pollMs: number; retryBaseMs: number };
  /** Composition of recordings (ffmpeg processes). */
  recordings: { concurrency: number; timeoutMs: number };
  /** Browser origins that may read every account's API answers (CORS); none by default. */
  corsOrigins: string[];
  /** API requests per minute per account (accounts may have their own); 0 turns limits off. */
  rateLimitPerMinute: number;
  /** LiveMinutes failures with HTTP error statuses instead of the document's HTTP 200 + resultcode 0. */
  liveMinutesHttpErrors: boolean;
  /** REDIS_URL and the node's own identity; absent: a single node, everything in process. */
  cluster?: ClusterConfig;
}

/** Several nodes coordinating through Redis (docs/cluster.md). */
export interface ClusterConfig {
  redisUrl: string;
  /** NODE_ID: stable name of this node; defaults to a random one per start. */
  nodeId: string;
  /** NODE_PUBLIC_URL: where browsers reach this node itself (signaling and media); default PUBLIC_URL. */
  nodePublicUrl?: string;
  /** A node whose heartbeat is older than this is dead (NODE_TTL_SECONDS, default 15). */
  nodeTtlMs: number;
  /** How often a node writes its heartbeat and load (a third of the TTL). */
  heartbeatMs: number;
  /** SIGTERM drains: the running meetings have this long to end before the node stops (DRAIN_GRACE_SECONDS, default 600). */
  drainGraceMs: number;
}

export class ConfigError extends Error {}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  return n;
}

function flag(env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = (env[name] ?? '').trim().toLowerCase();
  if (raw === '' || raw === 'false' || raw === '0') return false;
  if (raw === 'true' || raw === '1') return true;
  throw new ConfigError(`${name} must be true or false, got "${env[name]}"`);
}

/** CORS_ORIGINS: exact origins separated by commas (https://app.example.com,http://localhost:3000). */
function corsOrigins(raw: string | undefined): string[] {
  const list = (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const origin of list) {
    try {
      checkOrigin('CORS_ORIGINS', origin);
    } catch (error) {
      if (error instanceof CoreError) throw new ConfigError(`CORS_ORIGINS: "${origin}" ${error.reason}`);
      throw error;
    }
  }
  return [...new Set(list)];
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, flags: Record<string, string | undefined> = {}): Config {
  const merged = { ...env };
  const flagToEnv: Record<string, string> = { port: 'PORT', host: 'HOST', 'public-url': 'PUBLIC_URL', 'data-dir': 'DATA_DIR' };
  for (const [flag, name] of Object.entries(flagToEnv)) if (flags[flag] !== undefined) merged[name] = flags[flag];

  const port = integer(merged, 'PORT', 8080, 0, 65535);
  const timeZone = merged.TIME_ZONE || 'UTC';
  if (!isValidTimeZone(timeZone)) throw new ConfigError(`TIME_ZONE must be an IANA time zone name, got "${timeZone}"`);
  const publicUrl = (merged.PUBLIC_URL || `http://localhost:${port}`).replace(/\/+$/, '');
  try {
    const u = new URL(publicUrl);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
  } catch {
    throw new ConfigError(`PUBLIC_URL must be an http(s) URL, got "${publicUrl}"`);
  }
  return {
    port,
    host: merged.HOST || '0.0.0.0',
    publicUrl,
    publicUrlFromPort: !merged.PUBLIC_URL,
    dataDir: resolve(merged.DATA_DIR || './data'),
    databaseUrl: merged.DATABASE_URL || undefined,
    timeZone,
    maxMeetings: integer(merged, 'QUOTA_MAX_MEETINGS', 10000, 0, 1e9),
    maxUsers: integer(merged, 'QUOTA_MAX_USERS', 1000, 0, 1e9),
    bodyLimit: integer(merged, 'BODY_LIMIT', 256 * 1024, 1024, 64 * 1024 * 1024),
    logLevel: merged.LOG_LEVEL || 'info',
    logFormat: merged.LOG_FORMAT || undefined,
    metricsToken: metricsToken(merged.METRICS_TOKEN),
    metricsOff: flag(merged, 'METRICS_OFF'),
    announcedIps: announcedIps(merged.ANNOUNCED_IP),
    scheduleGraceMs: integer(merged, 'SCHEDULE_GRACE_SECONDS', 300, 0, 86400) * 1000,
    mediaWorkers: integer(merged, 'MEDIA_WORKERS', availableParallelism(), 0, 256),
    lastN: integer(merged, 'LAST_N', 16, 0, 1000),
    rtcListenIp: listenIp(merged.RTC_LISTEN_IP),
    ...rtcPorts(merged),
    iceServers: parseIceServers(merged.ICE_SERVERS),
    turn: turnSettings(merged),
    idleTimeoutMs: integer(merged, 'IDLE_TIMEOUT_SECONDS', 300, 1, 7 * 86400) * 1000,
    resumeWindowMs: integer(merged, 'RESUME_WINDOW_SECONDS', 30, 1, 3600) * 1000,
    joinTokenTtlMs: integer(merged, 'JOIN_TOKEN_TTL_SECONDS', 60, 1, 3600) * 1000,
    rejoinWindowMs: integer(merged, 'RESTART_REJOIN_SECONDS', 120, 1, 3600) * 1000,
    recordings: {
      concurrency: integer(merged, 'RECORDING_COMPOSE_CONCURRENCY', 1, 1, 16),
      timeoutMs: integer(merged, 'RECORDING_COMPOSE_TIMEOUT_SECONDS', 600, 10, 86_400) * 1000,
    },
    webhooks: {
      timeoutMs: integer(merged, 'WEBHOOK_TIMEOUT_SECONDS', 10, 1, 60) * 1000,
      concurrency: integer(merged, 'WEBHOOK_CONCURRENCY', 8, 1, 256),
      pollMs: integer(merged, 'WEBHOOK_POLL_SECONDS', 5, 1, 300) * 1000,
      retryBaseMs: integer(merged, 'WEBHOOK_RETRY_BASE_SECONDS', 30, 1, 3600) * 1000,
    },
    corsOrigins: corsOrigins(merged.CORS_ORIGINS),
    rateLimitPerMinute: integer(merged, 'RATE_LIMIT_PER_MINUTE', DEFAULT_RATE_LIMIT_PER_MINUTE, 0, 1e9),
    liveMinutesHttpErrors: flag(merged, 'LIVEMINUTES_HTTP_ERRORS'),
    cluster: clusterConfig(merged),
  };
}

function clusterConfig(env: NodeJS.ProcessEnv): ClusterConfig | undefined {
  const redisUrl = env.REDIS_URL?.trim();
  if (!redisUrl) return undefined;
  if (!/^rediss?:\/\//.test(redisUrl)) throw new ConfigError(`REDIS_URL must be a redis:// or rediss:// URL, got "${redisUrl}"`);
  const nodeId = env.NODE_ID?.trim() || `node-${randomBytes(4).toString('hex')}`;
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(nodeId)) throw new ConfigError(`NODE_ID must be 1 to 64 letters, digits, '.', '_' or '-', got "${nodeId}"`);
  let nodePublicUrl: string | undefined;
  if (env.NODE_PUBLIC_URL) {
    nodePublicUrl = env.NODE_PUBLIC_URL.replace(/\/+$/, '');
    let ok = false;
    try { ok = ['http:', 'https:'].includes(new URL(nodePublicUrl).protocol); } catch { /* reported below */ }
    if (!ok) throw new ConfigError(`NODE_PUBLIC_URL must be an http(s) URL, got "${env.NODE_PUBLIC_URL}"`);
  }
  const nodeTtlMs = integer(env, 'NODE_TTL_SECONDS', 15, 1, 3600) * 1000;
  const drainGraceMs = integer(env, 'DRAIN_GRACE_SECONDS', 600, 0, 86_400) * 1000;
  return { redisUrl, nodeId, nodePublicUrl, nodeTtlMs, heartbeatMs: Math.max(200, Math.floor(nodeTtlMs / 3)), drainGraceMs };
}

function metricsToken(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (raw.length < 16 || /\s/.test(raw)) throw new ConfigError('METRICS_TOKEN must be at least 16 characters, without spaces');
  return raw;
}

function announcedIps(raw: string | undefined): string[] {
  const list = (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const bad = list.find((a) => isIP(a) === 0);
  if (bad !== undefined) throw new ConfigError(`ANNOUNCED_IP must be IP addresses separated by commas, got "${bad}"`);
  return list;
}

function listenIp(raw: string | undefined): string {
  const ip = raw?.trim() || '0.0.0.0';
  if (isIP(ip) === 0) throw new ConfigError(`RTC_LISTEN_IP must be an IP address (0.0.0.0 for all interfaces), got "${ip}"`);
  return ip;
}

function rtcPorts(env: NodeJS.ProcessEnv): { rtcMinPort?: number; rtcMaxPort?: number } {
  if (!env.RTC_MIN_PORT && !env.RTC_MAX_PORT) return {};
  const min = integer(env, 'RTC_MIN_PORT', 0, 1024, 65535);
  const max = integer(env, 'RTC_MAX_PORT', 0, 1024, 65535);
  if (!env.RTC_MIN_PORT || !env.RTC_MAX_PORT || max < min) throw new ConfigError('RTC_MIN_PORT and RTC_MAX_PORT must both be set, with RTC_MIN_PORT ≤ RTC_MAX_PORT');
  return { rtcMinPort: min, rtcMaxPort: max };
}

type IceServer = Config['iceServers'][number];
const ICE_SERVER_SHAPE = 'ICE_SERVERS must be a JSON array of {"urls"} STUN servers, e.g. [{"urls":"stun:stun.example.com:3478"}]';
const TURN_ELSEWHERE = 'TURN relays are set with TURN_URLS and TURN_SECRET (coturn\'s use-auth-secret): each participant then gets its own short-lived credentials instead of one password for every browser';
// scheme:host[:port][?transport=udp|tcp], host a name, an IPv4 address or a bracketed IPv6 one
const ICE_URL = /^(stun|turns?):(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?(?:\?transport=(udp|tcp))?$/i;

/** One stun:/turn:/turns: URL's parts, or the reason it is not one. */
export function parseIceUrl(url: string): { scheme: 'stun' | 'turn' | 'turns'; host: string; port?: number; transport?: 'udp' | 'tcp' } | string {
  const m = ICE_URL.exec(url.trim());
  if (!m) return `"${url}" is not a stun:, turn: or turns: URL (scheme:host[:port])`;
  const [, scheme, host, port, transport] = m;
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return `"${url}" has a port outside 1-65535`;
  const lower = scheme!.toLowerCase() as 'stun' | 'turn' | 'turns';
  if (lower === 'stun' && transport) return `"${url}": ?transport is for turn: URLs only`;
  if (lower === 'turns' && transport?.toLowerCase() === 'udp') return `"${url}": turns: runs over TCP (TLS); browsers have no TURN over DTLS`;
  return { scheme: lower, host: host!, port: port === undefined ? undefined : Number(port), transport: transport?.toLowerCase() as 'udp' | 'tcp' | undefined };
}

/**
 * ICE_SERVERS: a JSON array of STUN servers ({"urls"}), for browsers and media. TURN entries and
 * credentials are refused: a static TURN password here would reach every browser on the
 * internet (see TURN_URLS / TURN_SECRET).
 */
export function parseIceServers(raw: string | undefined): Config['iceServers'] {
  if (!raw?.trim()) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError(`${ICE_SERVER_SHAPE}; it is not valid JSON`);
  }
  if (!Array.isArray(parsed)) throw new ConfigError(ICE_SERVER_SHAPE);
  return parsed.map((entry: unknown, i): IceServer => {
    const where = `ICE_SERVERS[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new ConfigError(`${where} must be an object: ${ICE_SERVER_SHAPE}`);
    const server = entry as Record<string, unknown>;
    for (const key of Object.keys(server)) {
      if (key === 'username' || key === 'credential') throw new ConfigError(`${where} has a ${key}: ICE_SERVERS is for STUN servers without credentials. ${TURN_ELSEWHERE}`);
      if (key !== 'urls') throw new ConfigError(`${where} has an unknown field "${key}" (known: urls)`);
    }
    const urls = typeof server.urls === 'string' ? [server.urls] : server.urls;
    if (!Array.isArray(urls) || urls.length === 0 || !urls.every((u): u is string => typeof u === 'string')) {
      throw new ConfigError(`${where}.urls must be a URL or a non-empty array of URLs`);
    }
    for (const url of urls) {
      const parsedUrl = parseIceUrl(url);
      if (typeof parsedUrl === 'string') throw new ConfigError(`${where}.urls: ${parsedUrl}`);
      if (parsedUrl.scheme !== 'stun') throw new ConfigError(`${where}.urls: "${url}" is a TURN URL; ICE_SERVERS is for STUN only. ${TURN_ELSEWHERE}`);
    }
    return { urls: typeof server.urls === 'string' ? server.urls : [...urls] };
  });
}

/** Default lifetime of a TURN credential: new allocations need a fresh one (the page gets one at half of it). */
export const DEFAULT_TURN_TTL_SECONDS = 3600;

/**
 * TURN_URLS (comma-separated turn:/turns: URLs), TURN_SECRET (coturn's static-auth-secret, at
 * least 32 characters: 128 random bits as hex) and TURN_TTL_SECONDS; all or none.
 */
function turnSettings(env: NodeJS.ProcessEnv): Config['turn'] {
  const urls = (env.TURN_URLS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const secret = env.TURN_SECRET ?? '';
  if (urls.length === 0 && !secret) {
    if (env.TURN_TTL_SECONDS) throw new ConfigError('TURN_TTL_SECONDS is set without TURN_URLS and TURN_SECRET');
    return undefined;
  }
  if (urls.length === 0) throw new ConfigError('TURN_SECRET is set without TURN_URLS (comma-separated turn: or turns: URLs, e.g. turn:turn.example.com:3478,turn:turn.example.com:3478?transport=tcp)');
  if (!secret) throw new ConfigError('TURN_URLS needs TURN_SECRET: the static-auth-secret of coturn (use-auth-secret), e.g. from `openssl rand -hex 32`');
  for (const url of urls) {
    const parsed = parseIceUrl(url);
    if (typeof parsed === 'string') throw new ConfigError(`TURN_URLS: ${parsed}`);
    if (parsed.scheme === 'stun') throw new ConfigError(`TURN_URLS: "${url}" is a STUN URL; put STUN servers in ICE_SERVERS`);
  }
  if (secret.length < 32 || /\s/.test(secret)) throw new ConfigError('TURN_SECRET must be at least 32 characters without spaces (128 random bits or more, e.g. `openssl rand -hex 32`)');
  return { urls, secret, ttlSeconds: integer(env, 'TURN_TTL_SECONDS', DEFAULT_TURN_TTL_SECONDS, 60, 7 * 86400) };
}

/**
 * The server secret that link tokens derive from: PARLEY_SECRET (several nodes must share it),
 * else `secret.key` in the data directory, created on first use. Back it up with the database:
 * without it, personal links change.
 */
export function loadSecret(config: Config, env: NodeJS.ProcessEnv = process.env): Buffer {
  if (env.PARLEY_SECRET) {
    if (env.PARLEY_SECRET.length < 32) throw new ConfigError('PARLEY_SECRET must be at least 32 characters');
    return Buffer.from(env.PARLEY_SECRET, 'utf8');
  }
  mkdirSync(config.dataDir, { recursive: true });
  const file = join(config.dataDir, 'secret.key');
  if (!existsSync(file)) {
    try {
      writeFileSync(file, randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error; // another process made it first
    }
  }
  return Buffer.from(readFileSync(file, 'utf8').trim(), 'utf8');
}

/** What the detector found, and where from (for logs and error messages). */
export interface DetectedAddresses {
  addresses: string[];
  source: string;
}

/** The host facts the detector reads; tests pass their own. */
export interface HostNetwork {
  interfaces(): NodeJS.Dict<NetworkInterfaceInfo[]>;
  /** The text of /proc/net/route, or undefined where there is none (not Linux). */
  routeTable(): string | undefined;
}

const hostNetwork: HostNetwork = {
  interfaces: networkInterfaces,
  routeTable: () => {
    try {
      return readFileSync('/proc/net/route', 'utf8');
    } catch {
      return undefined;
    }
  },
};

const isWildcard = (ip: string) => ip === '0.0.0.0' || ip === '::';

/**
 * The interface of the IPv4 default route in /proc/net/route (destination and mask 0, flag
 * RTF_UP), the one with the lowest metric when there are several.
 */
export function defaultRouteInterface(routeTable: string | undefined): string | undefined {
  let best: { iface: string; metric: number } | undefined;
  for (const line of (routeTable ?? '').split('\n').slice(1)) {
    const [iface, destination, , flags, , , metric, mask] = line.trim().split(/\s+/);
    if (!iface || destination !== '00000000' || mask !== '00000000') continue;
    if ((Number.parseInt(flags ?? '0', 16) & 0x1) === 0) continue;
    const m = Number(metric);
    if (!best || m < best.metric) best = { iface, metric: m };
  }
  return best?.iface;
}

const firstIPv4 = (infos: NetworkInterfaceInfo[] | undefined) =>
  infos?.find((a) => a.family === 'IPv4' && !a.internal)?.address;

/**
 * The addresses media announces, in this order:
 * 1. `${dataDir}/announced-ip` if present and not empty (an operator can change it while
 *    running, then call refreshIPConfiguration);
 * 2. ANNOUNCED_IP;
 * 3. RTC_LISTEN_IP when it is one address (not 0.0.0.0 / ::): the sockets are bound there;
 * 4. the IPv4 address of the default route's interface (/proc/net/route);
 * 5. the first non-internal IPv4 address; 6. loopback.
 * The core validates what this returns (an `announced-ip` file may hold anything).
 */
export function addressDetector(config: Config, host: HostNetwork = hostNetwork): () => DetectedAddresses {
  return () => {
    const file = join(config.dataDir, 'announced-ip');
    if (existsSync(file)) {
      const fromFile = readFileSync(file, 'utf8').split(/[\s,]+/).filter(Boolean);
      if (fromFile.length > 0) return { addresses: fromFile, source: `the file ${file}` };
    }
    if (config.announcedIps.length > 0) return { addresses: [...config.announcedIps], source: 'ANNOUNCED_IP' };
    if (!isWildcard(config.rtcListenIp)) return { addresses: [config.rtcListenIp], source: 'RTC_LISTEN_IP' };
    const interfaces = host.interfaces();
    const routed = defaultRouteInterface(host.routeTable());
    const viaRoute = routed ? firstIPv4(interfaces[routed]) : undefined;
    if (routed && viaRoute) return { addresses: [viaRoute], source: `the default route's interface ${routed}` };
    for (const [name, infos] of Object.entries(interfaces)) {
      const address = firstIPv4(infos);
      if (address) return { addresses: [address], source: `the first network interface, ${name}` };
    }
    return { addresses: ['127.0.0.1'], source: 'loopback (no other interface)' };
  };
}
