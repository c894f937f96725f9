import type { Kysely } from 'kysely';
import type { RecordingRepository } from '../repositories.js';
import * as map from './mapping.js';
import type { Database } from './schema.js';

/** Recordings: one row per recorded span of a meeting. */
export function recordingRepository(db: Kysely<Database>): RecordingRepository {
  return {
    async insert(recording) {
      await db.insertInto('recordings').values(map.recordings.toRow(recording) as Database['recordings']).execute();
    },
    async findById(accountId, id) {
      const row = await db.selectFrom('recordings').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
      return row && map.recordings.fromRow(row);
    },
    async get(id) {
      const row = await db.selectFrom('recordings').selectAll().where('id', '=', id).executeTakeFirst();
      return row && map.recordings.fromRow(row);
    },
    async list(accountId, page) {
      let q = db.selectFrom('recordings').selectAll().where('account_id', '=', accountId);
      if (page.after) q = q.where('id', '>', page.after);
      return (await q.orderBy('id').limit(page.limit).execute()).map(map.recordings.fromRow);
    },
    async listByState(state) {
      return (await db.selectFrom('recordings').selectAll().where('state', '=', state).orderBy('id').execute()).map(map.recordings.fromRow);
    },
    async findRunning(meetingId) {
      const row = await db.selectFrom('recordings').selectAll().where('meeting_id', '=', meetingId).where('state', '=', 'recording').executeTakeFirst();
      return row && map.recordings.fromRow(row);
    },
    async listCreatedBefore(accountId, before) {
      return (await db.selectFrom('recordings').selectAll().where('account_id', '=', accountId)
        .where('created_at', '<', before.toISOString()).orderBy('id').execute()).map(map.recordings.fromRow);
    },
    async update(id, patch) {
      await db.updateTable('recordings').set(map.recordings.toRow(patch)).where('id', '=', id).execute();
    },
    async transition(id, from, patch) {
      const result = await db.updateTable('recordings').set(map.recordings.toRow(patch)).where('id', '=', id).where('state', '=', from).executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async delete(id) {
      await db.deleteFrom('recordings').where('id', '=', id).execute();
    },
  };
}
