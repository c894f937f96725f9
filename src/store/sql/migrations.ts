import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';

// Migrations live in code and only ever get appended to; a released one is never edited.
// `unknown` database type: migrations must not depend on the current schema's types.
const migrations: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<unknown>) {
      await db.schema.createTable('accounts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('time_zone', 'text', (c) => c.notNull())
        .addColumn('account_sid', 'text', (c) => c.notNull())
        .addColumn('auth_token_hash', 'text', (c) => c.notNull())
        .addColumn('server_key_hash', 'text', (c) => c.notNull())
        .addColumn('native_app_key_hash', 'text', (c) => c.notNull())
        .addColumn('max_meetings', 'integer')
        .addColumn('max_users', 'integer')
        .addColumn('service_control', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('accounts_account_sid', ['account_sid'])
        .execute();

      await db.schema.createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
        .addColumn('username', 'text', (c) => c.notNull())
        .addColumn('display_name', 'text', (c) => c.notNull())
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('password_hash', 'text')
        .addColumn('api_key_hash', 'text')
        .addColumn('api_permission', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('users_account_username', ['account_id', 'username'])
        .addUniqueConstraint('users_api_key_hash', ['api_key_hash'])
        .execute();

      await db.schema.createTable('api_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('token_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .addUniqueConstraint('api_tokens_token_hash', ['token_hash'])
        .execute();
      await db.schema.createIndex('api_tokens_account').on('api_tokens').columns(['account_id']).execute();

      await db.schema.createTable('presets')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('publish_audio', 'integer', (c) => c.notNull())
        .addColumn('publish_video', 'integer', (c) => c.notNull())
        .addColumn('share_screen', 'integer', (c) => c.notNull())
        .addColumn('chat', 'integer', (c) => c.notNull())
        .addColumn('moderate', 'integer', (c) => c.notNull())
        .addColumn('start_audio_muted', 'integer', (c) => c.notNull())
        .addColumn('start_video_off', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('presets_account_name', ['account_id', 'name'])
        .execute();

      await db.schema.createTable('meetings')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('code', 'text', (c) => c.notNull())
        .addColumn('hash_key_hash', 'text', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('language', 'text', (c) => c.notNull())
        .addColumn('host_external_id', 'text')
        .addColumn('starts_at', 'text')
        .addColumn('ends_at', 'text')
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('preset_name', 'text', (c) => c.notNull())
        .addColumn('authentication', 'integer', (c) => c.notNull())
        .addColumn('auth_username_password', 'integer', (c) => c.notNull())
        .addColumn('auth_pin', 'integer', (c) => c.notNull())
        .addColumn('signup_preset', 'text')
        .addColumn('guest_preset', 'text')
        .addColumn('pin_hash', 'text')
        .addColumn('max_participants', 'integer')
        .addColumn('lobby', 'integer', (c) => c.notNull())
        .addColumn('status', 'integer', (c) => c.notNull())
        .addColumn('end_reason', 'text')
        .addColumn('started_at', 'text')
        .addColumn('ended_at', 'text')
        .addColumn('cancelled_at', 'text')
        .addColumn('created_via', 'text', (c) => c.notNull())
        .addColumn('created_from', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('meetings_account_key', ['account_id', 'key'])
        .addUniqueConstraint('meetings_code', ['code'])
        .addUniqueConstraint('meetings_hash_key_hash', ['hash_key_hash'])
        .execute();
      await db.schema.createIndex('meetings_account_id').on('meetings').columns(['account_id', 'id']).execute();
      await db.schema.createIndex('meetings_status').on('meetings').columns(['status']).execute();

      await db.schema.createTable('participants')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('meeting_id', 'text', (c) => c.notNull().references('meetings.id'))
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
        .addColumn('external_id', 'text')
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('preset_name', 'text')
        .addColumn('status', 'integer', (c) => c.notNull())
        .addColumn('token_hash', 'text', (c) => c.notNull())
        .addColumn('token_version', 'integer', (c) => c.notNull())
        .addColumn('cancelled_at', 'text')
        .addColumn('joined_at', 'text')
        .addColumn('left_at', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('participants_meeting_external', ['meeting_id', 'external_id'])
        .addUniqueConstraint('participants_token_hash', ['token_hash'])
        .execute();
      await db.schema.createIndex('participants_meeting_id').on('participants').columns(['meeting_id', 'id']).execute();
      await db.schema.createIndex('participants_account_external').on('participants').columns(['account_id', 'external_id']).execute();

      await db.schema.createTable('settings')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();

      await db.schema.createTable('idempotency_keys')
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('status_code', 'integer', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('idempotency_keys_pk', ['account_id', 'key'])
        .execute();
      await db.schema.createIndex('idempotency_keys_created').on('idempotency_keys').columns(['created_at']).execute();
    },
  },
};

migrations['0002_meeting_counter'] = {
  // The meetings quota is checked on every creation: a counter kept in the same transaction
  // as the insert, instead of counting the account's meetings each time.
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('accounts').addColumn('meeting_count', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    await sql`UPDATE accounts SET meeting_count = (SELECT count(*) FROM meetings WHERE meetings.account_id = accounts.id)`.execute(db);
  },
};

migrations['0003_status_schedule_index'] = {
  // The schedule sweep asks for unfinished meetings whose end has passed; (status, ends_at)
  // answers it without reading every meeting, and still serves "live meetings" (status 8, 11).
  async up(db: Kysely<unknown>) {
    await db.schema.dropIndex('meetings_status').execute();
    await db.schema.createIndex('meetings_status_ends').on('meetings').columns(['status', 'ends_at']).execute();
  },
};

migrations['0004_user_signup_origin'] = {
  // A visitor who registers on a join page is not one of the account's managed users: they keep
  // the meeting they registered at and the preset they got, until the account promotes them.
  // No foreign key: the meeting may be deleted, the user stays self-registered.
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('users').addColumn('signup_meeting_id', 'text').execute();
    await db.schema.alterTable('users').addColumn('signup_preset', 'text').execute();
  },
};

migrations['0005_join_token_uses'] = {
  // Join tokens are signed and self-contained, so any node can check them; that each opens one
  // socket only is kept here, where every node sees it.
  async up(db: Kysely<unknown>) {
    await db.schema.createTable('join_token_uses')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('join_token_uses_expires').on('join_token_uses').columns(['expires_at']).execute();
  },
};

migrations['0006_webhooks'] = {
  // Webhook endpoints per account, and the outbox: an event is written in the same transaction
  // as the change that caused it, with one delivery per endpoint that wants it; every attempt
  // at sending a delivery is kept. The delivery worker asks for pending deliveries by due time.
  async up(db: Kysely<unknown>) {
    await db.schema.createTable('webhook_endpoints')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('events', 'text')
      .addColumn('secret', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('enabled', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('webhook_endpoints_account').on('webhook_endpoints').columns(['account_id', 'id']).execute();

    await db.schema.createTable('webhook_events')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();

    await db.schema.createTable('webhook_deliveries')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('event_id', 'text', (c) => c.notNull().references('webhook_events.id'))
      .addColumn('endpoint_id', 'text', (c) => c.notNull().references('webhook_endpoints.id'))
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('event_type', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('next_attempt_at', 'text')
      .addColumn('give_up_at', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addUniqueConstraint('webhook_deliveries_event_endpoint', ['event_id', 'endpoint_id'])
      .execute();
    await db.schema.createIndex('webhook_deliveries_due').on('webhook_deliveries').columns(['state', 'next_attempt_at']).execute();
    await db.schema.createIndex('webhook_deliveries_endpoint').on('webhook_deliveries').columns(['endpoint_id', 'id']).execute();

    await db.schema.createTable('webhook_attempts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('delivery_id', 'text', (c) => c.notNull().references('webhook_deliveries.id'))
      .addColumn('at', 'text', (c) => c.notNull())
      .addColumn('status_code', 'integer')
      .addColumn('error', 'text')
      .addColumn('duration_ms', 'integer', (c) => c.notNull())
      .addColumn('next_attempt_at', 'text')
      .execute();
    await db.schema.createIndex('webhook_attempts_delivery').on('webhook_attempts').columns(['delivery_id', 'id']).execute();
  },
};

migrations['0007_audit'] = {
  // Every change made through an API: who, what, when, the request id and the outcome. Read
  // newest first, per account or all (the operator), narrowed by resource, action and time.
  // No foreign keys: an entry outlives the account, meeting or user it speaks of.
  async up(db: Kysely<unknown>) {
    await db.schema.createTable('audit_log')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('at', 'text', (c) => c.notNull())
      .addColumn('account_id', 'text')
      .addColumn('surface', 'text', (c) => c.notNull())
      .addColumn('credential', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text')
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('resource_type', 'text', (c) => c.notNull())
      .addColumn('resource_id', 'text')
      .addColumn('request_id', 'text', (c) => c.notNull())
      .addColumn('outcome', 'text', (c) => c.notNull())
      .addColumn('status_code', 'integer', (c) => c.notNull())
      .addColumn('error_code', 'text')
      .execute();
    await db.schema.createIndex('audit_log_account').on('audit_log').columns(['account_id', 'id']).execute();
    await db.schema.createIndex('audit_log_resource').on('audit_log').columns(['resource_id', 'id']).execute();
  },
};

migrations['0008_account_cors_limits'] = {
  // Issue 10: the browser origins that may read an account's API answers (CORS), and its own
  // API rate limit (null: the server's RATE_LIMIT_PER_MINUTE).
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('accounts').addColumn('cors_origins', 'text', (c) => c.notNull().defaultTo('[]')).execute();
    await db.schema.alterTable('accounts').addColumn('rate_limit_per_minute', 'integer').execute();
  },
};

migrations['0009_recordings'] = {
  // Issue 11: recordings (one row per recorded span of a meeting, its raw tracks as JSON), the
  // preset permission to record, a meeting's autoRecord and an account's retention.
  async up(db: Kysely<unknown>) {
    await db.schema.createTable('recordings')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
      .addColumn('meeting_id', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('started_by', 'text', (c) => c.notNull())
      .addColumn('started_at', 'text', (c) => c.notNull())
      .addColumn('stopped_at', 'text')
      .addColumn('duration_ms', 'integer')
      .addColumn('size_bytes', 'integer')
      .addColumn('tracks', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('progress', 'real', (c) => c.notNull().defaultTo(0))
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('error', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('recordings_account').on('recordings').columns(['account_id', 'id']).execute();
    await db.schema.createIndex('recordings_state').on('recordings').columns(['state', 'id']).execute();
    await db.schema.alterTable('presets').addColumn('record', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.alterTable('meetings').addColumn('auto_record', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.alterTable('accounts').addColumn('recording_retention_days', 'integer').execute();
  },
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};
