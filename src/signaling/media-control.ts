import type { FastifyBaseLogger } from 'fastify';
import type { Core, MediaPlane, MediaStatus } from '../core/index.js';
import type { MediaService } from '../media/index.js';
import type { SignalingServer } from './server.js';

/**
 * The core's media plane: service control (API calls, persisted state) reaches the media
 * workers through this, and the core answers only once it has resolved. The core runs one
 * operation at a time, so start, stop and refresh never interleave here.
 */
export class MediaControl {
  /** Why the last start failed; cleared by a successful start or a stop. */
  private lastError: string | undefined;

  constructor(
    private readonly core: Core,
    private readonly media: MediaService,
    private readonly signaling: SignalingServer,
    private readonly log: FastifyBaseLogger,
  ) {}

  /**
   * Registers with the core and starts the workers if the service is switched on. A failure is
   * logged, not thrown: the server still serves its APIs, /readyz says what is wrong, and an
   * API `start` tries again.
   */
  async start(): Promise<void> {
    this.core.service.attachMedia(this.plane);
    try {
      await this.core.service.applyState();
    } catch (error) {
      this.log.error({ err: error }, 'media workers did not start; the service start action retries');
    }
  }

  /** Server shutdown: everyone is told, the workers end. */
  async close(): Promise<void> {
    await this.core.service.detachMedia();
  }

  /** Resolves once every service operation asked for so far has run. */
  idle(): Promise<void> {
    return this.core.service.idle();
  }

  private readonly plane: MediaPlane = {
    start: async (addresses) => {
      await this.media.setAnnouncedAddresses(addresses);
      try {
        await this.media.start();
      } catch (error) {
        this.lastError = error instanceof Error ? error.message : String(error);
        this.log.error({ err: error }, 'media workers did not start');
        throw error;
      }
      this.lastError = undefined;
      this.log.info({ addresses: this.media.announcedAddresses }, 'media workers started');
    },
    stop: async () => {
      this.lastError = undefined;
      await this.signaling.serviceStopped();
      await this.media.stop();
      this.log.info('media workers stopped');
    },
    announce: async (addresses) => {
      await this.media.setAnnouncedAddresses(addresses);
      this.log.info({ addresses }, 'media announces new addresses');
    },
    status: (): MediaStatus => {
      const { state, workers, alive } = this.media.health();
      if (state !== 'idle') return { state, workers, alive };
      return this.lastError ? { state: 'failed', workers, alive, error: this.lastError } : { state: 'stopped', workers, alive };
    },
  };
}
