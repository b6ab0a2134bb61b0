import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../db/schema.js';

/**
 * Notifications waiting for delivery (state `pending`: due or retrying, paused merchants' included), per
 * family, over every merchant: the outbox backlog of /metrics, read when it is scraped.
 */
export async function pendingByFamily(db: Kysely<DatabaseSchema>): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('notification_outbox')
    .select(['family', (eb) => eb.fn.countAll<number>().as('n')])
    .where('state', '=', 'pending')
    .groupBy('family')
    .execute();
  return new Map(rows.map((r) => [r.family, Number(r.n)]));
}
