import type { Kysely } from 'kysely';

/**
 * Busifavor subsidy return receipts (营销补差回退单), and an index to list pay receipts by coupon.
 * Times are epoch milliseconds (bigint).
 * @see ../busifavor/tables.ts
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('busifavor_subsidy_returns')
    .addColumn('subsidy_return_receipt_id', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('mchid', 'varchar(32)', (c) => c.notNull())
    .addColumn('out_subsidy_return_no', 'varchar(128)', (c) => c.notNull())
    .addColumn('subsidy_receipt_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('stock_id', 'varchar(20)', (c) => c.notNull())
    .addColumn('coupon_code', 'varchar(128)', (c) => c.notNull())
    .addColumn('transaction_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('refund_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('payer_merchant', 'varchar(32)', (c) => c.notNull())
    .addColumn('payee_merchant', 'varchar(32)', (c) => c.notNull())
    .addColumn('amount', 'bigint', (c) => c.notNull())
    .addColumn('description', 'varchar(1024)', (c) => c.notNull())
    .addColumn('status', 'varchar(40)', (c) => c.notNull())
    .addColumn('fail_reason', 'varchar(64)')
    .addColumn('return_done_ms', 'bigint')
    .addColumn('return_create_ms', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('busifavor_subsidy_returns_uq', ['mchid', 'out_subsidy_return_no'])
    .execute();
  await db.schema
    .createIndex('busifavor_subsidy_returns_receipt')
    .on('busifavor_subsidy_returns')
    .column('subsidy_receipt_id')
    .execute();
  await db.schema
    .createIndex('busifavor_subsidy_receipts_coupon')
    .on('busifavor_subsidy_receipts')
    .columns(['stock_id', 'coupon_code'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('busifavor_subsidy_receipts_coupon').execute();
  await db.schema.dropTable('busifavor_subsidy_returns').execute();
}
