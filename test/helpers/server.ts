import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RoomApp } from '../../src/api/pages/room.js';
import { loadConfig } from '../../src/config.js';
import type { AccountCredentials } from '../../src/core/index.js';
import { startServer, type RunningServer } from '../../src/server.js';

export interface TestServer {
  url: string;
  server: RunningServer;
  dataDir: string;
  adminToken: string;
  /** A fresh account with every credential. */
  newAccount(name?: string, opts?: { timeZone?: string; serviceControl?: boolean }): Promise<AccountCredentials>;
  close(): Promise<void>;
}

/** A real server on 127.0.0.1 with a random port and its own data directory. */
export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  // Links that can be joined serve the built room; tests check what users get.
  if (!RoomApp.load()) throw new Error('the meeting room is not built: run `npm run build` (npm test does) first');
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-test-'));
  // Media is off unless a test asks for it; when on, it stays on loopback.
  const fullEnv = { DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', MEDIA_WORKERS: '0', RTC_LISTEN_IP: '127.0.0.1', ANNOUNCED_IP: '127.0.0.1', ...env };
  const server = await startServer({ config: loadConfig(fullEnv), logger: false, env: fullEnv });
  const adminToken = await server.core.admin.rotateToken();
  return {
    url: server.url,
    server,
    dataDir,
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
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
