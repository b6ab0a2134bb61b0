import type { ExpressionBuilder, Kysely } from 'kysely';
import type { DatabaseSchema } from '../db/schema.js';

/**
 * The rows both simulation rule tables share: an id, an owner (`mchid`, NULL = global), a `remaining`
 * count (NULL = unlimited), `fired` and an expiry. Claiming a firing, and deleting by owner, work the same
 * on either, so they live here once.
 */
export type RuleTableName = 'sim_fault_rules' | 'sim_subsidy_outcomes';

type RuleExpressions = ExpressionBuilder<DatabaseSchema, RuleTableName>;

/** The rule still has firings left and has not expired at `wallMs`. */
export function liveRule(id: string, wallMs: number) {
  return (eb: RuleExpressions) =>
    eb.and([
      eb('id', '=', id),
      eb.or([eb('remaining', 'is', null), eb('remaining', '>', 0)]),
      eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', wallMs)]),
    ]);
}

/** A merchant's own rules and the global ones. */
export function ownOrGlobal(mchid: string) {
  return (eb: RuleExpressions) => eb.or([eb('mchid', '=', mchid), eb('mchid', 'is', null)]);
}

/**
 * Takes one firing of a live rule in one UPDATE guarded by `remaining > 0` and the expiry, so the count is
 * exact under any concurrency (PostgreSQL re-checks the guard after the row lock; SQLite serialises
 * writers). NULL − 1 stays NULL: unlimited. False when the rule is gone, used up or expired.
 */
export async function fireRule(
  db: Kysely<DatabaseSchema>,
  table: RuleTableName,
  id: string,
  wallMs: number,
): Promise<boolean> {
  const result = await db
    .updateTable(table)
    .set((eb) => ({ fired: eb('fired', '+', 1), remaining: eb('remaining', '-', 1) }))
    .where(liveRule(id, wallMs))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Deletes one rule of that owner (null = global); false when there was none. */
export async function deleteRule(
  db: Kysely<DatabaseSchema>,
  table: RuleTableName,
  id: string,
  owner: string | null,
): Promise<boolean> {
  const result = await db
    .deleteFrom(table)
    .where('id', '=', id)
    .where('mchid', owner === null ? 'is' : '=', owner)
    .executeTakeFirst();
  return Number(result.numDeletedRows) === 1;
}

/** Deletes every rule of that owner (null = the global ones); returns how many. */
export async function deleteOwnerRules(
  db: Kysely<DatabaseSchema>,
  table: RuleTableName,
  owner: string | null,
): Promise<number> {
  const result = await db
    .deleteFrom(table)
    .where('mchid', owner === null ? 'is' : '=', owner)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
