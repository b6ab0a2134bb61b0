import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Stock, StockPatch } from '../../domain/busifavor/model.js';
import type { LockOption, PageOption, StockReader, StockRepository } from '../../domain/busifavor/ports.js';
import { precompiled } from '../precompiled.js';
import type { DatabaseSchema } from '../schema.js';
import type { BusifavorStocksTable } from './tables.js';

// A stock by id, read by nearly every busifavor call (locked inside a send): compiled once.
const stockById = precompiled<{ stockId: string }, Selectable<BusifavorStocksTable>, DatabaseSchema>(
  (db, param) => db.selectFrom('busifavor_stocks').selectAll().where('stock_id', '=', param('stockId')),
);
const stockForUpdate = precompiled<{ stockId: string }, Selectable<BusifavorStocksTable>, DatabaseSchema>(
  (db, param) =>
    db.selectFrom('busifavor_stocks').selectAll().where('stock_id', '=', param('stockId')).forUpdate(),
);

/** Stock reads over the root database or a transaction. */
export class SqlStockReader implements StockReader {
  constructor(protected readonly db: Kysely<DatabaseSchema>) {}

  find(stockId: string): Promise<Stock | undefined> {
    return this.select(stockId, false);
  }

  async findByRequest(creatorMchid: string, outRequestNo: string): Promise<Stock | undefined> {
    const row = await this.db
      .selectFrom('busifavor_stocks')
      .selectAll()
      .where('creator_mchid', '=', creatorMchid)
      .where('out_request_no', '=', outRequestNo)
      .executeTakeFirst();
    return row ? toStock(row) : undefined;
  }

  async listByCreator(creatorMchid: string, page: PageOption): Promise<{ stocks: Stock[]; total: number }> {
    const q = this.db.selectFrom('busifavor_stocks').where('creator_mchid', '=', creatorMchid);
    const [count, rows] = await Promise.all([
      q.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow(),
      q
        .selectAll()
        .orderBy('created_at', 'desc')
        .orderBy('stock_id', 'desc')
        .limit(page.limit)
        .offset(page.offset)
        .execute(),
    ]);
    return { stocks: rows.map(toStock), total: Number(count.n) };
  }

  protected async select(stockId: string, lock: boolean): Promise<Stock | undefined> {
    const [row] = await (lock ? stockForUpdate : stockById)(this.db, { stockId });
    return row ? toStock(row) : undefined;
  }
}

/** Stocks inside a transaction; `rowLocks` says whether the database has `FOR UPDATE`. */
export class SqlStockRepository extends SqlStockReader implements StockRepository {
  constructor(
    db: Transaction<DatabaseSchema>,
    private readonly rowLocks: boolean,
  ) {
    super(db);
  }

  override find(stockId: string, options?: LockOption): Promise<Stock | undefined> {
    return this.select(stockId, options?.lock === true && this.rowLocks);
  }

  async insert(s: Stock): Promise<void> {
    await this.db.insertInto('busifavor_stocks').values(stockRow(s)).execute();
  }

  async update(stockId: string, p: StockPatch): Promise<void> {
    const set: Partial<BusifavorStocksTable> = {};
    if (p.definition !== undefined) set.definition = JSON.stringify(p.definition);
    if (p.state !== undefined) set.stock_state = p.state;
    if (p.maxCoupons !== undefined) set.max_coupons = p.maxCoupons;
    if (p.maxCouponsByDay !== undefined) set.max_coupons_by_day = p.maxCouponsByDay;
    if (p.totalSendNum !== undefined) set.total_send_num = p.totalSendNum;
    if (p.totalSendAmount !== undefined) set.total_send_amount = p.totalSendAmount;
    if (p.codeTotalCount !== undefined) set.code_total_count = p.codeTotalCount;
    if (p.codeAvailableCount !== undefined) set.code_available_count = p.codeAvailableCount;
    if (p.updatedAt !== undefined) set.updated_at = p.updatedAt;
    await this.db.updateTable('busifavor_stocks').set(set).where('stock_id', '=', stockId).execute();
  }
}

function stockRow(s: Stock): BusifavorStocksTable {
  return {
    stock_id: s.stockId,
    creator_mchid: s.creatorMchid,
    belong_merchant: s.belongMerchant,
    out_request_no: s.outRequestNo,
    stock_type: s.stockType,
    coupon_code_mode: s.codeMode,
    stock_state: s.state,
    definition: JSON.stringify(s.definition),
    max_coupons: s.maxCoupons,
    max_coupons_by_day: s.maxCouponsByDay,
    max_coupons_per_user: s.maxCouponsPerUser,
    natural_person_limit: s.naturalPersonLimit ? 1 : 0,
    available_begin_ms: s.availableBeginMs,
    available_end_ms: s.availableEndMs,
    total_send_num: s.totalSendNum,
    total_send_amount: s.totalSendAmount,
    code_total_count: s.codeTotalCount,
    code_available_count: s.codeAvailableCount,
    created_at: s.createdAt,
    updated_at: s.updatedAt,
  };
}

function toStock(r: Selectable<BusifavorStocksTable>): Stock {
  return {
    stockId: r.stock_id,
    creatorMchid: r.creator_mchid,
    belongMerchant: r.belong_merchant,
    outRequestNo: r.out_request_no,
    stockType: r.stock_type as Stock['stockType'],
    codeMode: r.coupon_code_mode as Stock['codeMode'],
    state: r.stock_state as Stock['state'],
    definition: JSON.parse(r.definition) as Stock['definition'],
    maxCoupons: Number(r.max_coupons),
    maxCouponsByDay: r.max_coupons_by_day === null ? null : Number(r.max_coupons_by_day),
    maxCouponsPerUser: Number(r.max_coupons_per_user),
    naturalPersonLimit: Number(r.natural_person_limit) === 1,
    availableBeginMs: Number(r.available_begin_ms),
    availableEndMs: Number(r.available_end_ms),
    totalSendNum: Number(r.total_send_num),
    totalSendAmount: Number(r.total_send_amount),
    codeTotalCount: Number(r.code_total_count),
    codeAvailableCount: Number(r.code_available_count),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}
