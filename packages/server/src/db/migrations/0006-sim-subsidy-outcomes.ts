import type { Kysely } from 'kysely';

/**
 * Subsidy outcome rules of the simulation API: the next N subsidy pay or return receipts of a merchant
 * (optionally of one stock) end in FAIL with a chosen fail_reason. Times are wall-clock epoch ms (bigint).
 * @see ../../sim/subsidy-outcomes.ts
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('sim_subsidy_outcomes')
    .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
    // NULL = every merchant (global rule).
    .addColumn('mchid', 'varchar(32)')
    // 'pay' | 'return'
    .addColumn('kind', 'varchar(8)', (c) => c.notNull())
    // NULL = any stock.
    .addColumn('stock_id', 'varchar(20)')
    .addColumn('fail_reason', 'varchar(64)', (c) => c.notNull())
    // NULL = unlimited; decremented atomically on every firing.
    .addColumn('remaining', 'integer')
    .addColumn('fired', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('sim_subsidy_outcomes_mchid')
    .on('sim_subsidy_outcomes')
    .column('mchid')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('sim_subsidy_outcomes').execute();
}
