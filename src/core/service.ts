import type { AccountRecord, Store } from '../store/index.js';
import { CoreError } from './errors.js';
import type { CoreEventBus } from './events.js';
import type { MeetingService } from './meetings.js';

/** Who asks: an account (for Livebox, through a server key or a native-app key), or the operator. */
export type Actor = { account: AccountRecord; client?: 'server' | 'native' } | 'operator';

const RUNNING_KEY = 'service.running';

/** Native apps hold a key that ships inside an app: it never reaches server-wide or account-wide switches. */
export function assertNotNativeApp(actor: Actor, what: string): void {
  if (actor !== 'operator' && actor.client === 'native') throw new CoreError('forbidden', `a Nativeappkey may not ${what}; use the Serverkey`);
}

/**
 * The media service's desired state and the addresses media announces. The core owns them
 * (they survive restarts); the media layer obeys the events.
 */
export class ServiceControl {
  private isRunning = true;
  private current: string[] = [];

  constructor(
    private readonly store: Store,
    private readonly events: CoreEventBus,
    private readonly meetings: () => MeetingService,
    private readonly detectAddresses: () => string[],
  ) {}

  async load(): Promise<void> {
    this.isRunning = (await this.store.settings.get(RUNNING_KEY)) !== 'false';
    this.current = this.detectAddresses();
  }

  get running(): boolean {
    return this.isRunning;
  }

  get addresses(): string[] {
    return [...this.current];
  }

  /** Service control affects every meeting on the server: only accounts the operator allows, never native apps. */
  assertMayControl(actor: Actor): void {
    if (actor === 'operator') return;
    assertNotNativeApp(actor, 'control the service');
    if (!actor.account.serviceControl) throw new CoreError('forbidden', 'this account may not control the service');
  }

  async stop(actor: Actor): Promise<void> {
    this.assertMayControl(actor);
    await this.setRunning(false);
    await this.meetings().endAllLive('service_stopped');
  }

  async start(actor: Actor): Promise<void> {
    this.assertMayControl(actor);
    await this.setRunning(true);
  }

  async restart(actor: Actor): Promise<void> {
    await this.stop(actor);
    await this.start(actor);
  }

  /** Re-reads the host's addresses and the configured public address. */
  refresh(actor: Actor): string[] {
    this.assertMayControl(actor);
    this.current = this.detectAddresses();
    this.events.emit('service.addresses', { addresses: this.addresses });
    return this.addresses;
  }

  private async setRunning(running: boolean) {
    await this.store.settings.set(RUNNING_KEY, String(running));
    if (this.isRunning === running) return;
    this.isRunning = running;
    this.events.emit('service.state', { running });
  }
}
