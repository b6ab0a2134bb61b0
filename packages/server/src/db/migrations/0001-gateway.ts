import type { Kysely } from 'kysely';

/** Merchants, their API keys, notify settings, seen nonces. Times are epoch milliseconds (bigint). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('merchants')
    .addColumn('mchid', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('name', 'varchar(128)', (c) => c.notNull())
    .addColumn('api_v3_key', 'varchar(64)', (c) => c.notNull())
    .addColumn('api_v2_key', 'varchar(64)')
    .addColumn('signing_mode', 'varchar(16)', (c) => c.notNull())
    .addColumn('parent_mchid', 'varchar(32)')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('merchant_keys')
    .addColumn('mchid', 'varchar(32)', (c) => c.notNull().references('merchants.mchid'))
    .addColumn('serial_no', 'varchar(64)', (c) => c.notNull())
    .addColumn('public_key_pem', 'text', (c) => c.notNull())
    .addColumn('certificate_pem', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('merchant_keys_pk', ['mchid', 'serial_no'])
    .execute();
  await db.schema
    .createTable('notify_settings')
    .addColumn('mchid', 'varchar(32)', (c) => c.notNull())
    .addColumn('family', 'varchar(32)', (c) => c.notNull())
    .addColumn('notify_url', 'varchar(256)', (c) => c.notNull())
    .addColumn('set_by', 'varchar(32)', (c) => c.notNull())
    .addColumn('update_time', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('notify_settings_pk', ['mchid', 'family'])
    .execute();
  await db.schema
    .createTable('request_nonces')
    .addColumn('mchid', 'varchar(32)', (c) => c.notNull())
    .addColumn('nonce', 'varchar(64)', (c) => c.notNull())
    .addColumn('seen_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('request_nonces_pk', ['mchid', 'nonce'])
    .execute();
  await db.schema.createIndex('request_nonces_seen_at').on('request_nonces').column('seen_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['request_nonces', 'notify_settings', 'merchant_keys', 'merchants']) {
    await db.schema.dropTable(table).execute();
  }
}
