import { type Kysely, sql } from 'kysely';

/**
 * Rows waiting for a notify URL (`no-target`), by merchant and family, in a partial index of those rows
 * only. The dispatcher releases them every poll once their merchant has a URL for the family; without
 * this index each poll read every waiting row of every merchant and looked its setting up (4.5 ms a poll
 * at 20,000 waiting rows, on the event loop, growing with every notification a merchant without a URL
 * piles up). With it, SQLite's release seeks the rows of the (merchant, family) pairs that have a setting;
 * PostgreSQL can do the same and chooses by its statistics.
 * `state` is a column too, though constant here: equal on three columns, SQLite's planner prefers this
 * index to the due index (state, mchid, …), which would read a merchant's waiting rows of every family.
 * @see ../../outbox/claim.ts releaseNoTargetNotifications
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('notification_outbox_no_target')
    .on('notification_outbox')
    .columns(['mchid', 'family', 'state'])
    .where(sql.ref('state'), '=', 'no-target')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('notification_outbox_no_target').execute();
}
