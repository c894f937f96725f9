import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RoomApp } from '../../src/api/pages/room.js';
import { loadConfig } from '../../src/config.js';
import type { AccountCredentials } from '../../src/core/index.js';
import { startServer, type RunningServer, type ServerOptions } from '../../src/server.js';

export interface TestServer {
  url: string;
  server: RunningServer;
  dataDir: string;
  /** The environment it was started with (a second process on the same store uses it too). */
  env: Record<string, string>;
  adminToken: string;
  /** A fresh account with every credential. */
  newAccount(name?: string, opts?: { timeZone?: string; serviceControl?: boolean }): Promise<AccountCredentials>;
  close(): Promise<void>;
}

/**
 * With PARLEY_TEST_PG_URL (a PostgreSQL URL whose user may create databases), each test server
 * gets its own fresh PostgreSQL database instead of SQLite: the same tests then check the store
 * on both.
 */
async function freshPostgres(): Promise<{ url: string; drop(): Promise<void> } | undefined> {
  const admin = process.env.PARLEY_TEST_PG_URL;
  if (!admin) return undefined;
  const { default: pg } = await import('pg');
  const name = `parley_test_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** A real server on 127.0.0.1 with a random port and its own data directory. */
export async function startTestServer(env: Record<string, string> = {}, options: Pick<ServerOptions, 'webhookClock' | 'turnClock' | 'recordingClock' | 'mediaService'> = {}): Promise<TestServer> {
  // Links that can be joined serve the built room; tests check what users get.
  if (!RoomApp.load()) throw new Error('the meeting room is not built: run `npm run build` (npm test does) first');
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-test-'));
  // Media is off unless a test asks for it; when on, it stays on loopback.
  const postgres = await freshPostgres();
  const fullEnv: Record<string, string> = {
    DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', MEDIA_WORKERS: '0', RTC_LISTEN_IP: '127.0.0.1', ANNOUNCED_IP: '127.0.0.1',
    ...(postgres ? { DATABASE_URL: postgres.url } : {}), ...env,
  };
  // PARLEY_TEST_LOG_LEVEL=debug (or trace) prints the server's log, to see why a test went as it did.
  const logLevel = process.env.PARLEY_TEST_LOG_LEVEL;
  const server = await startServer({ config: loadConfig(fullEnv), logger: logLevel ? { level: logLevel } : false, env: fullEnv, ...options });
  const adminToken = await server.core.admin.rotateToken();
  return {
    url: server.url,
    server,
    dataDir,
    env: fullEnv,
    adminToken,
    async newAccount(name = 'Test', opts = {}) {
      const res = await fetch(`${server.url}/api/v1/admin/accounts`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name, ...opts }),
      });
      if (res.status !== 201) throw new Error(`account creation failed: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { credentials: AccountCredentials }).credentials;
    },
    async close() {
      await server.close();
      await postgres?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
