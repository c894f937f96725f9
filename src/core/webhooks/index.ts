import type { Store } from '../../store/index.js';
import type { CoreEventBus } from '../events.js';
import { DEFAULT_RETRY, WebhookDispatch, type RetryPolicy } from './dispatch.js';
import { WebhookEndpoints } from './endpoints.js';
import { DEFAULT_RETRY_FOR_MS, WebhookOutbox } from './outbox.js';
import { SecretBox } from './sealing.js';

export { WEBHOOK_EVENT_TYPES, type Moderator, type WebhookEventType, type WebhookPayload, type WebhookSentType } from './events.js';
export { delivered, retryDelayMs, type AttemptOutcome, type DueDelivery, type RetryPolicy } from './dispatch.js';
export { WEBHOOK_LIMITS, type DeliveryWithAttempts, type WebhookEndpointInput } from './endpoints.js';
export type { WebhookOutbox } from './outbox.js';

export interface WebhookOptions {
  /** Spacing of retries (default: from 30 s, doubling, at most 2 h apart, with jitter). */
  retry?: Partial<RetryPolicy>;
  /** How long a delivery is retried before it fails (default 24 h). */
  retryForMs?: number;
  /** Finished deliveries are forgotten after this long (default 30 days). */
  keepMs?: number;
}

/** Webhooks in the core: endpoints, the outbox the status machines write to, and what is due. */
export class Webhooks {
  readonly outbox: WebhookOutbox;
  readonly endpoints: WebhookEndpoints;
  readonly dispatch: WebhookDispatch;
  private readonly keepMs: number;

  constructor(private readonly store: Store, events: CoreEventBus, serverSecret: Buffer, options: WebhookOptions = {}) {
    const box = new SecretBox(serverSecret);
    this.outbox = new WebhookOutbox(store, events, options.retryForMs ?? DEFAULT_RETRY_FOR_MS);
    this.endpoints = new WebhookEndpoints(store, box, this.outbox);
    this.dispatch = new WebhookDispatch(store, box, { ...DEFAULT_RETRY, ...options.retry });
    this.keepMs = options.keepMs ?? 30 * 24 * 3600_000;
  }

  /** Deliveries by state, across accounts (queue depth and failures, for metrics). */
  counts() {
    return this.store.webhookOutbox.countByState();
  }

  /** Forgets old finished deliveries (the schedule sweep runs it). */
  purge(now = new Date()): Promise<void> {
    return this.store.webhookOutbox.purgeFinished(new Date(now.getTime() - this.keepMs));
  }
}
