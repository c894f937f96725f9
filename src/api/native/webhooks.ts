import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { WEBHOOK_EVENT_TYPES, WEBHOOK_LIMITS, type Core, type DeliveryWithAttempts } from '../../core/index.js';
import type { AccountRecord, WebhookEndpointRecord } from '../../store/index.js';
import * as S from './schemas.js';
import { pageQuery, toPage } from './support.js';

// ---- schemas ------------------------------------------------------------------------------

const Timestamp = Type.String({ format: 'date-time' });

const EventName = Type.Union([...WEBHOOK_EVENT_TYPES, '*'].map((t) => Type.Literal(t)));
const Events = Type.Array(EventName, {
  minItems: 1, maxItems: WEBHOOK_EVENT_TYPES.length,
  description: 'event types to receive, or ["*"] for all (recording.* are reserved: subscribed now, sent once recordings exist)',
});
const Url = Type.String({ minLength: 1, maxLength: WEBHOOK_LIMITS.url, description: 'http:// or https:// URL that receives a POST per event' });
const Secret = Type.String({
  minLength: WEBHOOK_LIMITS.secretMin, maxLength: WEBHOOK_LIMITS.secretMax,
  description: 'your own signing secret (printable ASCII); omitted: Parley generates one (whsec_…, about 190 random bits)',
});
const Description = Type.String({ maxLength: WEBHOOK_LIMITS.description });

const WebhookCreate = Type.Object({
  url: Url, events: Type.Optional(Events), secret: Type.Optional(Secret), description: Type.Optional(Description),
  enabled: Type.Optional(Type.Boolean({ default: true })),
}, { additionalProperties: false });

const WebhookUpdate = Type.Object({
  url: Type.Optional(Url), events: Type.Optional(Events), secret: Type.Optional(Secret), description: Type.Optional(Description),
  enabled: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });

const Webhook = Type.Object({
  id: Type.String(),
  url: Type.String(),
  events: Type.Array(Type.String(), { description: '["*"]: every event type' }),
  description: Type.String(),
  enabled: Type.Boolean({ description: 'a disabled endpoint receives nothing: no delivery is queued for it, and pending ones wait' }),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  secret: Type.Optional(Type.String({ description: 'the signing secret: only in the answer that created or rotated it, never again' })),
});

const Attempt = Type.Object({
  at: Timestamp,
  statusCode: S.Nullable(Type.Integer({ description: 'the receiver’s HTTP status; null when it gave no answer' })),
  error: S.Nullable(Type.String({ description: 'why it was not delivered, when no 2xx came' })),
  durationMs: Type.Integer(),
  nextAttemptAt: S.Nullable(Type.String({ format: 'date-time', description: 'the retry this attempt scheduled; null when delivered or given up' })),
});

const Delivery = Type.Object({
  id: Type.String(),
  eventId: Type.String({ description: 'also sent as the Parley-Event-Id header: the same on every attempt and redelivery' }),
  eventType: Type.String(),
  state: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')], {
    description: 'pending: waiting for its next attempt; delivered: a 2xx came; failed: retried for 24 hours without success',
  }),
  nextAttemptAt: S.Nullable(Type.String({ format: 'date-time', description: 'when it will be tried next (pending only)' })),
  giveUpAt: Timestamp,
  createdAt: Timestamp,
  attempts: Type.Array(Attempt, { description: 'every attempt, oldest first' }),
});

const DeliveryQuery = Type.Object({
  ...S.PageQuery.properties,
  state: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')])),
});
const DeliveryParams = Type.Object({ id: Type.String({ maxLength: 64 }), deliveryId: Type.String({ maxLength: 64 }) });
const NoContent = Type.Null({ description: 'no content' });

// ---- views --------------------------------------------------------------------------------

const iso = (d: Date | null) => d && d.toISOString();

function webhookView(e: WebhookEndpointRecord, secret?: string): Static<typeof Webhook> {
  return {
    id: e.id, url: e.url, events: e.events ?? ['*'], description: e.description, enabled: e.enabled,
    createdAt: e.createdAt.toISOString(), updatedAt: e.updatedAt.toISOString(), ...(secret ? { secret } : {}),
  };
}

function deliveryView({ delivery: d, attempts }: DeliveryWithAttempts): Static<typeof Delivery> {
  return {
    id: d.id, eventId: d.eventId, eventType: d.eventType, state: d.state,
    nextAttemptAt: d.state === 'pending' ? iso(d.nextAttemptAt) : null,
    giveUpAt: d.giveUpAt.toISOString(), createdAt: d.createdAt.toISOString(),
    attempts: attempts.map((a) => ({ at: a.at.toISOString(), statusCode: a.statusCode, error: a.error, durationMs: a.durationMs, nextAttemptAt: iso(a.nextAttemptAt) })),
  };
}

// ---- routes -------------------------------------------------------------------------------

/** Webhook endpoints of the account, their deliveries, redelivery and the test ping. */
export function webhookRoutes(parent: FastifyInstance, core: Core, accountOf: (request: FastifyRequest) => AccountRecord, tags = ['webhooks']): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const hooks = core.webhooks.endpoints;

  app.post('/webhooks', {
    config: { audit: 'webhook.create' },
    schema: {
      tags, summary: 'Add a webhook endpoint',
      description: 'The answer carries the signing secret, this once. (No Idempotency-Key here: a replayed answer would have to keep the secret.)',
      body: WebhookCreate, response: { 201: Webhook, ...S.BodyErrors },
    },
  }, async (request, reply) => {
    const { endpoint, secret } = await hooks.create(accountOf(request), request.body);
    return reply.status(201).send(webhookView(endpoint, secret));
  });

  app.get('/webhooks', { schema: { tags, summary: 'List webhook endpoints', querystring: S.PageQuery, response: { 200: S.Page(Webhook), ...S.Errors } } },
    async (request) => {
      const q = pageQuery(request.query);
      return toPage(await hooks.list(accountOf(request), q), q, (e) => webhookView(e));
    });

  app.get('/webhooks/:id', { schema: { tags, summary: 'Get a webhook endpoint (without its secret)', params: S.IdParams, response: { 200: Webhook, ...S.Errors } } },
    async (request) => webhookView(await hooks.get(accountOf(request), request.params.id)));

  app.patch('/webhooks/:id', {
    config: { audit: 'webhook.update' },
    schema: { tags, summary: 'Change a webhook endpoint (URL, events, secret, enabled)', params: S.IdParams, body: WebhookUpdate, response: { 200: Webhook, ...S.BodyErrors } },
  }, async (request) => webhookView(await hooks.update(accountOf(request), request.params.id, request.body)));

  app.delete('/webhooks/:id', {
    config: { audit: 'webhook.delete' },
    schema: { tags, summary: 'Delete a webhook endpoint and its deliveries', params: S.IdParams, response: { 204: NoContent, ...S.Errors } },
  }, async (request, reply) => {
    await hooks.delete(accountOf(request), request.params.id);
    return reply.status(204).send(null);
  });

  app.post('/webhooks/:id/secret', {
    config: { audit: 'webhook.rotate-secret' },
    schema: { tags, summary: 'Replace the signing secret with a new generated one (shown this once)', params: S.IdParams, response: { 200: Webhook, ...S.Errors } },
  }, async (request) => {
    const { endpoint, secret } = await hooks.rotateSecret(accountOf(request), request.params.id);
    return webhookView(endpoint, secret);
  });

  app.post('/webhooks/:id/ping', {
    config: { audit: 'webhook.ping' },
    schema: {
      tags, summary: 'Send a test event (type ping) to this endpoint',
      description: 'Queued like any event and signed the same way; follow it in the deliveries. 409 when the endpoint is disabled.',
      params: S.IdParams, response: { 202: Delivery, ...S.Errors },
    },
  }, async (request, reply) => reply.status(202).send(deliveryView(await hooks.ping(accountOf(request), request.params.id))));

  app.get('/webhooks/:id/deliveries', {
    schema: {
      tags, summary: 'Deliveries to this endpoint, oldest first, with every attempt',
      params: S.IdParams, querystring: DeliveryQuery, response: { 200: S.Page(Delivery), ...S.Errors },
    },
  }, async (request) => {
    const q = pageQuery(request.query);
    return toPage(await hooks.deliveries(accountOf(request), request.params.id, q, request.query.state), q, deliveryView, (d) => d.delivery.id);
  });

  app.get('/webhooks/:id/deliveries/:deliveryId', {
    schema: { tags, summary: 'One delivery with every attempt', params: DeliveryParams, response: { 200: Delivery, ...S.Errors } },
  }, async (request) => deliveryView(await hooks.delivery(accountOf(request), request.params.id, request.params.deliveryId)));

  app.post('/webhooks/:id/deliveries/:deliveryId/redeliver', {
    config: { audit: 'webhook.redeliver' },
    schema: {
      tags, summary: 'Send a delivery again now',
      description: 'Whatever became of it (delivered, failed or still pending): the same event (same id and body) is sent again at once, and retried for 24 hours if it fails. 409 when the endpoint is disabled.',
      params: DeliveryParams, response: { 202: Delivery, ...S.Errors },
    },
  }, async (request, reply) => reply.status(202).send(deliveryView(await hooks.redeliver(accountOf(request), request.params.id, request.params.deliveryId))));
}
