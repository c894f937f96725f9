import { isIP } from 'node:net';
import type { EndReason, Store } from '../store/index.js';
import { assertNotNativeApp, type Actor } from './actor.js';
import { CoreError } from './errors.js';
import type { CoreEventBus } from './events.js';

export type { Actor } from './actor.js';

const RUNNING_KEY = 'service.running';

/**
 * What stopping the service needs of the meetings: that every live session ends. The meeting
 * service satisfies it; service control does not depend on meetings' module (nor it on this one).
 */
export interface LiveSessions {
  endAllLive(reason: EndReason): Promise<void>;
}

/** The addresses media should announce as configured or detected now, and where they came from. */
export type AddressDetector = () => { addresses: string[]; source: string };

/** The media workers' real state. */
export interface MediaStatus {
  state: 'running' | 'starting' | 'stopping' | 'stopped' | 'failed';
  /** worker threads configured */
  workers: number;
  /** worker threads alive now (a crashed one is respawned) */
  alive: number;
  /** why the last start failed, while `state` is `failed` */
  error?: string;
}

/**
 * What the core needs from the media layer, so that service control answers only once the
 * workers have acted. The core owns this interface and never imports media: the process that
 * runs media registers one (src/signaling/media-control.ts). Calls never overlap.
 */
export interface MediaPlane {
  /** Starts the workers announcing `addresses`; resolves once joins work, rejects with the reason. */
  start(addresses: string[]): Promise<void>;
  /** Tells everyone still in a room, closes the rooms, ends the workers. */
  stop(): Promise<void>;
  /** Transports created after this resolves announce `addresses`. */
  announce(addresses: string[]): Promise<void>;
  status(): MediaStatus;
}

export interface ServiceStatus {
  /** Joins work: the service is switched on and its media workers (if any) run. */
  running: boolean;
  /** Switched on (the last start/stop asked for; kept across restarts). */
  enabled: boolean;
  addresses: string[];
  /** Absent when this server runs no media (MEDIA_WORKERS=0). */
  media?: MediaStatus;
}

const reasonOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * The media service: whether it is switched on (persisted), the addresses media announces, and
 * the media plane that carries them out. start/stop/restart/refresh resolve once the media
 * plane has acted and fail with `unavailable` (a server-side failure) when it could not.
 */
export class ServiceControl {
  private isEnabled = true;
  private current: string[] = [];
  private plane: MediaPlane | undefined;
  /** Service operations run one after another: a restart never interleaves with a start. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly events: CoreEventBus,
    private readonly meetings: () => LiveSessions,
    private readonly detectAddresses: AddressDetector,
  ) {}

  /** Reads the persisted state and the addresses; an invalid configured address stops the start. */
  async load(): Promise<void> {
    this.isEnabled = (await this.store.settings.get(RUNNING_KEY)) !== 'false';
    this.current = this.detect();
  }

  /** Joins work now: switched on, and the media plane (if any) is up. */
  get running(): boolean {
    return this.isEnabled && (!this.plane || this.plane.status().state === 'running');
  }

  get enabled(): boolean {
    return this.isEnabled;
  }

  get addresses(): string[] {
    return [...this.current];
  }

  status(): ServiceStatus {
    const media = this.plane?.status();
    return { running: this.running, enabled: this.isEnabled, addresses: this.addresses, ...(media ? { media } : {}) };
  }

  /** Service control affects every meeting on the server: only accounts the operator allows, never native apps. */
  assertMayControl(actor: Actor): void {
    if (actor === 'operator') return;
    assertNotNativeApp(actor, 'control the service');
    if (!actor.account.serviceControl) throw new CoreError('forbidden', 'this account may not control the service');
  }

  /** Registers the media layer (one per process). */
  attachMedia(plane: MediaPlane): void {
    this.plane = plane;
  }

  /** Stops the media layer and forgets it (server shutdown). */
  detachMedia(): Promise<void> {
    return this.serial(async () => {
      const plane = this.plane;
      this.plane = undefined;
      await plane?.stop();
    });
  }

  /** Brings the media layer to the persisted state (server start); rejects like `start`. */
  applyState(): Promise<void> {
    return this.serial(async () => {
      if (this.isEnabled) await this.bringUp();
    });
  }

  /** Resolves once every operation asked for so far has run. */
  async idle(): Promise<void> {
    await this.queue;
  }

  async stop(actor: Actor): Promise<void> {
    this.assertMayControl(actor);
    await this.serial(() => this.doStop());
  }

  /** Also on a service that is on but whose media is down: that retries. */
  async start(actor: Actor): Promise<void> {
    this.assertMayControl(actor);
    await this.serial(() => this.doStart());
  }

  async restart(actor: Actor): Promise<void> {
    this.assertMayControl(actor);
    await this.serial(async () => {
      await this.doStop();
      await this.doStart();
    });
  }

  /**
   * Re-reads the configured or detected addresses; transports created once this resolves use
   * them. An address that is not an IP literal is refused and nothing changes.
   */
  async refresh(actor: Actor): Promise<string[]> {
    this.assertMayControl(actor);
    return this.serial(async () => {
      const addresses = this.detect();
      if (this.plane) {
        try {
          await this.plane.announce(addresses);
        } catch (error) {
          throw new CoreError('unavailable', `the media workers did not take the new addresses: ${reasonOf(error)}`);
        }
      }
      this.current = addresses;
      this.events.emit('service.addresses', { addresses: this.addresses });
      return this.addresses;
    });
  }

  /**
   * Another node of the cluster switched the service (`running`) or re-read its addresses: this
   * node's media follows. The other node stored the state and ended the meetings; nothing is
   * checked again here (it checked who asked).
   */
  follow(change: { running: boolean } | { refresh: true }): Promise<void> {
    return this.serial(async () => {
      if ('refresh' in change) {
        const addresses = this.detect();
        await this.plane?.announce(addresses);
        this.current = addresses;
        this.events.emit('service.addresses', { addresses: this.addresses, followed: true });
        return;
      }
      if (this.isEnabled !== change.running) {
        this.isEnabled = change.running;
        this.events.emit('service.state', { running: change.running, followed: true });
      }
      if (change.running) await this.bringUp();
      else await this.plane?.stop();
    });
  }

  private async doStop(): Promise<void> {
    await this.setEnabled(false);
    await this.meetings().endAllLive('service_stopped');
    if (!this.plane) return;
    try {
      await this.plane.stop();
    } catch (error) {
      throw new CoreError('unavailable', `the media workers did not stop cleanly: ${reasonOf(error)}`);
    }
  }

  private async doStart(): Promise<void> {
    await this.setEnabled(true);
    await this.bringUp();
  }

  private async bringUp(): Promise<void> {
    const plane = this.plane;
    if (!plane || plane.status().state === 'running') return;
    try {
      await plane.start(this.addresses);
    } catch (error) {
      throw new CoreError('unavailable', `the media workers did not start: ${reasonOf(error)}. The service stays switched on; start again to retry`);
    }
  }

  private detect(): string[] {
    const { addresses, source } = this.detectAddresses();
    if (addresses.length === 0) throw new CoreError('conflict', `no address to announce was found in ${source}`);
    const bad = addresses.find((a) => isIP(a) === 0);
    if (bad !== undefined) {
      throw new CoreError('conflict', `the announced address "${bad}" from ${source} is not an IP address; nothing was changed`);
    }
    return [...new Set(addresses)];
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(op, op);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async setEnabled(enabled: boolean) {
    await this.store.settings.set(RUNNING_KEY, String(enabled));
    if (this.isEnabled === enabled) return;
    this.isEnabled = enabled;
    this.events.emit('service.state', { running: enabled });
  }
}
