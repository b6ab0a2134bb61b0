import type { Kysely, Transaction } from 'kysely';
import type {
  BusifavorReadViews,
  BusifavorStore,
  BusifavorUnitOfWork,
} from '../../domain/busifavor/ports.js';
import type { Outbox } from '../../domain/ports.js';
import type { DialectCapabilities } from '../connect.js';
import type { DatabaseSchema } from '../schema.js';
import { SqlCodePool, SqlCodePoolReader } from './codes-repo.js';
import { SqlCouponReader, SqlCouponRepository } from './coupons-repo.js';
import { SqlMediaLibrary, SqlMediaReader } from './media-repo.js';
import { SqlRequestLog, SqlRequestLogReader } from './requests-repo.js';
import { SqlStockReader, SqlStockRepository } from './stocks-repo.js';
import { SqlSubsidyLedger, SqlSubsidyLedgerReader } from './subsidies-repo.js';

/**
 * SQL storage of the busifavor domain: read-only views over the root database, and units of work that
 * build every repository and the outbox over one Kysely transaction (one class per dialect capability
 * set, no dialect switches: row locks via `FOR UPDATE` where the database has them; SQLite serialises
 * writers instead).
 */

/** The outbox of one transaction (the server wires outbox/transaction-outbox.ts). */
export type OutboxFactory = (trx: Transaction<DatabaseSchema>) => Outbox;

/** Options of the SQL store. */
export interface SqlBusifavorStoreOptions {
  capabilities: DialectCapabilities;
  /** The outbox writer; without one, notifications are dropped (tests of other features). */
  outbox?: OutboxFactory;
  /** How many times a unit of work reruns after a unique-key race or deadlock. @default 5 */
  maxAttempts?: number;
}

/** Drops notifications, for stores built without an outbox. */
const NO_OUTBOX: Outbox = { enqueue: async () => {} };

/** The busifavor store over Kysely. */
export class SqlBusifavorStore implements BusifavorStore {
  readonly read: BusifavorReadViews;

  constructor(
    private readonly db: Kysely<DatabaseSchema>,
    private readonly options: SqlBusifavorStoreOptions,
  ) {
    this.read = {
      stocks: new SqlStockReader(db),
      coupons: new SqlCouponReader(db),
      codes: new SqlCodePoolReader(db),
      requests: new SqlRequestLogReader(db),
      media: new SqlMediaReader(db),
      subsidies: new SqlSubsidyLedgerReader(db),
    };
  }

  async transaction<T>(work: (tx: BusifavorUnitOfWork) => Promise<T>): Promise<T> {
    const attempts = this.options.maxAttempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction().execute((trx) => work(this.unitOfWork(trx)));
      } catch (err) {
        if (attempt >= attempts || !isRetryable(err)) throw err;
      }
    }
  }

  private unitOfWork(trx: Transaction<DatabaseSchema>): BusifavorUnitOfWork {
    const { rowLocks } = this.options.capabilities;
    return {
      stocks: new SqlStockRepository(trx, rowLocks),
      coupons: new SqlCouponRepository(trx, rowLocks),
      codes: new SqlCodePool(trx),
      requests: new SqlRequestLog(trx),
      media: new SqlMediaLibrary(trx),
      subsidies: new SqlSubsidyLedger(trx),
      outbox: this.options.outbox?.(trx) ?? NO_OUTBOX,
    };
  }
}

/** Unique-key races (the loser reruns and sees the winner's row), deadlocks and serialisation failures. */
function isRetryable(err: unknown): boolean {
  const e = err as { code?: string };
  return (
    e?.code === '23505' ||
    e?.code === '40P01' ||
    e?.code === '40001' ||
    e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    e?.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    e?.code === 'SQLITE_BUSY'
  );
}
