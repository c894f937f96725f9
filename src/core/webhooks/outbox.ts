import type {
  MeetingRecord, ParticipantRecord, Repositories, Store, WebhookDeliveryRecord, WebhookEndpointRecord,
} from '../../store/index.js';
import type { CoreEventBus } from '../events.js';
import { newId } from '../secrets.js';
import {
  meetingChangeEvent, meetingOf, participantChangeEvent, participantOf, type WebhookPayload, type WebhookSentType,
} from './events.js';

/** How long a delivery is retried before it fails, by default (24 h). */
export const DEFAULT_RETRY_FOR_MS = 24 * 3600_000;

const wants = (endpoint: WebhookEndpointRecord, type: WebhookSentType) => endpoint.events === null || endpoint.events.includes(type);

/**
 * Writes webhook events into the outbox, inside the transaction of the change that caused them:
 * the event row and one pending delivery per enabled endpoint that wants it. Nothing is sent
 * here; the delivery worker (outside the core) asks `WebhookDispatch` what is due.
 */
export class WebhookOutbox {
  constructor(private readonly store: Store, private readonly events: CoreEventBus, readonly retryForMs = DEFAULT_RETRY_FOR_MS) {}

  /**
   * Runs `work` atomically: in a new transaction, or in the caller's `tx` when one is given (its
   * commit is the caller's; the worker's poll picks the events up). Wakes the worker afterwards.
   */
  async atomically<T>(tx: Repositories, work: (tx: Repositories) => Promise<T>): Promise<T> {
    if (tx !== this.store) return work(tx);
    const result = await this.store.transaction(work);
    this.events.emit('webhooks.queued', {});
    return result;
  }

  /**
   * One event for the account's endpoints that want it (or for `only`, whatever it wants: a ping).
   * Returns the deliveries written (none when no endpoint wants it: then no event is kept).
   */
  async write(
    tx: Repositories, accountId: string, type: WebhookSentType,
    about: { meeting?: MeetingRecord; participant?: ParticipantRecord; data?: Record<string, unknown> },
    only?: WebhookEndpointRecord,
  ): Promise<WebhookDeliveryRecord[]> {
    const endpoints = only ? [only] : (await tx.webhookEndpoints.listEnabled(accountId)).filter((e) => wants(e, type));
    if (endpoints.length === 0) return [];
    const now = new Date();
    const payload: WebhookPayload = {
      id: newId('evt', now.getTime()),
      type,
      createdAt: now.toISOString(),
      accountId,
      meeting: about.meeting ? meetingOf(about.meeting) : null,
      participant: about.participant ? participantOf(about.participant) : null,
      data: about.data ?? {},
    };
    await tx.webhookOutbox.insertEvent({ id: payload.id, accountId, type, body: JSON.stringify(payload), createdAt: now });
    const deliveries: WebhookDeliveryRecord[] = [];
    for (const endpoint of endpoints) {
      const delivery: WebhookDeliveryRecord = {
        id: newId('dlv', now.getTime()), eventId: payload.id, endpointId: endpoint.id, accountId, eventType: type,
        state: 'pending', attempts: 0, nextAttemptAt: now, giveUpAt: new Date(now.getTime() + this.retryForMs),
        createdAt: now, updatedAt: now,
      };
      await tx.webhookOutbox.insertDelivery(delivery);
      deliveries.push(delivery);
    }
    return deliveries;
  }

  /** An event that is not a status change (a knock, a mute…), in a transaction of its own. */
  async record(type: WebhookSentType, meeting: MeetingRecord, participant?: ParticipantRecord, data?: Record<string, unknown>): Promise<void> {
    await this.atomically(this.store, (tx) => this.write(tx, meeting.accountId, type, { meeting, participant, data }));
  }

  /** Inside the transaction of a meeting's status change. */
  async meetingChanged(tx: Repositories, before: MeetingRecord, after: MeetingRecord): Promise<void> {
    const event = meetingChangeEvent(before, after);
    if (event) await this.write(tx, after.accountId, event.type, { meeting: after, data: event.data });
  }

  /** Inside the transaction of a participant's status change (or answer to an invitation). */
  async participantChanged(tx: Repositories, before: ParticipantRecord, after: ParticipantRecord, cause: Parameters<typeof participantChangeEvent>[2]): Promise<void> {
    const event = participantChangeEvent(before, after, cause);
    if (!event) return;
    const meeting = await tx.meetings.get(after.meetingId);
    if (meeting) await this.write(tx, after.accountId, event.type, { meeting, participant: after, data: event.data });
  }
}
