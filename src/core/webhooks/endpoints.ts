import type {
  AccountRecord, PageQuery, Store, WebhookAttemptRecord, WebhookDeliveryRecord, WebhookDeliveryState, WebhookEndpointRecord,
} from '../../store/index.js';
import { CoreError, conflict, invalid, notFound } from '../errors.js';
import { lookupKey, optionalText, requiredText } from '../limits.js';
import { newId, newSecret } from '../secrets.js';
import { isWebhookEventType, WEBHOOK_EVENT_TYPES } from './events.js';
import type { WebhookOutbox } from './outbox.js';
import type { SecretBox } from './sealing.js';

export const WEBHOOK_LIMITS = { url: 2000, description: 200, secretMin: 16, secretMax: 200, endpointsPerAccount: 20 } as const;

export interface WebhookEndpointInput {
  url?: string;
  /** Event types, or ['*'] (or absent on creation) for all. */
  events?: string[];
  /** Absent on creation: generated. */
  secret?: string;
  description?: string;
  enabled?: boolean;
}

/** A delivery with every attempt made so far. */
export interface DeliveryWithAttempts {
  delivery: WebhookDeliveryRecord;
  attempts: WebhookAttemptRecord[];
}

const SECRET = /^[\x21-\x7e]+$/;

function checkUrl(value: string | undefined): string {
  const text = requiredText('url', value, WEBHOOK_LIMITS.url);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid('url', 'is not an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid('url', 'must be an http:// or https:// URL');
  if (url.username || url.password) throw invalid('url', 'must not carry a user name or password: check the Parley-Signature header instead');
  if (url.hash) throw invalid('url', 'must not have a #fragment');
  return url.toString();
}

function checkEvents(value: string[]): string[] | null {
  if (value.length === 0) throw invalid('events', 'must name at least one event type, or "*" for all');
  if (value.includes('*')) {
    if (value.length > 1) throw invalid('events', 'is "*" (all) or a list of event types, not both');
    return null;
  }
  const unknown = value.find((t) => !isWebhookEventType(t));
  if (unknown !== undefined) throw invalid('events', `has an unknown event type "${unknown.slice(0, 50)}"; known: ${WEBHOOK_EVENT_TYPES.join(', ')}`);
  return [...new Set(value)];
}

function checkSecret(value: string): string {
  if (value.length < WEBHOOK_LIMITS.secretMin || value.length > WEBHOOK_LIMITS.secretMax || !SECRET.test(value)) {
    throw invalid('secret', `must be ${WEBHOOK_LIMITS.secretMin} to ${WEBHOOK_LIMITS.secretMax} printable ASCII characters without spaces`);
  }
  return value;
}

/** An account's webhook endpoints, their deliveries, redelivery and the test ping. */
export class WebhookEndpoints {
  constructor(private readonly store: Store, private readonly box: SecretBox, private readonly outbox: WebhookOutbox) {}

  /** Creates an endpoint; the secret (given or generated) is returned this once. */
  async create(account: AccountRecord, input: WebhookEndpointInput, now = new Date()): Promise<{ endpoint: WebhookEndpointRecord; secret: string }> {
    const secret = input.secret === undefined ? newSecret('whsec_') : checkSecret(input.secret);
    const endpoint: WebhookEndpointRecord = {
      id: newId('whk', now.getTime()),
      accountId: account.id,
      url: checkUrl(input.url),
      events: input.events === undefined ? null : checkEvents(input.events),
      secret: this.box.seal(secret),
      description: optionalText('description', input.description, WEBHOOK_LIMITS.description),
      enabled: input.enabled ?? true,
      createdAt: now,
      updatedAt: now,
    };
    if ((await this.store.webhookEndpoints.count(account.id)) >= WEBHOOK_LIMITS.endpointsPerAccount) {
      throw new CoreError('quota_exceeded', `an account may have at most ${WEBHOOK_LIMITS.endpointsPerAccount} webhook endpoints`);
    }
    await this.store.webhookEndpoints.insert(endpoint);
    return { endpoint, secret };
  }

  async get(account: AccountRecord, id: string): Promise<WebhookEndpointRecord> {
    const endpoint = await this.store.webhookEndpoints.findById(account.id, lookupKey('webhookId', id));
    if (!endpoint) throw notFound('webhook endpoint');
    return endpoint;
  }

  list(account: AccountRecord, page: PageQuery): Promise<WebhookEndpointRecord[]> {
    return this.store.webhookEndpoints.list(account.id, page);
  }

  /** Changes an endpoint; a new `secret` replaces the old one at once. */
  async update(account: AccountRecord, id: string, input: WebhookEndpointInput): Promise<WebhookEndpointRecord> {
    const endpoint = await this.get(account, id);
    const patch: Partial<WebhookEndpointRecord> = { updatedAt: new Date() };
    if (input.url !== undefined) patch.url = checkUrl(input.url);
    if (input.events !== undefined) patch.events = checkEvents(input.events);
    if (input.secret !== undefined) patch.secret = this.box.seal(checkSecret(input.secret));
    if (input.description !== undefined) patch.description = optionalText('description', input.description, WEBHOOK_LIMITS.description);
    if (input.enabled !== undefined) patch.enabled = input.enabled;
    await this.store.webhookEndpoints.update(endpoint.id, patch);
    return { ...endpoint, ...patch };
  }

  /** A new generated secret, returned this once; the old one stops signing at once. */
  async rotateSecret(account: AccountRecord, id: string): Promise<{ endpoint: WebhookEndpointRecord; secret: string }> {
    const secret = newSecret('whsec_');
    return { endpoint: await this.update(account, id, { secret }), secret };
  }

  async delete(account: AccountRecord, id: string): Promise<void> {
    const endpoint = await this.get(account, id);
    await this.store.transaction((tx) => tx.webhookEndpoints.delete(endpoint.id));
  }

  /** Queues a `ping` event for this endpoint only. */
  async ping(account: AccountRecord, id: string): Promise<DeliveryWithAttempts> {
    const endpoint = await this.get(account, id);
    if (!endpoint.enabled) throw conflict('the endpoint is disabled: enable it to receive anything, pings included');
    const [delivery] = await this.outbox.atomically(this.store, (tx) => this.outbox.write(tx, account.id, 'ping', { data: { endpointId: endpoint.id } }, endpoint));
    return { delivery: delivery!, attempts: [] }; // write always delivers to `only`
  }

  async deliveries(account: AccountRecord, id: string, page: PageQuery, state?: WebhookDeliveryState): Promise<DeliveryWithAttempts[]> {
    const endpoint = await this.get(account, id);
    return this.withAttempts(await this.store.webhookOutbox.listDeliveries(endpoint.id, page, state));
  }

  async delivery(account: AccountRecord, id: string, deliveryId: string): Promise<DeliveryWithAttempts> {
    const endpoint = await this.get(account, id);
    const delivery = await this.store.webhookOutbox.findDelivery(endpoint.id, lookupKey('deliveryId', deliveryId));
    if (!delivery) throw notFound('delivery');
    return (await this.withAttempts([delivery]))[0]!;
  }

  /** Sends a delivery again now (whatever became of it), retried for the usual period from now. */
  async redeliver(account: AccountRecord, id: string, deliveryId: string): Promise<DeliveryWithAttempts> {
    const { delivery, attempts } = await this.delivery(account, id, deliveryId);
    const endpoint = await this.get(account, id);
    if (!endpoint.enabled) throw conflict('the endpoint is disabled: enable it to receive anything');
    const now = new Date();
    const patch = { state: 'pending' as const, nextAttemptAt: now, giveUpAt: new Date(now.getTime() + this.outbox.retryForMs), updatedAt: now };
    await this.outbox.atomically(this.store, (tx) => tx.webhookOutbox.updateDelivery(delivery.id, patch));
    // The delivery as queued, not read back: the worker, woken on commit, may already have sent it.
    return { delivery: { ...delivery, ...patch }, attempts };
  }

  private async withAttempts(deliveries: WebhookDeliveryRecord[]): Promise<DeliveryWithAttempts[]> {
    const attempts = await this.store.webhookOutbox.listAttempts(deliveries.map((d) => d.id));
    return deliveries.map((delivery) => ({ delivery, attempts: attempts.filter((a) => a.deliveryId === delivery.id) }));
  }
}
