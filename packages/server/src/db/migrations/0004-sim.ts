import type { Kysely } from 'kysely';

/**
 * Simulation infrastructure: virtual-clock settings (one row per scope: `*` = the whole server, else a
 * mchid) and fault-injection rules. Times are epoch milliseconds (bigint) of the wall clock.
 * @see ../../sim/clock.ts, ../../sim/faults.ts
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('sim_clocks')
    .addColumn('scope', 'varchar(32)', (c) => c.primaryKey())
    // 'frozen' (base_ms is the instant) or 'offset' (base_ms is added to the wall clock).
    .addColumn('mode', 'varchar(8)', (c) => c.notNull())
    .addColumn('base_ms', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('sim_fault_rules')
    .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
    // NULL = every merchant (global rule).
    .addColumn('mchid', 'varchar(32)')
    .addColumn('method', 'varchar(8)', (c) => c.notNull())
    .addColumn('path_pattern', 'varchar(512)', (c) => c.notNull())
    .addColumn('error_code', 'varchar(64)')
    .addColumn('status', 'integer')
    .addColumn('message', 'varchar(256)')
    .addColumn('delay_ms', 'integer', (c) => c.notNull())
    // NULL = unlimited; decremented atomically on every firing.
    .addColumn('remaining', 'integer')
    .addColumn('fraction', 'double precision')
    .addColumn('seed', 'bigint', (c) => c.notNull())
    .addColumn('matched', 'bigint', (c) => c.notNull())
    .addColumn('fired', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sim_fault_rules_mchid').on('sim_fault_rules').column('mchid').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('sim_fault_rules').execute();
  await db.schema.dropTable('sim_clocks').execute();
}
