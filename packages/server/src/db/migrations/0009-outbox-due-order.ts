import type { Kysely } from 'kysely';

/**
 * The outbox's due index also orders by `created_at`, the claim's tie-break (`ORDER BY next_attempt_at,
 * created_at LIMIT n`). Without it, rows due at the same instant (a burst, or a backlog released at
 * once) were all read and sorted for every claim: on PostgreSQL a 16-row claim over 10,000 rows due
 * together took 4 ms; with the index it reads the first rows in order and stops. It replaces the
 * (state, mchid, next_attempt_at) index, whose uses the longer one serves as well.
 * @see ../../outbox/claim.ts
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('notification_outbox_due').execute();
  await db.schema
    .createIndex('notification_outbox_due')
    .on('notification_outbox')
    .columns(['state', 'mchid', 'next_attempt_at', 'created_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('notification_outbox_due').execute();
  await db.schema
    .createIndex('notification_outbox_due')
    .on('notification_outbox')
    .columns(['state', 'mchid', 'next_attempt_at'])
    .execute();
}
