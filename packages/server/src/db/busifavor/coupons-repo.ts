import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Coupon, CouponFilter, CouponPatch } from '../../domain/busifavor/model.js';
import type { CouponReader, CouponRepository, LockOption } from '../../domain/busifavor/ports.js';
import { precompiled } from '../precompiled.js';
import type { DatabaseSchema } from '../schema.js';
import { rowCodec } from './row-codec.js';
import type { BusifavorCouponsTable } from './tables.js';

// A coupon by stock and code (locked inside a change), and the per-day/per-user/per-person counts every
// send checks: compiled once.
type CouponKey = { stockId: string; couponCode: string };
const couponRow = precompiled<CouponKey, Selectable<BusifavorCouponsTable>, DatabaseSchema>((db, param) =>
  db
    .selectFrom('busifavor_coupons')
    .selectAll()
    .where('stock_id', '=', param('stockId'))
    .where('coupon_code', '=', param('couponCode')),
);
const couponForUpdate = precompiled<CouponKey, Selectable<BusifavorCouponsTable>, DatabaseSchema>(
  (db, param) =>
    db
      .selectFrom('busifavor_coupons')
      .selectAll()
      .where('stock_id', '=', param('stockId'))
      .where('coupon_code', '=', param('couponCode'))
      .forUpdate(),
);
type CountColumn = 'receive_day' | 'user_id' | 'person_id';
const countBy = (column: CountColumn) =>
  precompiled<{ stockId: string; value: string }, { n: number | string }, DatabaseSchema>((db, param) =>
    db
      .selectFrom('busifavor_coupons')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('stock_id', '=', param('stockId'))
      .where(column, '=', param('value')),
  );
const COUNTS: Record<CountColumn, ReturnType<typeof countBy>> = {
  receive_day: countBy('receive_day'),
  user_id: countBy('user_id'),
  person_id: countBy('person_id'),
};

/** Coupon reads over the root database or a transaction. */
export class SqlCouponReader implements CouponReader {
  constructor(protected readonly db: Kysely<DatabaseSchema>) {}

  find(stockId: string, couponCode: string): Promise<Coupon | undefined> {
    return this.select(stockId, couponCode, false);
  }

  async findByCode(couponCode: string): Promise<Coupon[]> {
    const rows = await this.db
      .selectFrom('busifavor_coupons')
      .selectAll()
      .where('coupon_code', '=', couponCode)
      .execute();
    return rows.map(toCoupon);
  }

  async findBySend(stockId: string, userId: string, sendRequestNo: string): Promise<Coupon | undefined> {
    const row = await this.db
      .selectFrom('busifavor_coupons')
      .selectAll()
      .where('stock_id', '=', stockId)
      .where('user_id', '=', userId)
      .where('send_request_no', '=', sendRequestNo)
      .executeTakeFirst();
    return row ? toCoupon(row) : undefined;
  }

  async list(f: CouponFilter): Promise<{ coupons: Coupon[]; total: number }> {
    let q = this.db
      .selectFrom('busifavor_coupons as c')
      .innerJoin('busifavor_stocks as s', 's.stock_id', 'c.stock_id');
    if (f.userId !== undefined) q = q.where('c.user_id', '=', f.userId);
    if (f.stockId !== undefined) q = q.where('c.stock_id', '=', f.stockId);
    if (f.creatorMchid !== undefined) q = q.where('s.creator_mchid', '=', f.creatorMchid);
    if (f.belongMerchant !== undefined) q = q.where('s.belong_merchant', '=', f.belongMerchant);
    if (f.senderMerchant !== undefined) q = q.where('c.send_merchant', '=', f.senderMerchant);
    // A SENDED coupon whose last usable second has passed is EXPIRED.
    const cutoff = f.nowMs - 1000;
    if (f.state === 'SENDED') q = q.where('c.state', '=', 'SENDED').where('c.expire_ms', '>', cutoff);
    else if (f.state === 'EXPIRED') {
      q = q.where((eb) =>
        eb.or([
          eb('c.state', '=', 'EXPIRED'),
          eb.and([eb('c.state', '=', 'SENDED'), eb('c.expire_ms', '<=', cutoff)]),
        ]),
      );
    } else if (f.state !== undefined) q = q.where('c.state', '=', f.state);
    const total = await q.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();
    const rows = await q
      .selectAll('c')
      .orderBy('c.receive_ms', 'desc')
      .orderBy('c.coupon_code', 'asc')
      .limit(f.limit)
      .offset(f.offset)
      .execute();
    return { coupons: rows.map(toCoupon), total: Number(total.n) };
  }

  async countByState(stockId: string): Promise<Record<string, number>> {
    const rows = await this.db
      .selectFrom('busifavor_coupons')
      .select(['state', (eb) => eb.fn.countAll<number | string>().as('n')])
      .where('stock_id', '=', stockId)
      .groupBy('state')
      .execute();
    return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
  }

  countOnDay(stockId: string, day: string): Promise<number> {
    return this.count(stockId, 'receive_day', day);
  }

  countForUser(stockId: string, userId: string): Promise<number> {
    return this.count(stockId, 'user_id', userId);
  }

  countForPerson(stockId: string, personId: string): Promise<number> {
    return this.count(stockId, 'person_id', personId);
  }

  protected async select(stockId: string, couponCode: string, lock: boolean): Promise<Coupon | undefined> {
    const [row] = await (lock ? couponForUpdate : couponRow)(this.db, { stockId, couponCode });
    return row ? toCoupon(row) : undefined;
  }

  private async count(stockId: string, column: CountColumn, value: string) {
    const [row] = await COUNTS[column](this.db, { stockId, value });
    return Number(row?.n ?? 0);
  }
}

/**
 * Rows per multi-row INSERT: 23 columns × 1,000 rows = 23,000 bound values, under SQLite's 32,766 and
 * PostgreSQL's 65,535 per statement.
 */
const INSERT_ROWS_PER_STATEMENT = 1000;

/** Coupons inside a transaction; `rowLocks` says whether the database has `FOR UPDATE`. */
export class SqlCouponRepository extends SqlCouponReader implements CouponRepository {
  constructor(
    db: Transaction<DatabaseSchema>,
    private readonly rowLocks: boolean,
  ) {
    super(db);
  }

  override find(stockId: string, couponCode: string, options?: LockOption): Promise<Coupon | undefined> {
    return this.select(stockId, couponCode, options?.lock === true && this.rowLocks);
  }

  async insert(c: Coupon): Promise<void> {
    await this.db.insertInto('busifavor_coupons').values(couponCodec.toRow(c)).execute();
  }

  async insertMany(coupons: readonly Coupon[]): Promise<void> {
    for (let i = 0; i < coupons.length; i += INSERT_ROWS_PER_STATEMENT) {
      const rows = coupons.slice(i, i + INSERT_ROWS_PER_STATEMENT).map((c) => couponCodec.toRow(c));
      // A column NULL in every row is left to its default: a sent coupon's eleven use/return/… columns
      // would otherwise double the values the database parses and binds.
      const keys = Object.keys(rows[0] ?? {}) as Array<keyof BusifavorCouponsTable>;
      for (const key of keys) {
        if (rows.every((row) => row[key] === null)) for (const row of rows) delete row[key];
      }
      await this.db.insertInto('busifavor_coupons').values(rows).execute();
    }
  }

  async update(stockId: string, couponCode: string, p: CouponPatch): Promise<void> {
    await this.db
      .updateTable('busifavor_coupons')
      .set(couponCodec.toRow(p))
      .where('stock_id', '=', stockId)
      .where('coupon_code', '=', couponCode)
      .execute();
  }
}

const couponCodec = rowCodec<Coupon, BusifavorCouponsTable>(
  {
    stockId: 'stock_id',
    couponCode: 'coupon_code',
    userId: 'user_id',
    personId: 'person_id',
    state: 'state',
    sendRequestNo: 'send_request_no',
    sendChannel: 'send_channel',
    sendMerchant: 'send_merchant',
    receiveMs: 'receive_ms',
    receiveDay: 'receive_day',
    availableStartMs: 'available_start_ms',
    expireMs: 'expire_ms',
    useRequestNo: 'use_request_no',
    useTimeMs: 'use_time_ms',
    wechatpayUseMs: 'wechatpay_use_ms',
    associateOutTradeNo: 'associate_out_trade_no',
    associateMs: 'associate_ms',
    returnRequestNo: 'return_request_no',
    returnMs: 'return_ms',
    deactivateRequestNo: 'deactivate_request_no',
    deactivateMs: 'deactivate_ms',
    deactivateReason: 'deactivate_reason',
    updatedAt: 'updated_at',
  },
  [
    'receive_ms',
    'available_start_ms',
    'expire_ms',
    'use_time_ms',
    'wechatpay_use_ms',
    'associate_ms',
    'return_ms',
    'deactivate_ms',
    'updated_at',
  ],
);
const toCoupon = couponCodec.fromRow;
