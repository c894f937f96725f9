import type { FastifyBaseLogger } from 'fastify';
import type { Core } from '../core/index.js';
import type { MediaService } from '../media/index.js';
import type { SignalingServer } from './server.js';

/**
 * Makes the media workers obey the core's service state: the core says running or stopped
 * (API calls, persisted), this starts or stops the workers and re-announces addresses.
 * Operations run one after another, so a quick stop+start (restart) cannot interleave.
 */
export class MediaControl {
  private queue: Promise<void> = Promise.resolve();
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    private readonly core: Core,
    private readonly media: MediaService,
    private readonly signaling: SignalingServer,
    private readonly log: FastifyBaseLogger,
  ) {}

  async start(): Promise<void> {
    this.unsubscribe.push(
      this.core.events.on('service.state', ({ running }) => this.enqueue(running ? 'start' : 'stop')),
      this.core.events.on('service.addresses', ({ addresses }) => this.media.setAnnouncedAddresses(addresses)),
    );
    if (this.core.service.running) await this.enqueue('start');
  }

  async close(): Promise<void> {
    for (const off of this.unsubscribe) off();
    await this.enqueue('stop');
  }

  /** Resolves once every operation queued so far has run. */
  idle(): Promise<void> {
    return this.queue;
  }

  private enqueue(op: 'start' | 'stop'): Promise<void> {
    this.queue = this.queue.then(async () => {
      if (op === 'start' && !this.media.running) {
        this.media.setAnnouncedAddresses(this.core.service.addresses);
        await this.media.start();
        this.log.info({ addresses: this.media.announcedAddresses }, 'media workers started');
      } else if (op === 'stop' && this.media.running) {
        await this.signaling.serviceStopped();
        await this.media.stop();
        this.log.info('media workers stopped');
      }
    }).catch((error: unknown) => this.log.error({ err: error }, `media ${op} failed`));
    return this.queue;
  }
}
