import type { AuditCredential, AuditRecord, AuditSurface, Store } from '../store/index.js';
import { CoreError } from './errors.js';
import { newId } from './secrets.js';

/** Who made a change: what they proved, through which surface. */
export interface AuditActor {
  /** The account the change belongs to; null for operator changes that concern no account. */
  accountId: string | null;
  surface: AuditSurface;
  credential: AuditCredential;
  userId?: string | null;
}

/** What was changed and how it ended, as the API layer saw it. */
export interface AuditChange {
  /** `<resource>.<verb>`, e.g. `meeting.create`; the resource type is the part before the dot. */
  action: string;
  resourceId: string | null;
  requestId: string;
  statusCode: number;
  /** The error code of a failure. */
  errorCode?: string | null;
}

export interface AuditFilter {
  resourceId?: string;
  action?: string;
  since?: Date;
  until?: Date;
}

const ACTION = /^[a-z][a-z-]*\.[a-z][a-z-]*$/;

/**
 * The audit trail of every change made through an API (see docs/operations.md). Written once
 * the answer is known, so it holds the outcome; an entry never holds a secret (only ids, action
 * names and codes). Reading is per account, or everything for the operator.
 */
export class AuditTrail {
  constructor(private readonly store: Store) {}

  async record(actor: AuditActor, change: AuditChange, at = new Date()): Promise<AuditRecord> {
    if (!ACTION.test(change.action)) throw new Error(`audit action "${change.action}" is not <resource>.<verb>`);
    const entry: AuditRecord = {
      id: newId('aud', at.getTime()),
      at,
      accountId: actor.accountId,
      surface: actor.surface,
      credential: actor.credential,
      userId: actor.userId ?? null,
      action: change.action,
      resourceType: change.action.slice(0, change.action.indexOf('.')),
      resourceId: change.resourceId,
      requestId: change.requestId,
      outcome: change.statusCode < 400 ? 'success' : 'failure',
      statusCode: change.statusCode,
      errorCode: change.errorCode ?? null,
    };
    await this.store.audit.insert(entry);
    return entry;
  }

  /** The account's own entries, newest first; `page.after` is the last id of the previous page. */
  list(accountId: string, filter: AuditFilter, page: { limit: number; after?: string }): Promise<AuditRecord[]> {
    return this.query({ ...filter, accountId }, page);
  }

  /** Every entry (the operator), optionally one account's. */
  listAll(filter: AuditFilter & { accountId?: string }, page: { limit: number; after?: string }): Promise<AuditRecord[]> {
    return this.query(filter, page);
  }

  private query(filter: AuditFilter & { accountId?: string }, page: { limit: number; after?: string }): Promise<AuditRecord[]> {
    if (filter.since && filter.until && filter.since >= filter.until) throw new CoreError('invalid', 'must be before until', { field: 'since' });
    return this.store.audit.list({ ...filter, limit: page.limit, before: page.after });
  }
}
