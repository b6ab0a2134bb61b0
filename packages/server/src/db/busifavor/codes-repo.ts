import { type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import type { StockCode } from '../../domain/busifavor/model.js';
import type { CodePool, CodePoolReader } from '../../domain/busifavor/ports.js';
import type { DatabaseSchema } from '../schema.js';
import type { BusifavorCodesTable } from './tables.js';

/** Code-pool reads over the root database or a transaction. */
export class SqlCodePoolReader implements CodePoolReader {
  constructor(protected readonly db: Kysely<DatabaseSchema>) {}

  async existing(stockId: string, codes: string[]): Promise<string[]> {
    if (codes.length === 0) return [];
    const rows = await this.db
      .selectFrom('busifavor_codes')
      .select('code')
      .where('stock_id', '=', stockId)
      .where('code', 'in', codes)
      .execute();
    return rows.map((r) => r.code);
  }

  async list(
    stockId: string,
    status: StockCode['status'] | undefined,
    offset: number,
    limit: number,
  ): Promise<{ codes: StockCode[]; total: number }> {
    let q = this.db.selectFrom('busifavor_codes').where('stock_id', '=', stockId);
    if (status !== undefined) q = q.where('status', '=', status);
    const count = await q.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();
    const rows = await q
      .selectAll()
      .orderBy('upload_ms')
      .orderBy('code')
      .offset(offset)
      .limit(limit)
      .execute();
    return { codes: rows.map(toStockCode), total: Number(count.n) };
  }

  async find(stockId: string, code: string): Promise<StockCode | undefined> {
    const row = await this.db
      .selectFrom('busifavor_codes')
      .selectAll()
      .where('stock_id', '=', stockId)
      .where('code', '=', code)
      .executeTakeFirst();
    return row ? toStockCode(row) : undefined;
  }
}

/** The code pool inside a transaction. */
export class SqlCodePool extends SqlCodePoolReader implements CodePool {
  constructor(db: Transaction<DatabaseSchema>) {
    super(db);
  }

  async insert(stockId: string, codes: string[], nowMs: number): Promise<void> {
    for (let i = 0; i < codes.length; i += 100) {
      await this.db
        .insertInto('busifavor_codes')
        .values(
          codes.slice(i, i + 100).map((code) => ({
            stock_id: stockId,
            code,
            status: 'AVAILABLE',
            upload_ms: nowMs,
            dispatched_ms: null,
          })),
        )
        .execute();
    }
  }

  async deleteAvailable(stockId: string, code: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('busifavor_codes')
      .where('stock_id', '=', stockId)
      .where('code', '=', code)
      .where('status', '=', 'AVAILABLE')
      .executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  async dispatchRandom(stockId: string, nowMs: number): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('busifavor_codes')
      .select('code')
      .where('stock_id', '=', stockId)
      .where('status', '=', 'AVAILABLE')
      .orderBy(sql`random()`)
      .limit(1)
      .executeTakeFirst();
    if (!row) return undefined;
    await this.db
      .updateTable('busifavor_codes')
      .set({ status: 'DISPATCHED', dispatched_ms: nowMs })
      .where('stock_id', '=', stockId)
      .where('code', '=', row.code)
      .execute();
    return row.code;
  }
}

function toStockCode(r: Selectable<BusifavorCodesTable>): StockCode {
  return {
    stockId: r.stock_id,
    code: r.code,
    status: r.status as StockCode['status'],
    uploadMs: Number(r.upload_ms),
    dispatchedMs: r.dispatched_ms === null ? null : Number(r.dispatched_ms),
  };
}
