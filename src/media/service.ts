// The media plane's front door: owns the worker threads, places rooms on them, survives
// their crashes.
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import type { RequestName, WorkerEvent, WorkerRequests, WorkerSettings } from './protocol.js';
import { MediaRoom } from './room.js';
import {
  MediaError,
  type MediaConfig,
  type MediaLogger,
  type MediaServiceEvents,
  type WorkerStats,
} from './types.js';
import { kernelReceiveBufferCap, smallReceiveBufferWarning } from './udp-buffers.js';
import { WorkerHost } from './worker-host.js';

const ELU_SAMPLE_MS = 2000;
const STOP_TIMEOUT_MS = 5000;
const RESPAWN_MIN_MS = 100;
const RESPAWN_MAX_MS = 10_000;
/** A worker that stayed up this long resets its crash backoff. */
const STABLE_AFTER_MS = 30_000;

const consoleLogger: MediaLogger = {
  info: () => undefined,
  warn: (obj, msg) => console.warn(msg ?? '', obj),
  error: (obj, msg) => console.error(msg ?? '', obj),
};

function validateAddresses(addrs: string[]): string[] {
  for (const a of addrs) {
    if (isIP(a) === 0) throw new MediaError('invalid', `announced address ${a} is not an IP address`);
  }
  return [...addrs];
}

interface Slot {
  host: WorkerHost;
  startedAt: number;
  backoffMs: number;
  respawnTimer: NodeJS.Timeout | undefined;
  respawning: Promise<void> | undefined;
  /** rooms being opened on it right now, so that a burst of openRoom spreads out */
  opening: number;
}

export class MediaService extends EventEmitter<MediaServiceEvents> {
  private readonly config: Required<Omit<MediaConfig, 'rtcMinPort' | 'rtcMaxPort'>> &
    Pick<MediaConfig, 'rtcMinPort' | 'rtcMaxPort'>;
  private readonly logger: MediaLogger;
  private slots: Slot[] = [];
  protected readonly rooms = new Map<string, MediaRoom>();
  private readonly opening = new Map<string, Promise<MediaRoom>>();
  private state: 'idle' | 'starting' | 'running' | 'stopping' = 'idle';
  private eluTimer: NodeJS.Timeout | undefined;
  /** Workers accept test-only requests; only TestMediaService (src/media/testing.ts) sets it. */
  protected readonly testHooks: boolean = false;

  constructor(config: MediaConfig, logger: MediaLogger = consoleLogger) {
    super();
    const workers = config.workers ?? availableParallelism();
    if (!Number.isInteger(workers) || workers < 1) throw new MediaError('invalid', 'workers must be a positive integer');
    if (isIP(config.listenIp) === 0) throw new MediaError('invalid', `listenIp ${config.listenIp} is not an IP address`);
    const { rtcMinPort: min, rtcMaxPort: max } = config;
    if ((min === undefined) !== (max === undefined)) {
      throw new MediaError('invalid', 'rtcMinPort and rtcMaxPort go together');
    }
    if (min !== undefined && max !== undefined) {
      // werift needs at least two ports per range.
      if (!(min > 0 && max <= 65535 && max - min + 1 >= 2 * workers)) {
        throw new MediaError('invalid', `port range ${min}-${max} is too small for ${workers} workers`);
      }
    }
    const lastN = config.lastN ?? 0;
    if (!Number.isInteger(lastN) || lastN < 0) throw new MediaError('invalid', 'lastN must be a whole number, 0 for no limit');
    this.config = {
      ...config,
      lastN,
      workers,
      announcedAddresses: validateAddresses(config.announcedAddresses),
      iceServers: config.iceServers ?? [],
    };
    this.logger = logger;
  }

  get running(): boolean {
    return this.state === 'running';
  }

  /** Spawns the workers; resolves when all are ready. */
  async start(): Promise<void> {
    if (this.state !== 'idle') throw new MediaError('invalid_state', `media service is ${this.state}`);
    this.state = 'starting';
    const bufferWarning = smallReceiveBufferWarning(kernelReceiveBufferCap());
    if (bufferWarning) this.logger.warn({}, bufferWarning);
    this.slots = Array.from({ length: this.config.workers }, (_, index) => ({
      host: this.createHost(index),
      startedAt: 0,
      backoffMs: RESPAWN_MIN_MS,
      respawnTimer: undefined,
      respawning: undefined,
      opening: 0,
    }));
    try {
      await Promise.all(
        this.slots.map(async (slot) => {
          await slot.host.start();
          slot.startedAt = Date.now();
        }),
      );
    } catch (error) {
      await Promise.allSettled(this.slots.map((s) => s.host.terminate()));
      this.slots = [];
      this.state = 'idle';
      throw error;
    }
    this.eluTimer = setInterval(() => {
      for (const slot of this.slots) slot.host.sampleElu();
    }, ELU_SAMPLE_MS);
    this.eluTimer.unref();
    this.state = 'running';
    this.logger.info({ workers: this.config.workers }, 'media service started');
  }

  /** Closes every room and peer (their 'closed' events fire) and ends the workers. */
  async stop(): Promise<void> {
    if (this.state !== 'running') return;
    this.state = 'stopping';
    clearInterval(this.eluTimer);
    for (const slot of this.slots) clearTimeout(slot.respawnTimer);
    await Promise.allSettled(
      this.slots.map((slot) => slot.host.request('closeAll', { reason: 'service-stopped' }, STOP_TIMEOUT_MS)),
    );
    // Whatever the workers could not report (dead, timed out) is closed here.
    for (const room of [...this.rooms.values()]) {
      try {
        room._terminate('service-stopped');
      } catch (error) {
        this.logger.error({ error: String(error) }, 'media close listener threw');
      }
    }
    this.rooms.clear();
    await Promise.allSettled(this.slots.map((slot) => slot.host.terminate()));
    this.slots = [];
    this.state = 'idle';
    this.logger.info({}, 'media service stopped');
  }

  /**
   * New transports announce these addresses; existing ones keep theirs. Throws at once on an
   * address that is not an IP literal; resolves once every live worker has them (a worker that
   * dies meanwhile gets them when it is respawned).
   */
  setAnnouncedAddresses(addrs: string[]): Promise<void> {
    this.config.announcedAddresses = validateAddresses(addrs);
    const announced = this.config.announcedAddresses;
    return Promise.all(
      this.slots
        .filter((slot) => slot.host.alive)
        .map((slot) =>
          slot.host.request('configure', { announcedAddresses: announced }).catch((error: unknown) => {
            this.logger.warn({ worker: slot.host.index, error: String(error) }, 'media worker configure failed');
          }),
        ),
    ).then(() => undefined);
  }

  /** The real state: 'idle' until start() resolves and after stop(); how many threads are up. */
  health(): { state: 'idle' | 'starting' | 'running' | 'stopping'; workers: number; alive: number } {
    return { state: this.state, workers: this.config.workers, alive: this.slots.filter((s) => s.host.alive).length };
  }

  get announcedAddresses(): string[] {
    return [...this.config.announcedAddresses];
  }

  getRoom(roomId: string): MediaRoom | undefined {
    return this.rooms.get(roomId);
  }

  /** Returns the open room with this id, or opens it on the least-loaded worker. */
  openRoom(roomId: string): Promise<MediaRoom> {
    if (this.state !== 'running') return Promise.reject(new MediaError('not_running', 'media service is not running'));
    const existing = this.rooms.get(roomId);
    if (existing && !existing.closed) {
      // A room being closed still receives its worker's last events under this id: open the
      // new one only once they are all in.
      const closing = existing._closing;
      return closing ? closing.then(() => this.openRoom(roomId)) : Promise.resolve(existing);
    }
    let opening = this.opening.get(roomId);
    if (!opening) {
      opening = this.doOpenRoom(roomId).finally(() => this.opening.delete(roomId));
      this.opening.set(roomId, opening);
    }
    return opening;
  }

  private async doOpenRoom(roomId: string): Promise<MediaRoom> {
    const slot = await this.pickSlot();
    const room = new MediaRoom(slot.host, roomId, (r) => {
      if (this.rooms.get(r.id) === r) this.rooms.delete(r.id);
    });
    slot.opening++;
    try {
      await slot.host.request('openRoom', { roomId });
    } finally {
      slot.opening--;
    }
    if (this.state !== 'running') throw new MediaError('not_running', 'media service is not running');
    this.rooms.set(roomId, room);
    return room;
  }

  private async pickSlot(): Promise<Slot> {
    const load = new Map<WorkerHost, number>();
    for (const room of this.rooms.values()) {
      const host = this.slots[room.workerIndex]?.host;
      if (host) load.set(host, (load.get(host) ?? 0) + 1 + room.peers.length);
    }
    // rooms + peers, plus the measured busyness (ELU 0.5 weighs like ten peers)
    const score = (s: Slot) => (load.get(s.host) ?? 0) + s.opening + 20 * s.host.recentElu;
    const alive = this.slots.filter((s) => s.host.alive);
    if (alive.length === 0) {
      const respawning = this.slots.map((s) => s.respawning).filter((p): p is Promise<void> => !!p);
      if (respawning.length === 0) throw new MediaError('worker_died', 'no media worker is running');
      await Promise.race(respawning);
      if (this.state !== 'running') throw new MediaError('not_running', 'media service is not running');
      return this.pickSlot();
    }
    return alive.reduce((best, s) => (score(s) < score(best) ? s : best));
  }

  /** Per-worker load; `eventLoopUtilization` covers the time since the previous call. */
  async stats(): Promise<WorkerStats[]> {
    return Promise.all(
      this.slots.map(async (slot): Promise<WorkerStats> => {
        const host = slot.host;
        const elu = host.eluSinceLastStats();
        const counters = host.alive ? await host.request('workerStats', {}).catch(() => undefined) : undefined;
        return {
          index: host.index,
          threadId: host.threadId,
          alive: host.alive,
          rooms: counters?.rooms ?? 0,
          peers: counters?.peers ?? 0,
          eventLoopUtilization: elu,
          recentEventLoopUtilization: host.recentElu,
          eventLoopActiveSeconds: host.eluActiveSeconds(),
          tracksPublished: counters?.tracksPublished ?? 0,
          tracksForwarded: counters?.tracksForwarded ?? 0,
          packetsLost: counters?.packetsLost ?? 0,
          packetsLate: counters?.packetsLate ?? 0,
          packetsResent: counters?.packetsResent ?? 0,
          resendsMissing: counters?.resendsMissing ?? 0,
          packetsIn: counters?.packetsIn ?? 0,
          bytesIn: counters?.bytesIn ?? 0,
          packetsOut: counters?.packetsOut ?? 0,
          bytesOut: counters?.bytesOut ?? 0,
          restarts: host.restarts,
          cpuSeconds: counters?.cpuSeconds,
          loopStalls: counters?.loopStalls ?? 0,
          loopStalledSeconds: counters?.loopStalledSeconds ?? 0,
        };
      }),
    );
  }

  /** Test hook: terminates a worker thread the way a crash would end it. */
  async killWorkerForTesting(index: number): Promise<void> {
    const slot = this.slots[index];
    if (!slot) throw new MediaError('not_found', `no worker ${index}`);
    await slot.host.kill();
  }

  /** A request to the worker of an open room (for TestMediaService). */
  protected requestRoomWorker<K extends RequestName>(roomId: string, op: K, params: WorkerRequests[K][0]): Promise<WorkerRequests[K][1]> {
    const room = this.rooms.get(roomId);
    const host = room && this.slots[room.workerIndex]?.host;
    if (!host) return Promise.reject(new MediaError('not_found', `no open room ${roomId}`));
    return host.request(op, params);
  }

  // ---------------------------------------------------------------- workers

  private settingsFor(index: number): WorkerSettings {
    const { rtcMinPort: min, rtcMaxPort: max, workers } = this.config;
    let portRange: [number, number] | undefined;
    if (min !== undefined && max !== undefined) {
      // Disjoint slices: werift's port probing is not safe across threads.
      const size = Math.floor((max - min + 1) / workers);
      const lo = min + index * size;
      portRange = [lo, index === workers - 1 ? max : lo + size - 1];
    }
    return {
      index,
      listenIp: this.config.listenIp,
      announcedAddresses: [...this.config.announcedAddresses],
      portRange,
      iceServers: this.config.iceServers,
      lastN: this.config.lastN,
      testHooks: this.testHooks,
      debugLog: this.logs('debug'),
      traceLog: this.logs('trace'),
    };
  }

  /** The logger writes this optional level (pino has both). */
  private logs(level: 'debug' | 'trace'): boolean {
    return this.logger.isLevelEnabled?.(level) === true && this.logger[level] !== undefined;
  }

  private createHost(index: number): WorkerHost {
    return new WorkerHost(index, this.settingsFor(index), {
      onEvent: (host, event) => this.onWorkerEvent(host, event),
      onDeath: (host, error) => this.onWorkerDeath(host, error),
    });
  }

  private onWorkerEvent(host: WorkerHost, event: WorkerEvent): void {
    try {
      if (event.ev === 'log') {
        // debug and trace are optional in a MediaLogger (the worker only sends them when present).
        this.logger[event.level]?.({ ...event.data }, event.msg);
        return;
      }
      if (event.ev === 'ready') return;
      const room = this.rooms.get(event.roomId);
      if (!room || room.workerIndex !== host.index) return;
      room._handleEvent(event);
    } catch (error) {
      // A listener of ours threw; the worker and the other rooms must not suffer for it.
      this.logger.error({ error: error instanceof Error ? error.stack : String(error) }, 'media event listener threw');
    }
  }

  private onWorkerDeath(host: WorkerHost, error: Error): void {
    const slot = this.slots.find((s) => s.host === host);
    if (!slot || this.state !== 'running') return;
    this.logger.error({ worker: host.index, error: error.stack ?? String(error) }, 'media worker died');
    for (const room of [...this.rooms.values()]) {
      if (room.workerIndex !== host.index) continue;
      try {
        room._terminate('worker-died');
      } catch (listenerError) {
        this.logger.error({ error: String(listenerError) }, 'media close listener threw');
      }
    }
    try {
      this.emit('workerDied', host.index, error);
    } catch (listenerError) {
      this.logger.error({ error: String(listenerError) }, 'workerDied listener threw');
    }
    if (Date.now() - slot.startedAt > STABLE_AFTER_MS) slot.backoffMs = RESPAWN_MIN_MS;
    this.scheduleRespawn(slot);
  }

  private scheduleRespawn(slot: Slot): void {
    const delay = slot.backoffMs;
    slot.backoffMs = Math.min(RESPAWN_MAX_MS, slot.backoffMs * 2);
    slot.respawning = new Promise<void>((resolve) => {
      slot.respawnTimer = setTimeout(() => {
        slot.respawnTimer = undefined;
        if (this.state !== 'running') return resolve();
        const host = this.createHost(slot.host.index);
        host.restarts = slot.host.restarts + 1;
        host
          .start()
          .then(() => {
            if (this.state !== 'running') {
              void host.terminate();
              return;
            }
            slot.host = host;
            slot.startedAt = Date.now();
            slot.respawning = undefined;
            this.logger.warn({ worker: host.index, restarts: host.restarts }, 'media worker respawned');
            try {
              this.emit('workerRespawned', host.index);
            } catch (listenerError) {
              this.logger.error({ error: String(listenerError) }, 'workerRespawned listener threw');
            }
          })
          .catch((error: unknown) => {
            this.logger.error({ worker: host.index, error: String(error) }, 'media worker respawn failed');
            slot.host.restarts = host.restarts;
            this.scheduleRespawn(slot);
          })
          .finally(resolve);
      }, delay);
    });
  }
}
