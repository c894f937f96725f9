import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

// Runs in the worker: its own connection to the same file, checkpointing now and then.
// PASSIVE never waits for (or blocks) the server's readers and writers.
const WORKER_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 1000');
const checkpoint = () => { try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {} };
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m !== 'close') return;
  clearInterval(timer);
  try { db.pragma('wal_checkpoint(TRUNCATE)'); } catch {}
  db.close();
  parentPort.postMessage('closed');
});
`;

/**
 * Copies the write-ahead log back into the database from a worker thread. SQLite's automatic
 * checkpoint runs inside a commit, on the event loop, and took 5–20 ms here every few dozen
 * meeting creations; moving it off the server's thread removes those stalls.
 * The server's connection must have `wal_autocheckpoint = 0`.
 */
export class Checkpointer {
  private readonly worker: Worker;

  constructor(file: string, intervalMs = 1000) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_CODE, { eval: true, workerData: { file, driver, intervalMs } });
    this.worker.unref();
    this.worker.on('error', () => undefined); // a failed checkpoint only lets the log grow until the next one
  }

  /** A last, full checkpoint (the log is emptied), then the worker ends. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => {
      this.worker.once('message', () => resolve());
      this.worker.once('exit', () => resolve());
    });
    this.worker.postMessage('close');
    await Promise.race([closed, new Promise((r) => setTimeout(r, 5000).unref())]);
    await this.worker.terminate();
  }
}
