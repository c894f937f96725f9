import BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/**
 * better-sqlite3 behind Kysely, with prepared statements cached by SQL text. Kysely prepares
 * every query anew; preparing costs more than running a point lookup, and the set of distinct
 * SQL texts our repositories produce is small and fixed.
 */
export function openSqlite(file: string): { database: SqliteDatabase; raw: BetterSqlite3.Database } {
  const raw = new BetterSqlite3(file);
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL'); // safe with WAL: a crash loses at most the last commits, never corrupts
  raw.pragma('foreign_keys = ON');
  raw.pragma('busy_timeout = 5000'); // the CLI may write while the server runs
  raw.pragma('wal_autocheckpoint = 0'); // see Checkpointer: checkpoints run in a worker thread

  const cache = new Map<string, BetterSqlite3.Statement>();
  const database: SqliteDatabase = {
    close: () => raw.close(),
    prepare(sqlText: string): SqliteStatement {
      let statement = cache.get(sqlText);
      if (!statement) {
        statement = raw.prepare(sqlText);
        if (cache.size >= 1000) cache.delete(cache.keys().next().value as string);
        cache.set(sqlText, statement);
      }
      return statement as unknown as SqliteStatement;
    },
  };
  return { database, raw };
}
