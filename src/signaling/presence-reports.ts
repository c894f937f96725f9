import type { FastifyBaseLogger } from 'fastify';
import type { Core } from '../core/index.js';

/**
 * Tells the core that a seat's media connected or that it left. Each seat's reports go one after
 * another: a "left" never overtakes the "connected" before it, whatever the database's timing.
 */
export class PresenceReports {
  private readonly chains = new Map<string, Promise<void>>();

  constructor(private readonly core: Core, private readonly log: FastifyBaseLogger) {}

  report(meetingId: string, participantId: string, what: 'connected' | 'left'): Promise<void> {
    const key = `${meetingId}/${participantId}`;
    const before = this.chains.get(key) ?? Promise.resolve();
    const presence = this.core.presence;
    const next = before
      .then(() => (what === 'connected' ? presence.connected(meetingId, participantId) : presence.left(meetingId, participantId)))
      .then(() => undefined, (error: unknown) => this.log.warn({ err: error }, `signaling: presence.${what} failed`));
    this.chains.set(key, next);
    void next.then(() => {
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
    return next;
  }
}
