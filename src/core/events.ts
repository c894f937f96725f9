import { EventEmitter } from 'node:events';
import type { EndReason, MeetingStatus, ParticipantStatus } from '../store/index.js';

/** What the core announces. Signaling, media control, webhooks and metrics listen; none of them set state. */
export interface CoreEvents {
  'meeting.status': { accountId: string; meetingId: string; status: MeetingStatus; previous: MeetingStatus; endReason: EndReason | null };
  /** A live session must stop now (ended for all, disabled, removed, cancelled, service stopped). */
  'meeting.closed': { accountId: string; meetingId: string; reason: EndReason | 'removed' | 'reset' };
  /** A meeting's settings changed (preset, access…): rooms recompute what their people may do. */
  'meeting.changed': { accountId: string; meetingId: string };
  /** A preset changed or was deleted (`name` is its name now; `previousName` before a rename). */
  'preset.changed': { accountId: string; name: string; previousName: string };
  'participant.status': { accountId: string; meetingId: string; participantId: string; status: ParticipantStatus; previous: ParticipantStatus };
  /** A personal link was cancelled or deleted: its holder must be removed from the room. */
  'participant.revoked': { accountId: string; meetingId: string; participantId: string };
  /** `followed`: this node followed another node's change (a cluster); the change is not this node's to announce. */
  'service.state': { running: boolean; followed?: boolean };
  'service.addresses': { addresses: string[]; followed?: boolean };
  /** A meeting's recording started or stopped (`error`: it stopped by itself, e.g. a full disk): rooms show it. */
  'recording.state': { accountId: string; meetingId: string; recordingId: string; recording: boolean; error?: string };
  /** A recording was deleted (API, retention): its files go. */
  'recording.deleted': { recordingId: string };
  /** A recording waits for composition: the composer may look now. */
  'recordings.queued': Record<string, never>;
  /** Webhook events were committed to the outbox: the delivery worker may look now. */
  'webhooks.queued': Record<string, never>;
}

export class CoreEventBus {
  private readonly emitter = new EventEmitter();

  /** A failing listener is reported here and never breaks the core operation that emitted. */
  constructor(private readonly onListenerError: (error: unknown, event: string) => void = () => {}) {
    this.emitter.setMaxListeners(100);
  }

  on<E extends keyof CoreEvents>(event: E, listener: (payload: CoreEvents[E]) => void | Promise<void>): () => void {
    const safe = (payload: CoreEvents[E]) => {
      try {
        const result = listener(payload);
        if (result instanceof Promise) result.catch((error: unknown) => this.onListenerError(error, event));
      } catch (error) {
        this.onListenerError(error, event);
      }
    };
    this.emitter.on(event, safe);
    return () => this.emitter.off(event, safe);
  }

  emit<E extends keyof CoreEvents>(event: E, payload: CoreEvents[E]): void {
    this.emitter.emit(event, payload);
  }
}
