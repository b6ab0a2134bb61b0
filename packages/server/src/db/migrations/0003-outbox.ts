import type { Kysely } from 'kysely';

/**
 * Transactional outbox of merchant callbacks: one row per notification (the plaintext; the envelope is
 * built, encrypted and signed at each delivery), the log of every delivery attempt, paused merchants and
 * forwarding rules. Business times (`next_attempt_at`, `create_time`) are the merchant's virtual time;
 * leases (`locked_until`) and attempt timestamps are wall-clock epoch milliseconds.
 * @see ../../outbox/dispatcher.ts
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('notification_outbox')
    .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('mchid', 'varchar(32)', (c) => c.notNull())
    .addColumn('family', 'varchar(32)', (c) => c.notNull())
    .addColumn('event_type', 'varchar(64)', (c) => c.notNull())
    .addColumn('summary', 'varchar(128)', (c) => c.notNull())
    .addColumn('original_type', 'varchar(64)', (c) => c.notNull())
    .addColumn('associated_data', 'varchar(128)', (c) => c.notNull())
    .addColumn('plaintext', 'text', (c) => c.notNull())
    // Envelope create_time: the merchant's business time when the event happened.
    .addColumn('create_time', 'bigint', (c) => c.notNull())
    // 'pending' | 'no-target' | 'delivered' | 'dead'
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    // Every attempt ever made (numbers the attempt log); round_attempts restarts at a replay.
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('round_attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('locked_until', 'bigint')
    .addColumn('locked_by', 'varchar(64)')
    .addColumn('last_status', 'integer')
    .addColumn('last_error', 'varchar(512)')
    .addColumn('delivered_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('notification_outbox_due')
    .on('notification_outbox')
    .columns(['state', 'mchid', 'next_attempt_at'])
    .execute();
  await db.schema
    .createIndex('notification_outbox_mchid_created')
    .on('notification_outbox')
    .columns(['mchid', 'created_at'])
    .execute();
  await db.schema
    .createTable('notification_attempts')
    .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('notification_id', 'varchar(40)', (c) => c.notNull())
    .addColumn('attempt_no', 'integer', (c) => c.notNull())
    // 'delivered' | 'failed' | 'no-target' | 'refused'
    .addColumn('outcome', 'varchar(16)', (c) => c.notNull())
    .addColumn('url', 'varchar(512)')
    .addColumn('target_address', 'varchar(64)')
    .addColumn('status', 'integer')
    .addColumn('error', 'varchar(512)')
    .addColumn('latency_ms', 'integer', (c) => c.notNull())
    .addColumn('response_excerpt', 'varchar(1024)')
    .addColumn('request_id', 'varchar(64)')
    .addColumn('instance_id', 'varchar(64)')
    .addColumn('business_at', 'bigint', (c) => c.notNull())
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('notification_attempts_notification')
    .on('notification_attempts')
    .columns(['notification_id', 'attempt_no'])
    .execute();
  await db.schema
    .createTable('notification_pauses')
    .addColumn('mchid', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('paused_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('notification_forwards')
    .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('mchid', 'varchar(32)', (c) => c.notNull())
    // Registered notify URL prefix (as the merchant set it) → where the sandbox really delivers.
    .addColumn('from_url', 'varchar(256)', (c) => c.notNull())
    .addColumn('to_url', 'varchar(512)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('notification_forwards_mchid')
    .on('notification_forwards')
    .column('mchid')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'notification_forwards',
    'notification_pauses',
    'notification_attempts',
    'notification_outbox',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
