import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { Repositories, Store } from './repositories.js';
import { ReadCache, withReadCache } from './read-cache.js';
import { migrationProvider } from './sql/migrations.js';
import { Checkpointer } from './sql/checkpointer.js';
import { createHotQueries, createRepositories } from './sql/repositories.js';
import type { Database } from './sql/schema.js';
import { openSqlite } from './sql/sqlite.js';

/** How long a read of SQLite's data_version is trusted (see writesElsewhere). */
const VERSION_CHECK_MS = 5;

export type * from './records.js';
export type * from './repositories.js';
export { UniqueViolation } from './repositories.js';

export interface StoreOptions {
  /** `postgres://…` selects PostgreSQL; otherwise SQLite at `${dataDir}/parley.db`. */
  databaseUrl?: string;
  dataDir: string;
  /**
   * Fail loudly when code inside a transaction queries outside it. Costs an AsyncLocalStorage
   * (async hooks on every promise), so it is for tests: default on under Vitest.
   */
  checkTransactions?: boolean;
  /** Errors nobody awaits (an idle PostgreSQL connection that the server closed). */
  onError?: (error: unknown) => void;
}

/** Opens the database and brings its schema up to date. */
export async function openStore(options: StoreOptions): Promise<Store> {
  let db: Kysely<Database>;
  let dialect: Store['dialect'];
  let writesElsewhere: Store['writesElsewhere'] = () => undefined;
  let checkpointer: Checkpointer | undefined;
  if (options.databaseUrl && /^postgres(ql)?:\/\//.test(options.databaseUrl)) {
    dialect = 'postgres';
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 10 });
    // An idle connection the server ends (a restart, a terminated backend) is reported here, and
    // an 'error' event without a listener would end the process. The pool drops that connection;
    // the next query opens a new one.
    pool.on('error', (error) => options.onError?.(error));
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  } else {
    dialect = 'sqlite';
    mkdirSync(options.dataDir, { recursive: true });
    const file = join(options.dataDir, 'parley.db');
    const { database, raw } = openSqlite(file);
    checkpointer = new Checkpointer(file);
    const dataVersion = raw.prepare('PRAGMA data_version').pluck();
    // Asked by every cached read, so answered from memory for a few milliseconds: the PRAGMA
    // cost ~5 µs, a tenth of a getMeetingStatus. Another process's write (the CLI rotating a
    // key) is thus seen at most VERSION_CHECK_MS late.
    let version: number | undefined;
    let checkedAt = -Infinity;
    writesElsewhere = () => {
      const now = performance.now();
      if (now - checkedAt >= VERSION_CHECK_MS) {
        version = dataVersion.get() as number;
        checkedAt = now;
      }
      return version;
    };
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
  }

  const { error } = await new Migrator({ db, provider: migrationProvider }).migrateToLatest();
  if (error) {
    await checkpointer?.close();
    await db.destroy();
    throw error instanceof Error ? error : new Error(String(error));
  }

  const checked = options.checkTransactions ?? process.env.VITEST !== undefined;
  const inTransaction = checked ? new AsyncLocalStorage<true>() : undefined;
  const hot = createHotQueries();
  // PostgreSQL cannot tell this process about other nodes' writes: no cache there.
  const cache = dialect === 'sqlite' ? new ReadCache(writesElsewhere) : undefined;
  const plain = createRepositories(db, hot);
  const cached = cache ? withReadCache(plain, cache, 'cached') : plain;
  return {
    ...(inTransaction ? outsideTransactions(cached, inTransaction) : cached),
    dialect,
    writesElsewhere,
    async transaction(work) {
      try {
        return await db.transaction().execute((trx) => {
          const repos = createRepositories(trx, hot);
          const run = () => work(cache ? withReadCache(repos, cache, 'transaction') : repos);
          return inTransaction ? inTransaction.run(true, run) : run();
        });
      } finally {
        cache?.clear();
      }
    },
    async close() {
      await db.destroy();
      await checkpointer?.close();
    },
  };
}

/**
 * Inside a transaction every query must go through its `tx`: the store's own repositories would
 * run outside it (PostgreSQL) or wait forever for the one SQLite connection the transaction holds.
 * This turns that mistake into an immediate error.
 */
function outsideTransactions(repos: Repositories, inTransaction: AsyncLocalStorage<true>): Repositories {
  const guarded: Record<string, Record<string, unknown>> = {};
  for (const [name, repo] of Object.entries(repos) as [string, Record<string, (...args: unknown[]) => unknown>][]) {
    guarded[name] = {};
    for (const [method, fn] of Object.entries(repo)) {
      guarded[name][method] = (...args: unknown[]) => {
        if (inTransaction.getStore()) throw new Error(`store.${name}.${method} called inside a transaction: use the transaction's repositories`);
        return fn(...args);
      };
    }
  }
  return guarded as unknown as Repositories; // same methods, same signatures
}
