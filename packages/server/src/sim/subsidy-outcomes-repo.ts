import type { Kysely, Selectable } from 'kysely';
import type { DatabaseSchema } from '../db/schema.js';
import type { InjectedSubsidyFailure, SubsidyOutcomePort } from '../domain/busifavor/ports.js';
import { deleteOwnerRules, deleteRule, fireRule, ownOrGlobal } from './rule-rows.js';
import {
  compareOutcomeRules,
  outcomeRuleApplies,
  type SubsidyOutcomeRule,
  type SubsidyReceiptKind,
} from './subsidy-outcomes.js';
import type { SimSubsidyOutcomesTable } from './tables.js';

type Row = Selectable<SimSubsidyOutcomesTable>;

/**
 * Subsidy outcome rules in the database, and the domain's port over them. A firing is taken by one
 * UPDATE guarded by `remaining > 0` and the expiry, so a rule never makes more FAIL receipts than its
 * count, under any concurrency and across instances. Rules are read afresh on every receipt (no cache:
 * receipts are rare, and a rule must apply at once on every instance).
 */
export class SqlSubsidyOutcomeStore implements SubsidyOutcomePort {
  constructor(
    private readonly db: Kysely<DatabaseSchema>,
    private readonly wallClock: () => number = Date.now,
  ) {}

  /** Rules of a merchant and the global ones. */
  async list(mchid: string): Promise<SubsidyOutcomeRule[]> {
    const rows = await this.db
      .selectFrom('sim_subsidy_outcomes')
      .selectAll()
      .where(ownOrGlobal(mchid))
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toRule);
  }

  async get(id: string): Promise<SubsidyOutcomeRule | undefined> {
    const row = await this.db
      .selectFrom('sim_subsidy_outcomes')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toRule(row);
  }

  async insert(rule: SubsidyOutcomeRule): Promise<void> {
    await this.db
      .insertInto('sim_subsidy_outcomes')
      .values({
        id: rule.id,
        mchid: rule.mchid,
        kind: rule.kind,
        stock_id: rule.stockId,
        fail_reason: rule.failReason,
        remaining: rule.remaining,
        fired: rule.fired,
        expires_at: rule.expiresAtMs,
        created_at: rule.createdAtMs,
      })
      .execute();
  }

  /** Deletes one rule of that owner (null = global); false when there was none. */
  delete(id: string, owner: string | null): Promise<boolean> {
    return deleteRule(this.db, 'sim_subsidy_outcomes', id, owner);
  }

  /** Deletes every rule of that owner; returns how many. */
  deleteAll(owner: string | null): Promise<number> {
    return deleteOwnerRules(this.db, 'sim_subsidy_outcomes', owner);
  }

  async take(target: {
    kind: SubsidyReceiptKind;
    mchid: string;
    stockId: string;
  }): Promise<InjectedSubsidyFailure | undefined> {
    const wallMs = this.wallClock();
    const candidates = (await this.list(target.mchid))
      .filter((r) => outcomeRuleApplies(r, target, wallMs))
      .sort(compareOutcomeRules);
    for (const rule of candidates) {
      if (await fireRule(this.db, 'sim_subsidy_outcomes', rule.id, wallMs))
        return { ruleId: rule.id, failReason: rule.failReason };
    }
    return undefined;
  }

  async giveBack(taken: InjectedSubsidyFailure): Promise<void> {
    // A rule deleted in between stays deleted (no row to update).
    await this.db
      .updateTable('sim_subsidy_outcomes')
      .set((eb) => ({ fired: eb('fired', '-', 1), remaining: eb('remaining', '+', 1) }))
      .where('id', '=', taken.ruleId)
      .execute();
  }
}

function toRule(row: Row): SubsidyOutcomeRule {
  return {
    id: row.id,
    mchid: row.mchid,
    kind: row.kind as SubsidyReceiptKind,
    stockId: row.stock_id,
    failReason: row.fail_reason,
    remaining: row.remaining === null ? null : Number(row.remaining),
    fired: Number(row.fired),
    expiresAtMs: row.expires_at === null ? null : Number(row.expires_at),
    createdAtMs: Number(row.created_at),
  };
}
