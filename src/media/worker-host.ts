// The main-thread end of one media worker thread: spawning (from compiled JS or, under
// vitest/tsx, from TypeScript), request/response correlation, liveness, load sampling.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { EventLoopUtilization } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { MainToWorker, RequestName, WorkerEvent, WorkerRequests, WorkerSettings, WorkerToMain } from './protocol.js';
import { MediaError } from './types.js';

const REQUEST_TIMEOUT_MS = 30_000;
const READY_TIMEOUT_MS = 20_000;

// Node 20 cannot start a Worker from a .ts file, even under tsx: the worker starts from this
// CommonJS bootstrap, which registers tsx's loader first when the entry is TypeScript.
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsxApi) {
    const { register } = await import(workerData.tsxApi);
    register();
  }
  await import(workerData.entry);
})().catch((error) => {
  // Rethrow outside the promise so that the worker exits with an 'error' event.
  setImmediate(() => { throw error; });
});
`;

function entryUrls(): { entry: string; tsxApi: string | undefined } {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return { entry: new URL('./worker/entry.js', here).href, tsxApi: undefined };
  // Running from src/ (vitest, tsx): find tsx's ESM API through its exports map, since the
  // require condition that createRequire would pick points at the CommonJS build.
  const require = createRequire(here);
  const pkgPath = require.resolve('tsx/package.json');
  // JSON.parse returns any; only the exports entry is read.
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as {
    exports: Record<string, { import: string | { default: string } }>;
  };
  const target = pkg.exports['./esm/api']?.import;
  const rel = typeof target === 'string' ? target : target?.default;
  if (!rel) throw new Error('cannot find tsx/esm/api to load the TypeScript media worker');
  return {
    entry: new URL('./worker/entry.ts', here).href,
    tsxApi: pathToFileURL(join(dirname(pkgPath), rel)).href,
  };
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

export interface WorkerHostCallbacks {
  onEvent(host: WorkerHost, event: WorkerEvent): void;
  /** The thread ended without `terminate()` having been asked for. */
  onDeath(host: WorkerHost, error: Error): void;
}

/**
 * How long a thread may take to close its UDP sockets before it is terminated anyway. Generous:
 * terminating it with a socket open risks the whole process (see `closeSockets`), and a thread
 * busy on a loaded machine answers late.
 */
const CLOSE_SOCKETS_TIMEOUT_MS = 10_000;

export class WorkerHost {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stopping = false;
  private lastError: Error | undefined;
  alive = false;
  restarts = 0;
  /** ELU over the last sampling period, for placement */
  recentElu = 0;
  private eluSample: EventLoopUtilization | undefined;
  private eluStatsBaseline: EventLoopUtilization | undefined;

  constructor(
    readonly index: number,
    readonly settings: WorkerSettings,
    private readonly callbacks: WorkerHostCallbacks,
  ) {}

  get threadId(): number {
    return this.worker?.threadId ?? -1;
  }

  async start(): Promise<void> {
    this.stopping = false;
    this.lastError = undefined;
    const { entry, tsxApi } = entryUrls();
    const worker = new Worker(BOOTSTRAP, {
      eval: true,
      name: `parley-media-${this.index}`,
      workerData: { entry, tsxApi, settings: this.settings },
    });
    this.worker = worker;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`media worker ${this.index} did not start in ${READY_TIMEOUT_MS} ms`));
        void worker.terminate();
      }, READY_TIMEOUT_MS);
      const onMessage = (message: WorkerToMain) => {
        if (message.t === 'ev' && message.ev === 'ready') {
          clearTimeout(timer);
          worker.off('exit', onEarlyExit);
          worker.off('message', onMessage);
          resolve();
        }
      };
      const onEarlyExit = (code: number) => {
        clearTimeout(timer);
        reject(this.lastError ?? new Error(`media worker ${this.index} exited with code ${code} while starting`));
      };
      worker.on('message', onMessage);
      worker.once('exit', onEarlyExit);
      worker.on('error', (error) => {
        this.lastError = error;
      });
    });
    this.alive = true;
    this.eluSample = worker.performance.eventLoopUtilization();
    this.eluStatsBaseline = this.eluSample;
    worker.on('message', (message: WorkerToMain) => this.onMessage(message));
    worker.on('exit', (code) => this.onExit(worker, code));
  }

  private onMessage(message: WorkerToMain): void {
    if (message.t === 'res') {
      const p = this.pending.get(message.id);
      if (!p) return;
      this.pending.delete(message.id);
      clearTimeout(p.timer);
      if (message.ok) p.resolve(message.value);
      else p.reject(new MediaError(message.code, message.message));
      return;
    }
    if (message.ev === 'ready') return;
    this.callbacks.onEvent(this, message);
  }

  private onExit(worker: Worker, code: number): void {
    if (worker !== this.worker) return;
    this.alive = false;
    this.worker = undefined;
    this.rejectAll(new MediaError('worker_died', `media worker ${this.index} exited`));
    if (this.stopping) return;
    this.callbacks.onDeath(this, this.lastError ?? new Error(`media worker ${this.index} exited with code ${code}`));
  }

  private rejectAll(error: Error): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(error);
    }
    this.pending.clear();
  }

  request<K extends RequestName>(
    op: K,
    params: WorkerRequests[K][0],
    timeoutMs = REQUEST_TIMEOUT_MS,
  ): Promise<WorkerRequests[K][1]> {
    const worker = this.worker;
    if (!worker || !this.alive) {
      return Promise.reject(new MediaError('worker_died', `media worker ${this.index} is not running`));
    }
    const id = this.nextId++;
    return new Promise<WorkerRequests[K][1]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new MediaError('timeout', `media worker ${this.index}: ${op} timed out`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
      worker.postMessage({ t: 'req', id, op, params } as MainToWorker);
    });
  }

  /** Samples event-loop utilization since the previous sample (placement uses it). */
  sampleElu(): void {
    const worker = this.worker;
    if (!worker || !this.alive || !this.eluSample) return;
    const now = worker.performance.eventLoopUtilization();
    this.recentElu = worker.performance.eventLoopUtilization(now, this.eluSample).utilization;
    this.eluSample = now;
  }

  /** Utilization since the previous call (what `MediaService.stats()` reports). */
  eluSinceLastStats(): number {
    const worker = this.worker;
    if (!worker || !this.alive || !this.eluStatsBaseline) return 0;
    const now = worker.performance.eventLoopUtilization();
    const value = worker.performance.eventLoopUtilization(now, this.eluStatsBaseline).utilization;
    this.eluStatsBaseline = now;
    return value;
  }

  /** Busy time of the current thread's event loop since it started, in seconds. */
  eluActiveSeconds(): number {
    const worker = this.worker;
    if (!worker || !this.alive) return 0;
    return worker.performance.eventLoopUtilization().active / 1000;
  }

  /** Intentional stop: no death callback. */
  async terminate(): Promise<void> {
    this.stopping = true;
    const worker = this.worker;
    if (!worker) return;
    await this.closeSockets();
    await worker.terminate();
  }

  /** Test hook: kills the thread as a crash would (the death callback runs). */
  async kill(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.lastError = new Error(`media worker ${this.index} was terminated`);
    await this.closeSockets();
    await worker.terminate();
  }

  /**
   * Node aborts the process when a datagram reaches an open socket of a thread being terminated:
   * the thread closes its sockets first (bounded: a stuck thread is terminated anyway).
   */
  private async closeSockets(): Promise<void> {
    if (!this.alive) return;
    await this.request('closeSockets', {}, CLOSE_SOCKETS_TIMEOUT_MS).catch(() => undefined);
  }
}
