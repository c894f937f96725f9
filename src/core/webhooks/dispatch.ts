import type { Store, WebhookDeliveryRecord, WebhookEndpointRecord } from '../../store/index.js';
import { newId } from '../secrets.js';
import type { SecretBox } from './sealing.js';

/** How retries are spaced: exponential from `baseMs`, at most `maxMs` apart, each with jitter. */
export interface RetryPolicy {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { baseMs: 30_000, maxMs: 2 * 3600_000 };

/**
 * The wait after the `attempts`-th failed attempt: base·2^(attempts−1), capped, then between half
 * and all of it ("equal jitter"), so endpoints that failed together do not retry together.
 */
export function retryDelayMs(attempts: number, policy: RetryPolicy, random: number = Math.random()): number {
  const exponential = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(Math.max(attempts - 1, 0), 30));
  return Math.round(exponential / 2 + (exponential / 2) * random);
}

/** A delivery a sender holds now, with all it needs to send it. */
export interface DueDelivery {
  delivery: WebhookDeliveryRecord;
  url: string;
  /** The endpoint's signing secret, in clear: for the signature only, never logged. */
  secret: string;
  /** The exact JSON body (the same on every attempt). */
  body: string;
}

/** What one attempt came to. */
export interface AttemptOutcome {
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

export const delivered = (o: AttemptOutcome) => o.statusCode !== null && o.statusCode >= 200 && o.statusCode < 300;

/**
 * Decides what is due and what an attempt means (delivered, retry when, or failed). The sending
 * itself is not the core's: the delivery worker claims, sends, and reports back here.
 */
export class WebhookDispatch {
  constructor(private readonly store: Store, private readonly box: SecretBox, private readonly policy: RetryPolicy = DEFAULT_RETRY) {}

  /**
   * Claims up to `limit` due deliveries for a sender. Each is held until `now + leaseMs`: if the
   * sender dies without reporting, it is due again then.
   */
  async claimDue(now: Date, limit: number, leaseMs: number): Promise<DueDelivery[]> {
    if (limit <= 0) return [];
    const due = await this.store.webhookOutbox.listDue(now, limit);
    const endpoints = new Map<string, WebhookEndpointRecord | undefined>();
    const out: DueDelivery[] = [];
    for (const delivery of due) {
      if (!delivery.nextAttemptAt || !(await this.store.webhookOutbox.claim(delivery.id, delivery.nextAttemptAt, new Date(now.getTime() + leaseMs)))) continue;
      if (!endpoints.has(delivery.endpointId)) endpoints.set(delivery.endpointId, await this.store.webhookEndpoints.findById(delivery.accountId, delivery.endpointId));
      const endpoint = endpoints.get(delivery.endpointId);
      const event = await this.store.webhookOutbox.findEvent(delivery.eventId);
      if (!endpoint || !event) continue; // deleted meanwhile
      out.push({ delivery, url: endpoint.url, secret: this.box.open(endpoint.secret), body: event.body });
    }
    return out;
  }

  /** Records an attempt and what follows from it; returns the delivery as it is now. */
  async record(job: DueDelivery, outcome: AttemptOutcome, at: Date, random: number = Math.random()): Promise<WebhookDeliveryRecord> {
    const { delivery } = job;
    const attempts = delivery.attempts + 1;
    let state: WebhookDeliveryRecord['state'] = 'delivered';
    let nextAttemptAt: Date | null = null;
    if (!delivered(outcome)) {
      const next = new Date(at.getTime() + retryDelayMs(attempts, this.policy, random));
      if (next.getTime() <= delivery.giveUpAt.getTime()) {
        state = 'pending';
        nextAttemptAt = next;
      } else {
        state = 'failed';
      }
    }
    const patch = { state, attempts, nextAttemptAt, updatedAt: at };
    await this.store.transaction(async (tx) => {
      await tx.webhookOutbox.insertAttempt({
        id: newId('att', at.getTime()), deliveryId: delivery.id, at, statusCode: outcome.statusCode,
        error: outcome.error, durationMs: Math.max(0, Math.round(outcome.durationMs)), nextAttemptAt,
      });
      await tx.webhookOutbox.updateDelivery(delivery.id, patch);
    });
    return { ...delivery, ...patch };
  }
}
