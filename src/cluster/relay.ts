import type { Redis } from 'ioredis';
import type { Core, CoreEvents } from '../core/index.js';
import { PREFIX } from './redis.js';

const CHANNEL = `${PREFIX}events`;

/**
 * Core events that concern live rooms, wherever they run: every node's signaling must hear them;
 * new webhook deliveries, so that every node's worker may claim them at once (the claim in
 * PostgreSQL decides who sends each); a recording started or stopped (the room shows it) and
 * recordings waiting for composition (one node's lease composes each) or deleted (each node removes
 * the files it has).
 */
const SHARED = ['meeting.closed', 'meeting.changed', 'preset.changed', 'participant.revoked', 'webhooks.queued', 'recording.state', 'recordings.queued', 'recording.deleted'] as const;
type Shared = typeof SHARED[number];

type Message =
  | { from: string; event: Shared; payload: CoreEvents[Shared] }
  | { from: string; service: { running: boolean } | { refresh: true } };

/**
 * Carries the core's events between nodes over Redis pub/sub: a meeting ended, changed or a link
 * revoked through one node reaches the room on the node that runs it; a service stop, start or
 * address refresh through one node reaches every node's media. Decides nothing: events received
 * are emitted on this node's bus (rooms react as to their own), service changes are handed to
 * `core.service.follow`.
 */
export class EventRelay {
  private relaying = false;
  private readonly offs: (() => void)[] = [];

  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    private readonly core: Core,
    private readonly nodeId: string,
    private readonly onError: (error: unknown) => void,
  ) {}

  async start(): Promise<void> {
    for (const event of SHARED) {
      this.offs.push(this.core.events.on(event, (payload) => {
        if (!this.relaying) this.send({ from: this.nodeId, event, payload });
      }));
    }
    this.offs.push(this.core.events.on('service.state', ({ running, followed }) => {
      if (!followed) this.send({ from: this.nodeId, service: { running } });
    }));
    this.offs.push(this.core.events.on('service.addresses', ({ followed }) => {
      if (!followed) this.send({ from: this.nodeId, service: { refresh: true } });
    }));
    this.subscriber.on('message', (_channel: string, raw: string) => this.receive(raw));
    await this.subscriber.subscribe(CHANNEL);
  }

  async stop(): Promise<void> {
    for (const off of this.offs) off();
    this.subscriber.disconnect();
  }

  private send(message: Message): void {
    this.publisher.publish(CHANNEL, JSON.stringify(message)).catch(this.onError);
  }

  private receive(raw: string): void {
    let message: Message;
    try {
      message = JSON.parse(raw) as Message;
    } catch (error) {
      return this.onError(error);
    }
    if (message.from === this.nodeId) return;
    if ('service' in message) {
      this.core.service.follow(message.service).catch(this.onError);
      return;
    }
    // Emitting is synchronous: the flag keeps this node from sending the event back out.
    this.relaying = true;
    try {
      this.core.events.emit(message.event, message.payload);
    } finally {
      this.relaying = false;
    }
  }
}
