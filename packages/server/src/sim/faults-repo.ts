import type { Kysely, Selectable } from 'kysely';
import type { DatabaseSchema } from '../db/schema.js';
import {
  type ClaimOutcome,
  type FaultMethod,
  type FaultRule,
  type FaultStore,
  fractionFires,
} from './faults.js';
import { deleteOwnerRules, deleteRule, fireRule, liveRule, ownOrGlobal } from './rule-rows.js';
import type { SimFaultRulesTable } from './tables.js';

type Row = Selectable<SimFaultRulesTable>;

/**
 * Rules in the database. Firing is decided by single UPDATE statements guarded by `remaining > 0`, so the
 * count is exact under any concurrency: PostgreSQL re-checks the guard after waiting for the row lock, and
 * SQLite serialises writers.
 */
export class SqlFaultStore implements FaultStore {
  constructor(private readonly db: Kysely<DatabaseSchema>) {}

  async list(mchid?: string): Promise<FaultRule[]> {
    let query = this.db.selectFrom('sim_fault_rules').selectAll();
    if (mchid !== undefined) query = query.where(ownOrGlobal(mchid));
    const rows = await query.orderBy('created_at').orderBy('id').execute();
    return rows.map(toRule);
  }

  async get(id: string): Promise<FaultRule | undefined> {
    const row = await this.db
      .selectFrom('sim_fault_rules')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toRule(row);
  }

  async insert(rule: FaultRule): Promise<void> {
    await this.db
      .insertInto('sim_fault_rules')
      .values({
        id: rule.id,
        mchid: rule.mchid,
        method: rule.method,
        path_pattern: rule.pathPattern,
        error_code: rule.errorCode,
        status: rule.status,
        message: rule.message,
        delay_ms: rule.delayMs,
        remaining: rule.remaining,
        fraction: rule.fraction,
        seed: rule.seed,
        matched: rule.matched,
        fired: rule.fired,
        expires_at: rule.expiresAtMs,
        created_at: rule.createdAtMs,
      })
      .execute();
  }

  delete(id: string, owner: string | null): Promise<boolean> {
    return deleteRule(this.db, 'sim_fault_rules', id, owner);
  }

  deleteAll(owner: string | null): Promise<number> {
    return deleteOwnerRules(this.db, 'sim_fault_rules', owner);
  }

  async claim(rule: FaultRule, wallMs: number): Promise<ClaimOutcome> {
    const live = liveRule(rule.id, wallMs);
    if (rule.fraction === null) {
      // Count, fire and decrement in one statement (NULL − 1 stays NULL: unlimited).
      const result = await this.db
        .updateTable('sim_fault_rules')
        .set((eb) => ({
          matched: eb('matched', '+', 1),
          fired: eb('fired', '+', 1),
          remaining: eb('remaining', '-', 1),
        }))
        .where(live)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1 ? 'fired' : 'gone';
    }
    // Fractional: take a sequence number, let the seeded PRNG decide, then take one of the remaining.
    const counted = await this.db
      .updateTable('sim_fault_rules')
      .set((eb) => ({ matched: eb('matched', '+', 1) }))
      .where(live)
      .returning('matched')
      .executeTakeFirst();
    if (!counted) return 'gone';
    if (!fractionFires(rule.seed, Number(counted.matched), rule.fraction)) return 'skipped';
    return (await fireRule(this.db, 'sim_fault_rules', rule.id, wallMs)) ? 'fired' : 'gone';
  }
}

function toRule(row: Row): FaultRule {
  return {
    id: row.id,
    mchid: row.mchid,
    method: row.method as FaultMethod,
    pathPattern: row.path_pattern,
    errorCode: row.error_code,
    status: row.status === null ? null : Number(row.status),
    message: row.message,
    delayMs: Number(row.delay_ms),
    remaining: row.remaining === null ? null : Number(row.remaining),
    fraction: row.fraction === null ? null : Number(row.fraction),
    seed: Number(row.seed),
    matched: Number(row.matched),
    fired: Number(row.fired),
    expiresAtMs: row.expires_at === null ? null : Number(row.expires_at),
    createdAtMs: Number(row.created_at),
  };
}
