import { sql, type Compilable, type CompiledQuery, type Kysely } from 'kysely';
import type { Repositories } from '../repositories.js';
import { UniqueViolation } from '../repositories.js';
import { auditRepository } from './audit.js';
import * as map from './mapping.js';
import type { Database } from './schema.js';
import { recordingRepository } from './recordings.js';
import { webhookRepositories } from './webhooks.js';

// SQLite names the columns ("UNIQUE constraint failed: meetings.account_id, meetings.key"),
// PostgreSQL the constraint; both become the constraint's name from the migrations.
const SQLITE_UNIQUE_NAMES: Record<string, string> = {
  'accounts.account_sid': 'accounts_account_sid',
  'users.account_id, users.username': 'users_account_username',
  'users.api_key_hash': 'users_api_key_hash',
  'api_tokens.token_hash': 'api_tokens_token_hash',
  'presets.account_id, presets.name': 'presets_account_name',
  'meetings.account_id, meetings.key': 'meetings_account_key',
  'meetings.code': 'meetings_code',
  'meetings.hash_key_hash': 'meetings_hash_key_hash',
  'participants.meeting_id, participants.external_id': 'participants_meeting_external',
  'participants.token_hash': 'participants_token_hash',
  'idempotency_keys.account_id, idempotency_keys.key': 'idempotency_keys_pk',
  'join_token_uses.id': 'join_token_uses_pkey',
};

function asUniqueViolation(error: unknown): unknown {
  const e = error as { code?: string; message?: string; constraint?: string };
  if (e?.code === '23505') return new UniqueViolation(e.constraint ?? 'unknown');
  if (e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    const columns = /constraint failed: (.*)$/.exec(e.message ?? '')?.[1] ?? '';
    return new UniqueViolation(SQLITE_UNIQUE_NAMES[columns] ?? columns);
  }
  return error;
}

async function guarded<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    throw asUniqueViolation(error);
  }
}

const first = <T>(rows: T[]): T | undefined => rows[0];

/**
 * A query compiled once. Kysely builds and compiles SQL on every call, which costs more than
 * running an indexed lookup; the hot lookups (credentials, meeting by key, link tokens) are
 * built once with marker arguments, and each call puts its arguments where the markers went.
 */
function precompiled<Args extends string[], Row>(arity: number, build: (db: Kysely<Database>, ...args: Args) => Compilable<Row>) {
  const markers = Array.from({ length: arity }, (_, i) => `\u0000arg${i}\u0000`);
  let compiled: CompiledQuery<Row> | undefined;
  let positions: number[] = [];
  return async (db: Kysely<Database>, ...args: Args): Promise<Row[]> => {
    if (!compiled) {
      compiled = build(db, ...(markers as Args)).compile();
      positions = compiled.parameters.map((p) => markers.indexOf(p as string));
      if (positions.some((p) => p < 0)) throw new Error(`precompiled query has a parameter that is not an argument: ${compiled.sql}`);
    }
    return (await db.executeQuery<Row>({ ...compiled, parameters: positions.map((i) => args[i]) })).rows;
  };
}

/** The hot point lookups, compiled once per store and shared by its transactions. */
export function createHotQueries() {
  return {
    accountById: precompiled(1, (db, id: string) => db.selectFrom('accounts').selectAll().where('id', '=', id)),
    accountBySid: precompiled(1, (db, sid: string) => db.selectFrom('accounts').selectAll().where('account_sid', '=', sid)),
    userByApiKeyHash: precompiled(1, (db, h: string) => db.selectFrom('users').selectAll().where('api_key_hash', '=', h)),
    tokenByHash: precompiled(1, (db, h: string) => db.selectFrom('api_tokens').selectAll().where('token_hash', '=', h)),
    meetingById: precompiled(1, (db, id: string) => db.selectFrom('meetings').selectAll().where('id', '=', id)),
    meetingOfAccount: precompiled(2, (db, accountId: string, id: string) => db.selectFrom('meetings').selectAll().where('account_id', '=', accountId).where('id', '=', id)),
    meetingByKey: precompiled(2, (db, accountId: string, key: string) => db.selectFrom('meetings').selectAll().where('account_id', '=', accountId).where('key', '=', key)),
    meetingByCode: precompiled(1, (db, code: string) => db.selectFrom('meetings').selectAll().where('code', '=', code)),
    meetingByHashKey: precompiled(1, (db, h: string) => db.selectFrom('meetings').selectAll().where('hash_key_hash', '=', h)),
    participantById: precompiled(2, (db, meetingId: string, id: string) => db.selectFrom('participants').selectAll().where('meeting_id', '=', meetingId).where('id', '=', id)),
    participantByExternalId: precompiled(2, (db, meetingId: string, externalId: string) => db.selectFrom('participants').selectAll().where('meeting_id', '=', meetingId).where('external_id', '=', externalId)),
    participantByTokenHash: precompiled(1, (db, h: string) => db.selectFrom('participants').selectAll().where('token_hash', '=', h)),
  };
}
export type HotQueries = ReturnType<typeof createHotQueries>;
const count = (row: { n: number | string | bigint } | undefined) => Number(row?.n ?? 0);

export function createRepositories(db: Kysely<Database>, hot: HotQueries): Repositories {
  return {
    accounts: {
      async insert(account) {
        await guarded(db.insertInto('accounts').values(map.accounts.toRow(account) as Database['accounts']).execute());
      },
      async findById(id) {
        const row = first(await hot.accountById(db, id));
        return row && map.accounts.fromRow(row);
      },
      async findBySid(accountSid) {
        const row = first(await hot.accountBySid(db, accountSid));
        return row && map.accounts.fromRow(row);
      },
      async list() {
        return (await db.selectFrom('accounts').selectAll().orderBy('id').execute()).map(map.accounts.fromRow);
      },
      async update(id, patch) {
        await guarded(db.updateTable('accounts').set(map.accounts.toRow(patch)).where('id', '=', id).execute());
      },
      async reserveMeeting(id, max) {
        const result = await db.updateTable('accounts').set((eb) => ({ meeting_count: eb('meeting_count', '+', 1) }))
          .where('id', '=', id).where('meeting_count', '<', max).executeTakeFirst();
        return Number(result.numUpdatedRows) > 0;
      },
      async releaseMeeting(id) {
        await db.updateTable('accounts').set((eb) => ({ meeting_count: eb('meeting_count', '-', 1) }))
          .where('id', '=', id).where('meeting_count', '>', 0).execute();
      },
    },

    users: {
      async insert(user) {
        await guarded(db.insertInto('users').values(map.users.toRow(user) as Database['users']).execute());
      },
      async findById(accountId, id) {
        const row = first(await db.selectFrom('users').selectAll().where('account_id', '=', accountId).where('id', '=', id).execute());
        return row && map.users.fromRow(row);
      },
      async findByUsername(accountId, username) {
        const row = first(await db.selectFrom('users').selectAll()
          .where('account_id', '=', accountId).where('username', '=', username).execute());
        return row && map.users.fromRow(row);
      },
      async findByApiKeyHash(apiKeyHash) {
        const row = first(await hot.userByApiKeyHash(db, apiKeyHash));
        return row && map.users.fromRow(row);
      },
      async list(accountId, page) {
        let q = db.selectFrom('users').selectAll().where('account_id', '=', accountId);
        if (page.after) q = q.where('id', '>', page.after);
        return (await q.orderBy('id').limit(page.limit).execute()).map(map.users.fromRow);
      },
      async update(id, patch) {
        await guarded(db.updateTable('users').set(map.users.toRow(patch)).where('id', '=', id).execute());
      },
      async delete(id) {
        await db.deleteFrom('users').where('id', '=', id).execute();
      },
    },

    apiTokens: {
      async insert(token) {
        await guarded(db.insertInto('api_tokens').values(map.apiTokens.toRow(token) as Database['api_tokens']).execute());
      },
      async findByHash(tokenHash) {
        const row = first(await hot.tokenByHash(db, tokenHash));
        return row && map.apiTokens.fromRow(row);
      },
      async listByAccount(accountId) {
        return (await db.selectFrom('api_tokens').selectAll().where('account_id', '=', accountId).orderBy('id').execute())
          .map(map.apiTokens.fromRow);
      },
      async revoke(id, at) {
        await db.updateTable('api_tokens').set({ revoked_at: at.toISOString() }).where('id', '=', id).execute();
      },
    },

    presets: {
      async insert(preset) {
        await guarded(db.insertInto('presets').values(map.presets.toRow(preset) as Database['presets']).execute());
      },
      async findById(accountId, id) {
        const row = first(await db.selectFrom('presets').selectAll().where('account_id', '=', accountId).where('id', '=', id).execute());
        return row && map.presets.fromRow(row);
      },
      async findByName(accountId, name) {
        const row = first(await db.selectFrom('presets').selectAll()
          .where('account_id', '=', accountId).where('name', '=', name).execute());
        return row && map.presets.fromRow(row);
      },
      async list(accountId, page) {
        let q = db.selectFrom('presets').selectAll().where('account_id', '=', accountId);
        if (page.after) q = q.where('id', '>', page.after);
        return (await q.orderBy('id').limit(page.limit).execute()).map(map.presets.fromRow);
      },
      async update(id, patch) {
        await guarded(db.updateTable('presets').set(map.presets.toRow(patch)).where('id', '=', id).execute());
      },
      async delete(id) {
        await db.deleteFrom('presets').where('id', '=', id).execute();
      },
    },

    meetings: {
      async insert(meeting) {
        await guarded(db.insertInto('meetings').values(map.meetings.toRow(meeting) as Database['meetings']).execute());
      },
      async findById(accountId, id) {
        const row = first(await hot.meetingOfAccount(db, accountId, id));
        return row && map.meetings.fromRow(row);
      },
      async findByKey(accountId, key) {
        const row = first(await hot.meetingByKey(db, accountId, key));
        return row && map.meetings.fromRow(row);
      },
      async findByCode(code) {
        const row = first(await hot.meetingByCode(db, code));
        return row && map.meetings.fromRow(row);
      },
      async findByHashKeyHash(hashKeyHash) {
        const row = first(await hot.meetingByHashKey(db, hashKeyHash));
        return row && map.meetings.fromRow(row);
      },
      async get(id) {
        const row = first(await hot.meetingById(db, id));
        return row && map.meetings.fromRow(row);
      },
      async list(accountId, page) {
        let q = db.selectFrom('meetings').selectAll().where('account_id', '=', accountId);
        if (page.after) q = q.where('id', '>', page.after);
        return (await q.orderBy('id').limit(page.limit).execute()).map(map.meetings.fromRow);
      },
      async listAll(accountId) {
        return (await db.selectFrom('meetings').selectAll().where('account_id', '=', accountId).orderBy('id').execute())
          .map(map.meetings.fromRow);
      },
      async listLive() {
        return (await db.selectFrom('meetings').selectAll().where('status', 'in', [8, 11]).orderBy('id').execute())
          .map(map.meetings.fromRow);
      },
      async listOverdue(at) {
        return (await db.selectFrom('meetings').selectAll()
          .where('status', 'in', [1, 8, 11]).where('ends_at', '<', at.toISOString())
          .orderBy('id').execute()).map(map.meetings.fromRow);
      },
      async countUsingPreset(accountId, presetName) {
        const meetings = count(await db.selectFrom('meetings').select((eb) => eb.fn.countAll<number>().as('n'))
          .where('account_id', '=', accountId)
          .where((eb) => eb.or([
            eb('preset_name', '=', presetName), eb('signup_preset', '=', presetName), eb('guest_preset', '=', presetName),
          ]))
          .executeTakeFirst());
        const participants = count(await db.selectFrom('participants').select((eb) => eb.fn.countAll<number>().as('n'))
          .where('account_id', '=', accountId).where('preset_name', '=', presetName)
          .executeTakeFirst());
        return { meetings, participants };
      },
      async renamePreset(accountId, from, to) {
        await db.updateTable('meetings').set({ preset_name: to }).where('account_id', '=', accountId).where('preset_name', '=', from).execute();
        await db.updateTable('meetings').set({ signup_preset: to }).where('account_id', '=', accountId).where('signup_preset', '=', from).execute();
        await db.updateTable('meetings').set({ guest_preset: to }).where('account_id', '=', accountId).where('guest_preset', '=', from).execute();
        await db.updateTable('participants').set({ preset_name: to }).where('account_id', '=', accountId).where('preset_name', '=', from).execute();
        // A self-registered user's preset is a record of what they got (logins use the meeting's
        // current sign-up preset), kept readable under the new name.
        await db.updateTable('users').set({ signup_preset: to }).where('account_id', '=', accountId).where('signup_preset', '=', from).execute();
      },
      async update(id, patch) {
        await guarded(db.updateTable('meetings').set(map.meetings.toRow(patch)).where('id', '=', id).execute());
      },
      async transition(id, from, patch) {
        const result = await db.updateTable('meetings').set(map.meetings.toRow(patch))
          .where('id', '=', id).where('status', '=', from.status)
          .where('end_reason', from.endReason === null ? 'is' : '=', from.endReason)
          .executeTakeFirst();
        return Number(result.numUpdatedRows) > 0;
      },
      async delete(id) {
        await db.deleteFrom('participants').where('meeting_id', '=', id).execute();
        await db.deleteFrom('meetings').where('id', '=', id).execute();
      },
    },

    participants: {
      async insert(participant) {
        await guarded(db.insertInto('participants').values(map.participants.toRow(participant) as Database['participants']).execute());
      },
      async findById(meetingId, id) {
        const row = first(await hot.participantById(db, meetingId, id));
        return row && map.participants.fromRow(row);
      },
      async findByExternalId(meetingId, externalId) {
        const row = first(await hot.participantByExternalId(db, meetingId, externalId));
        return row && map.participants.fromRow(row);
      },
      async findByTokenHash(tokenHash) {
        const row = first(await hot.participantByTokenHash(db, tokenHash));
        return row && map.participants.fromRow(row);
      },
      async list(meetingId, page) {
        let q = db.selectFrom('participants').selectAll().where('meeting_id', '=', meetingId);
        if (page.after) q = q.where('id', '>', page.after);
        return (await q.orderBy('id').limit(page.limit).execute()).map(map.participants.fromRow);
      },
      async listAll(meetingId) {
        return (await db.selectFrom('participants').selectAll().where('meeting_id', '=', meetingId).orderBy('id').execute())
          .map(map.participants.fromRow);
      },
      async countConnected(meetingId, role) {
        let q = db.selectFrom('participants').select((eb) => eb.fn.countAll<number>().as('n'))
          .where('meeting_id', '=', meetingId).where('status', '=', 10);
        if (role) q = q.where('role', '=', role);
        return count(await q.executeTakeFirst());
      },
      async listConnected() {
        return (await db.selectFrom('participants').selectAll().where('status', '=', 10).orderBy('meeting_id').orderBy('id').execute())
          .map(map.participants.fromRow);
      },
      async externalIdKnown(accountId, externalId) {
        const row = await db.selectFrom('participants').select('id')
          .where('account_id', '=', accountId).where('external_id', '=', externalId).limit(1).executeTakeFirst();
        return row !== undefined;
      },
      async countDistinctExternalIds(accountId) {
        return count(await db.selectFrom('participants')
          .select(sql<number>`count(distinct external_id)`.as('n'))
          .where('account_id', '=', accountId).executeTakeFirst());
      },
      async update(id, patch) {
        await guarded(db.updateTable('participants').set(map.participants.toRow(patch)).where('id', '=', id).execute());
      },
      async transition(id, from, patch) {
        const result = await db.updateTable('participants').set(map.participants.toRow(patch))
          .where('id', '=', id).where('status', '=', from).executeTakeFirst();
        return Number(result.numUpdatedRows) > 0;
      },
      async updateAllOfMeeting(meetingId, patch) {
        await db.updateTable('participants').set(map.participants.toRow(patch)).where('meeting_id', '=', meetingId).execute();
      },
      async delete(id) {
        await db.deleteFrom('participants').where('id', '=', id).execute();
      },
    },

    settings: {
      async get(key) {
        return (await db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst())?.value;
      },
      async set(key, value) {
        await db.insertInto('settings').values({ key, value })
          .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
          .execute();
      },
    },

    idempotency: {
      async find(accountId, key) {
        const row = first(await db.selectFrom('idempotency_keys').selectAll()
          .where('account_id', '=', accountId).where('key', '=', key).execute());
        return row && map.idempotency.fromRow(row);
      },
      async insert(record) {
        await guarded(db.insertInto('idempotency_keys').values(map.idempotency.toRow(record) as Database['idempotency_keys']).execute());
      },
      async delete(accountId, key) {
        await db.deleteFrom('idempotency_keys').where('account_id', '=', accountId).where('key', '=', key).execute();
      },
      async deleteOlderThan(at) {
        await db.deleteFrom('idempotency_keys').where('created_at', '<', at.toISOString()).execute();
      },
    },

    audit: auditRepository(db),

    joinTokenUses: {
      async use(id, expiresAt) {
        try {
          await guarded(db.insertInto('join_token_uses').values({ id, expires_at: expiresAt.toISOString() }).execute());
          return true;
        } catch (error) {
          if (error instanceof UniqueViolation) return false;
          throw error;
        }
      },
      async deleteExpired(at) {
        await db.deleteFrom('join_token_uses').where('expires_at', '<', at.toISOString()).execute();
      },
    },

    ...webhookRepositories(db),
    recordings: recordingRepository(db),
  };
}
