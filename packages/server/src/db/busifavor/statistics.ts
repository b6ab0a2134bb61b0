import { sql } from 'kysely';
import type { DatabaseHandle } from '../connect.js';

/**
 * What each database needs after a bulk load so its planner keeps choosing the indexes the read paths
 * rely on. PostgreSQL plans from the statistics ANALYZE gathers; autovacuum gathers them some time
 * later (never when it is off), and until then a table that grew from thousands of coupons to millions
 * is planned as if it were small. SQLite keeps no statistics unless asked and plans by fixed rules that
 * pick the right indexes here; statistics gathered once would go stale as stocks are added (and then
 * steer the user-coupon list to scanning every stock), so nothing is gathered.
 */
const AFTER_BULK_LOAD: Record<DatabaseHandle['dialect'], readonly string[]> = {
  postgres: ['ANALYZE busifavor_coupons, busifavor_stocks, sim_users, sim_user_openids'],
  sqlite: [],
};

/** Brings the planner's view of the busifavor tables up to date after a bulk load (see above). */
export async function refreshStatisticsAfterBulkLoad(handle: Pick<DatabaseHandle, 'db' | 'dialect'>) {
  for (const statement of AFTER_BULK_LOAD[handle.dialect]) await sql.raw(statement).execute(handle.db);
}
