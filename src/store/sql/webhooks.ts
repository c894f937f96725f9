import type { Kysely } from 'kysely';
import type { WebhookEndpointRepository, WebhookOutboxRepository } from '../repositories.js';
import type { WebhookDeliveryState } from '../records.js';
import * as map from './mapping.js';
import type { Database } from './schema.js';

/** Webhook endpoints and the outbox (events, deliveries, attempts). */
export function webhookRepositories(db: Kysely<Database>): { webhookEndpoints: WebhookEndpointRepository; webhookOutbox: WebhookOutboxRepository } {
  return {
    webhookEndpoints: {
      async insert(endpoint) {
        await db.insertInto('webhook_endpoints').values(map.webhookEndpoints.toRow(endpoint) as Database['webhook_endpoints']).execute();
      },
      async findById(accountId, id) {
        const row = await db.selectFrom('webhook_endpoints').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
        return row && map.webhookEndpoints.fromRow(row);
      },
      async list(accountId, page) {
        let q = db.selectFrom('webhook_endpoints').selectAll().where('account_id', '=', accountId);
        if (page.after) q = q.where('id', '>', page.after);
        return (await q.orderBy('id').limit(page.limit).execute()).map(map.webhookEndpoints.fromRow);
      },
      async listEnabled(accountId) {
        return (await db.selectFrom('webhook_endpoints').selectAll().where('account_id', '=', accountId).where('enabled', '=', 1).orderBy('id').execute())
          .map(map.webhookEndpoints.fromRow);
      },
      async count(accountId) {
        const row = await db.selectFrom('webhook_endpoints').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', accountId).executeTakeFirst();
        return Number(row?.n ?? 0);
      },
      async update(id, patch) {
        await db.updateTable('webhook_endpoints').set(map.webhookEndpoints.toRow(patch)).where('id', '=', id).execute();
      },
      async delete(id) {
        const deliveries = db.selectFrom('webhook_deliveries').select('id').where('endpoint_id', '=', id);
        await db.deleteFrom('webhook_attempts').where('delivery_id', 'in', deliveries).execute();
        await db.deleteFrom('webhook_deliveries').where('endpoint_id', '=', id).execute();
        await db.deleteFrom('webhook_endpoints').where('id', '=', id).execute();
      },
    },

    webhookOutbox: {
      async insertEvent(event) {
        await db.insertInto('webhook_events').values(map.webhookEvents.toRow(event) as Database['webhook_events']).execute();
      },
      async findEvent(id) {
        const row = await db.selectFrom('webhook_events').selectAll().where('id', '=', id).executeTakeFirst();
        return row && map.webhookEvents.fromRow(row);
      },
      async insertDelivery(delivery) {
        await db.insertInto('webhook_deliveries').values(map.webhookDeliveries.toRow(delivery) as Database['webhook_deliveries']).execute();
      },
      async findDelivery(endpointId, id) {
        const row = await db.selectFrom('webhook_deliveries').selectAll().where('endpoint_id', '=', endpointId).where('id', '=', id).executeTakeFirst();
        return row && map.webhookDeliveries.fromRow(row);
      },
      async listDeliveries(endpointId, page, state) {
        let q = db.selectFrom('webhook_deliveries').selectAll().where('endpoint_id', '=', endpointId);
        if (state) q = q.where('state', '=', state);
        if (page.after) q = q.where('id', '>', page.after);
        return (await q.orderBy('id').limit(page.limit).execute()).map(map.webhookDeliveries.fromRow);
      },
      async listDue(at, limit) {
        return (await db.selectFrom('webhook_deliveries as d').innerJoin('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
          .selectAll('d').where('d.state', '=', 'pending').where('d.next_attempt_at', '<=', at.toISOString()).where('e.enabled', '=', 1)
          .orderBy('d.next_attempt_at').orderBy('d.id').limit(limit).execute()).map(map.webhookDeliveries.fromRow);
      },
      async claim(id, dueAt, leaseUntil) {
        const result = await db.updateTable('webhook_deliveries').set({ next_attempt_at: leaseUntil.toISOString() })
          .where('id', '=', id).where('state', '=', 'pending').where('next_attempt_at', '=', dueAt.toISOString()).executeTakeFirst();
        return Number(result.numUpdatedRows) > 0;
      },
      async updateDelivery(id, patch) {
        await db.updateTable('webhook_deliveries').set(map.webhookDeliveries.toRow(patch)).where('id', '=', id).execute();
      },
      async insertAttempt(attempt) {
        await db.insertInto('webhook_attempts').values(map.webhookAttempts.toRow(attempt) as Database['webhook_attempts']).execute();
      },
      async listAttempts(deliveryIds) {
        if (deliveryIds.length === 0) return [];
        return (await db.selectFrom('webhook_attempts').selectAll().where('delivery_id', 'in', deliveryIds).orderBy('id').execute())
          .map(map.webhookAttempts.fromRow);
      },
      async countByState() {
        const rows = await db.selectFrom('webhook_deliveries').select(['state', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('state').execute();
        const counts: Record<WebhookDeliveryState, number> = { pending: 0, delivered: 0, failed: 0 };
        for (const row of rows) counts[row.state as WebhookDeliveryState] = Number(row.n);
        return counts;
      },
      async purgeFinished(at) {
        const old = db.selectFrom('webhook_deliveries').select('id').where('state', 'in', ['delivered', 'failed']).where('created_at', '<', at.toISOString());
        await db.deleteFrom('webhook_attempts').where('delivery_id', 'in', old).execute();
        await db.deleteFrom('webhook_deliveries').where('state', 'in', ['delivered', 'failed']).where('created_at', '<', at.toISOString()).execute();
        await db.deleteFrom('webhook_events').where('created_at', '<', at.toISOString())
          .where(({ not, exists, selectFrom }) => not(exists(selectFrom('webhook_deliveries').select('id').whereRef('webhook_deliveries.event_id', '=', 'webhook_events.id'))))
          .execute();
      },
    },
  };
}
