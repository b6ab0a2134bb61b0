import type { Kysely } from 'kysely';

/**
 * Listen sessions (`wechatpay-sandbox listen --forward-to URL`): while a session of a merchant is live
 * (`expires_at` > now, a wall-clock lease the listener renews), that merchant's callbacks whose event type
 * matches are delivered to the session's URL instead of the registered notify URL. Every attempt made for
 * a session names it (`notification_attempts.listen_session_id`), so the listener prints only its own
 * deliveries. Times are wall-clock epoch ms.
 * @see ../../outbox/listen-sessions.ts
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('notification_listen_sessions')
    .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('mchid', 'varchar(32)', (c) => c.notNull())
    .addColumn('target_url', 'varchar(512)', (c) => c.notNull())
    // JSON array of event types; NULL = every event type.
    .addColumn('event_types', 'varchar(2048)')
    // Lease length the session was opened with; a renewal extends it by this much.
    .addColumn('lease_ms', 'integer', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('notification_listen_sessions_mchid')
    .on('notification_listen_sessions')
    .columns(['mchid', 'expires_at'])
    .execute();
  await db.schema.alterTable('notification_attempts').addColumn('listen_session_id', 'varchar(40)').execute();
  await db.schema
    .createIndex('notification_attempts_listen_session')
    .on('notification_attempts')
    .columns(['listen_session_id', 'started_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('notification_attempts_listen_session').execute();
  await db.schema.alterTable('notification_attempts').dropColumn('listen_session_id').execute();
  await db.schema.dropTable('notification_listen_sessions').execute();
}
