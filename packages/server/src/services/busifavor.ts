import { SqlBusifavorStore } from '../db/busifavor/store.js';
import { SimUserRepo } from '../db/sim-users-repo.js';
import type { BusifavorDeps } from '../domain/busifavor/ports.js';
import { TransactionOutbox } from '../outbox/transaction-outbox.js';
import { SqlSubsidyOutcomeStore } from '../sim/subsidy-outcomes-repo.js';
import type { ServiceContext } from './context.js';

/**
 * The merchant-coupon feature: the domain's ports (stock and coupon store with its outbox, merchant
 * directory, clock, ids, subsidy outcomes) wired to their SQL adapters once, by the composition root.
 */

/** The busifavor adapters over the server's database. */
export interface BusifavorAdapters {
  deps: BusifavorDeps;
  users: SimUserRepo;
  /** The subsidy outcome rules: the domain's port in `deps`, and the simulation API's store. */
  subsidyOutcomes: SqlSubsidyOutcomeStore;
}

/**
 * Wires the busifavor ports to SQL adapters. Takes only the database and the shared ports, so a command
 * that works on a database without serving it (`wechatpay-sandbox trigger`) builds the same adapters.
 */
export function createBusifavorAdapters(
  ctx: Pick<ServiceContext, 'db' | 'ids' | 'clock' | 'wallClock'>,
): BusifavorAdapters {
  const users = new SimUserRepo(ctx.db.db, ctx.ids, ctx.clock);
  const store = new SqlBusifavorStore(ctx.db.db, {
    capabilities: ctx.db.capabilities,
    outbox: (trx) => new TransactionOutbox(trx, () => ({ id: ctx.ids.uuid(), wallMs: ctx.wallClock() })),
  });
  const subsidyOutcomes = new SqlSubsidyOutcomeStore(ctx.db.db, ctx.wallClock);
  return {
    deps: { store, directory: users, clock: ctx.clock, ids: ctx.ids, subsidyOutcomes },
    users,
    subsidyOutcomes,
  };
}
