import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { bearer, send } from '../helpers/http.js';
import { startTestServer } from '../helpers/server.js';

// Only with PostgreSQL (npm run test:postgres): SQLite has no connections to lose.
describe.skipIf(!process.env.PARLEY_TEST_PG_URL)('on PostgreSQL', () => {
  it('idle connections the database ends do not take the server down; the next request works', async () => {
    const t = await startTestServer();
    try {
      const acc = await t.newAccount('pg');
      const meetings = () => send(`${t.url}/api/v1/meetings`, { headers: bearer(acc.apiToken) });
      // Requests at once, so that the pool keeps several connections open and idle.
      expect((await Promise.all([1, 2, 3, 4].map(() => meetings()))).map((r) => r.status)).toEqual([200, 200, 200, 200]);

      // The database ends them, as a restart or an operator's pg_terminate_backend would.
      const admin = new pg.Client({ connectionString: t.server.config.databaseUrl });
      await admin.connect();
      try {
        const ended = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
        expect(ended.rowCount).toBeGreaterThan(0);
      } finally {
        await admin.end();
      }
      await new Promise((r) => setTimeout(r, 300)); // the pool hears of it

      expect((await meetings()).status).toBe(200);
    } finally {
      await t.close();
    }
  });
});
