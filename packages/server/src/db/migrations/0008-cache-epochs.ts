import type { Kysely } from 'kysely';

/**
 * Version counters of data that server processes cache in memory. Every write to merchants or their keys
 * adds one to `merchants` (db/merchant-repo.ts); a server reads the counter with each batch of request
 * nonces it records, so a change made by any process (`merchant add`, another instance) reaches every
 * instance's cache by the next request it admits.
 * @see ../../http/authenticate.ts
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('cache_epochs')
    .addColumn('name', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('version', 'bigint', (c) => c.notNull())
    .execute();
  await (db as Kysely<{ cache_epochs: { name: string; version: number } }>)
    .insertInto('cache_epochs')
    .values({ name: 'merchants', version: 0 })
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('cache_epochs').execute();
}
