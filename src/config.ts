import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, networkInterfaces } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
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
  /** Comma-separated ANNOUNCED_IP, if set; otherwise addresses are detected. */
  announcedIps: string[];
  scheduleGraceMs: number;
  /** Media worker threads; 0 turns media off (API-only deployments and tests). */
  mediaWorkers: number;
  /** Address the media UDP sockets bind to. */
  rtcListenIp: string;
  rtcMinPort?: number;
  rtcMaxPort?: number;
  /** STUN/TURN servers for browsers and media; none by default. */
  iceServers: { urls: string | string[]; username?: string; credential?: string }[];
  /** An empty meeting ends after this long. */
  idleTimeoutMs: number;
  /** A dropped browser may come back this long without having left. */
  resumeWindowMs: number;
  /** A join token opens a socket within this long (after its not-before). */
  joinTokenTtlMs: number;
}

export class ConfigError extends Error {}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  return n;
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
    announcedIps: (merged.ANNOUNCED_IP ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    scheduleGraceMs: integer(merged, 'SCHEDULE_GRACE_SECONDS', 300, 0, 86400) * 1000,
    mediaWorkers: integer(merged, 'MEDIA_WORKERS', availableParallelism(), 0, 256),
    rtcListenIp: merged.RTC_LISTEN_IP || '0.0.0.0',
    ...rtcPorts(merged),
    iceServers: iceServers(merged.ICE_SERVERS),
    idleTimeoutMs: integer(merged, 'IDLE_TIMEOUT_SECONDS', 300, 1, 7 * 86400) * 1000,
    resumeWindowMs: integer(merged, 'RESUME_WINDOW_SECONDS', 30, 1, 3600) * 1000,
    joinTokenTtlMs: integer(merged, 'JOIN_TOKEN_TTL_SECONDS', 60, 1, 3600) * 1000,
  };
}

function rtcPorts(env: NodeJS.ProcessEnv): { rtcMinPort?: number; rtcMaxPort?: number } {
  if (!env.RTC_MIN_PORT && !env.RTC_MAX_PORT) return {};
  const min = integer(env, 'RTC_MIN_PORT', 0, 1024, 65535);
  const max = integer(env, 'RTC_MAX_PORT', 0, 1024, 65535);
  if (!env.RTC_MIN_PORT || !env.RTC_MAX_PORT || max < min) throw new ConfigError('RTC_MIN_PORT and RTC_MAX_PORT must both be set, with RTC_MIN_PORT ≤ RTC_MAX_PORT');
  return { rtcMinPort: min, rtcMaxPort: max };
}

/** ICE_SERVERS: a JSON array of RTCIceServer objects, e.g. [{"urls":"turn:turn.example.com","username":"u","credential":"p"}]. */
function iceServers(raw: string | undefined): Config['iceServers'] {
  if (!raw) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError('ICE_SERVERS must be a JSON array of {urls, username?, credential?}');
  }
  const ok = Array.isArray(parsed) && parsed.every((s) => typeof s === 'object' && s !== null
    && (typeof s.urls === 'string' || (Array.isArray(s.urls) && s.urls.every((u: unknown) => typeof u === 'string'))));
  if (!ok) throw new ConfigError('ICE_SERVERS must be a JSON array of {urls, username?, credential?}');
  return parsed as Config['iceServers'];
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

/**
 * The addresses media announces: `${dataDir}/announced-ip` if present (an operator can change it
 * while running, then call refreshIPConfiguration), else ANNOUNCED_IP, else this host's first
 * non-internal IPv4 address, else loopback.
 */
export function addressDetector(config: Config): () => string[] {
  return () => {
    const file = join(config.dataDir, 'announced-ip');
    if (existsSync(file)) {
      const fromFile = readFileSync(file, 'utf8').split(/[\s,]+/).filter(Boolean);
      if (fromFile.length > 0) return fromFile;
    }
    if (config.announcedIps.length > 0) return [...config.announcedIps];
    for (const addresses of Object.values(networkInterfaces())) {
      for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return [a.address];
    }
    return ['127.0.0.1'];
  };
}
