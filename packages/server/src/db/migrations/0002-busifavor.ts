import type { Kysely } from 'kysely';

/**
 * Merchant coupons (busifavor): stocks, user coupons, pre-uploaded codes, request-number records,
 * marketing images, subsidy receipts, and the simulated WeChat users and appid bindings they need.
 * Times are epoch milliseconds (bigint); JSON is text; booleans are 0/1 integers.
 * @see ../busifavor/tables.ts
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('busifavor_stocks')
    .addColumn('stock_id', 'varchar(20)', (c) => c.primaryKey())
    .addColumn('creator_mchid', 'varchar(32)', (c) => c.notNull())
    .addColumn('belong_merchant', 'varchar(32)', (c) => c.notNull())
    .addColumn('out_request_no', 'varchar(128)', (c) => c.notNull())
    .addColumn('stock_type', 'varchar(16)', (c) => c.notNull())
    .addColumn('coupon_code_mode', 'varchar(20)', (c) => c.notNull())
    .addColumn('stock_state', 'varchar(16)', (c) => c.notNull())
    .addColumn('definition', 'text', (c) => c.notNull())
    .addColumn('max_coupons', 'bigint', (c) => c.notNull())
    .addColumn('max_coupons_by_day', 'bigint')
    .addColumn('max_coupons_per_user', 'integer', (c) => c.notNull())
    .addColumn('natural_person_limit', 'integer', (c) => c.notNull())
    .addColumn('available_begin_ms', 'bigint', (c) => c.notNull())
    .addColumn('available_end_ms', 'bigint', (c) => c.notNull())
    .addColumn('total_send_num', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('total_send_amount', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('code_total_count', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('code_available_count', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('busifavor_stocks_request_uq', ['creator_mchid', 'out_request_no'])
    .execute();

  await db.schema
    .createTable('busifavor_coupons')
    .addColumn('stock_id', 'varchar(20)', (c) => c.notNull())
    .addColumn('coupon_code', 'varchar(32)', (c) => c.notNull())
    .addColumn('user_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('person_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('send_request_no', 'varchar(128)', (c) => c.notNull())
    .addColumn('send_channel', 'varchar(64)', (c) => c.notNull())
    .addColumn('send_merchant', 'varchar(32)', (c) => c.notNull())
    .addColumn('receive_ms', 'bigint', (c) => c.notNull())
    .addColumn('receive_day', 'varchar(10)', (c) => c.notNull())
    .addColumn('available_start_ms', 'bigint', (c) => c.notNull())
    .addColumn('expire_ms', 'bigint', (c) => c.notNull())
    .addColumn('use_request_no', 'varchar(128)')
    .addColumn('use_time_ms', 'bigint')
    .addColumn('wechatpay_use_ms', 'bigint')
    .addColumn('associate_out_trade_no', 'varchar(128)')
    .addColumn('associate_ms', 'bigint')
    .addColumn('return_request_no', 'varchar(128)')
    .addColumn('return_ms', 'bigint')
    .addColumn('deactivate_request_no', 'varchar(128)')
    .addColumn('deactivate_ms', 'bigint')
    .addColumn('deactivate_reason', 'varchar(64)')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('busifavor_coupons_pk', ['stock_id', 'coupon_code'])
    .addUniqueConstraint('busifavor_coupons_send_uq', ['stock_id', 'user_id', 'send_request_no'])
    .execute();
  await db.schema
    .createIndex('busifavor_coupons_code')
    .on('busifavor_coupons')
    .column('coupon_code')
    .execute();
  await db.schema
    .createIndex('busifavor_coupons_user')
    .on('busifavor_coupons')
    .columns(['user_id', 'receive_ms'])
    .execute();
  await db.schema
    .createIndex('busifavor_coupons_day')
    .on('busifavor_coupons')
    .columns(['stock_id', 'receive_day'])
    .execute();
  await db.schema
    .createIndex('busifavor_coupons_person')
    .on('busifavor_coupons')
    .columns(['stock_id', 'person_id'])
    .execute();

  await db.schema
    .createTable('busifavor_codes')
    .addColumn('stock_id', 'varchar(20)', (c) => c.notNull())
    .addColumn('code', 'varchar(32)', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('upload_ms', 'bigint', (c) => c.notNull())
    .addColumn('dispatched_ms', 'bigint')
    .addPrimaryKeyConstraint('busifavor_codes_pk', ['stock_id', 'code'])
    .execute();
  await db.schema
    .createIndex('busifavor_codes_status')
    .on('busifavor_codes')
    .columns(['stock_id', 'status'])
    .execute();

  await db.schema
    .createTable('busifavor_requests')
    .addColumn('mchid', 'varchar(32)', (c) => c.notNull())
    .addColumn('op', 'varchar(32)', (c) => c.notNull())
    .addColumn('request_no', 'varchar(128)', (c) => c.notNull())
    .addColumn('request', 'text', (c) => c.notNull())
    .addColumn('response', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('busifavor_requests_pk', ['mchid', 'op', 'request_no'])
    .execute();

  await db.schema
    .createTable('busifavor_media')
    .addColumn('media_url', 'varchar(256)', (c) => c.primaryKey())
    .addColumn('mchid', 'varchar(32)', (c) => c.notNull())
    .addColumn('filename', 'varchar(128)', (c) => c.notNull())
    .addColumn('sha256', 'varchar(64)', (c) => c.notNull())
    .addColumn('content_type', 'varchar(32)', (c) => c.notNull())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('busifavor_subsidy_receipts')
    .addColumn('subsidy_receipt_id', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('mchid', 'varchar(32)', (c) => c.notNull())
    .addColumn('out_subsidy_no', 'varchar(128)', (c) => c.notNull())
    .addColumn('stock_id', 'varchar(20)', (c) => c.notNull())
    .addColumn('coupon_code', 'varchar(128)', (c) => c.notNull())
    .addColumn('transaction_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('payer_merchant', 'varchar(32)', (c) => c.notNull())
    .addColumn('payee_merchant', 'varchar(32)', (c) => c.notNull())
    .addColumn('amount', 'bigint', (c) => c.notNull())
    .addColumn('description', 'varchar(1024)', (c) => c.notNull())
    .addColumn('status', 'varchar(40)', (c) => c.notNull())
    .addColumn('fail_reason', 'varchar(64)')
    .addColumn('success_ms', 'bigint')
    .addColumn('create_ms', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('busifavor_subsidy_uq', ['mchid', 'out_subsidy_no'])
    .execute();

  await db.schema
    .createTable('sim_users')
    .addColumn('user_id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('unionid', 'varchar(64)', (c) => c.notNull())
    .addColumn('person_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('suspicious', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('sim_user_openids')
    .addColumn('appid', 'varchar(32)', (c) => c.notNull())
    .addColumn('openid', 'varchar(128)', (c) => c.notNull())
    .addColumn('user_id', 'varchar(64)', (c) => c.notNull())
    .addPrimaryKeyConstraint('sim_user_openids_pk', ['appid', 'openid'])
    .addUniqueConstraint('sim_user_openids_user_uq', ['appid', 'user_id'])
    .execute();
  await db.schema
    .createTable('sim_appid_bindings')
    .addColumn('appid', 'varchar(32)', (c) => c.notNull())
    .addColumn('mchid', 'varchar(32)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('sim_appid_bindings_pk', ['appid', 'mchid'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'sim_appid_bindings',
    'sim_user_openids',
    'sim_users',
    'busifavor_subsidy_receipts',
    'busifavor_media',
    'busifavor_requests',
    'busifavor_codes',
    'busifavor_coupons',
    'busifavor_stocks',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
