import type { Kysely } from 'kysely';
import type { AuditRepository } from '../repositories.js';
import * as map from './mapping.js';
import type { Database } from './schema.js';

/** The audit trail: appended to, read newest first (ids are time-ordered). */
export function auditRepository(db: Kysely<Database>): AuditRepository {
  return {
    async insert(entry) {
      await db.insertInto('audit_log').values(map.audit.toRow(entry) as Database['audit_log']).execute();
    },
    async list(query) {
      let q = db.selectFrom('audit_log').selectAll();
      if (query.accountId !== undefined) q = q.where('account_id', '=', query.accountId);
      if (query.resourceId !== undefined) q = q.where('resource_id', '=', query.resourceId);
      if (query.action !== undefined) q = q.where('action', '=', query.action);
      // ISO-8601 UTC text sorts as time does.
      if (query.since) q = q.where('at', '>=', query.since.toISOString());
      if (query.until) q = q.where('at', '<', query.until.toISOString());
      if (query.before) q = q.where('id', '<', query.before);
      return (await q.orderBy('id', 'desc').limit(query.limit).execute()).map(map.audit.fromRow);
    },
  };
}
