import { type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import type {
  BusifavorStore,
  BusifavorTx,
  Coupon,
  CouponFilter,
  CouponPatch,
  MediaRecord,
  RequestRecord,
  Stock,
  StockCode,
  StockPatch,
  SubsidyReceipt,
  SubsidyReturn,
} from '../../domain/busifavor/model.js';
import { PAID_RECEIPT_STATES } from '../../domain/busifavor/model.js';
import type { NotificationEvent } from '../../domain/ports.js';
import type { DialectCapabilities } from '../connect.js';
import type { DatabaseSchema } from '../schema.js';
import type {
  BusifavorCodesTable,
  BusifavorCouponsTable,
  BusifavorStocksTable,
  BusifavorSubsidyReceiptsTable,
  BusifavorSubsidyReturnsTable,
} from './tables.js';

/**
 * SQL storage of the busifavor domain (one class per dialect capability set, no dialect switches):
 * row locks via `FOR UPDATE` where the database has them; SQLite serialises writers instead.
 */

type Executor = Kysely<DatabaseSchema> | Transaction<DatabaseSchema>;

/** Writes a notification into the outbox inside the caller's transaction. */
export type EnqueueNotification = (db: Executor, event: NotificationEvent, nowMs: number) => Promise<void>;

/** Options of the SQL store. */
export interface SqlBusifavorStoreOptions {
  capabilities: DialectCapabilities;
  /** The outbox writer; without one, notifications are dropped (tests of other features). */
  enqueue?: EnqueueNotification;
  /** How many times a unit of work reruns after a unique-key race or deadlock. @default 5 */
  maxAttempts?: number;
}

class SqlBusifavorTx implements BusifavorTx {
  constructor(
    protected readonly db: Executor,
    protected readonly options: SqlBusifavorStoreOptions,
  ) {}

  async insertStock(s: Stock): Promise<void> {
    await this.db.insertInto('busifavor_stocks').values(stockRow(s)).execute();
  }

  async findStock(stockId: string, options?: { lock?: boolean }): Promise<Stock | undefined> {
    let q = this.db.selectFrom('busifavor_stocks').selectAll().where('stock_id', '=', stockId);
    if (options?.lock && this.options.capabilities.rowLocks) q = q.forUpdate();
    const row = await q.executeTakeFirst();
    return row ? toStock(row) : undefined;
  }

  async findStockByRequest(creatorMchid: string, outRequestNo: string): Promise<Stock | undefined> {
    const row = await this.db
      .selectFrom('busifavor_stocks')
      .selectAll()
      .where('creator_mchid', '=', creatorMchid)
      .where('out_request_no', '=', outRequestNo)
      .executeTakeFirst();
    return row ? toStock(row) : undefined;
  }

  async updateStock(stockId: string, p: StockPatch): Promise<void> {
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

  private async count(stockId: string, column: 'receive_day' | 'user_id' | 'person_id', value: string) {
    const row = await this.db
      .selectFrom('busifavor_coupons')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('stock_id', '=', stockId)
      .where(column, '=', value)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  countCouponsOnDay(stockId: string, day: string): Promise<number> {
    return this.count(stockId, 'receive_day', day);
  }

  countUserCoupons(stockId: string, userId: string): Promise<number> {
    return this.count(stockId, 'user_id', userId);
  }

  countPersonCoupons(stockId: string, personId: string): Promise<number> {
    return this.count(stockId, 'person_id', personId);
  }

  async findCoupon(
    stockId: string,
    couponCode: string,
    options?: { lock?: boolean },
  ): Promise<Coupon | undefined> {
    let q = this.db
      .selectFrom('busifavor_coupons')
      .selectAll()
      .where('stock_id', '=', stockId)
      .where('coupon_code', '=', couponCode);
    if (options?.lock && this.options.capabilities.rowLocks) q = q.forUpdate();
    const row = await q.executeTakeFirst();
    return row ? toCoupon(row) : undefined;
  }

  async findCouponsByCode(couponCode: string): Promise<Coupon[]> {
    const rows = await this.db
      .selectFrom('busifavor_coupons')
      .selectAll()
      .where('coupon_code', '=', couponCode)
      .execute();
    return rows.map(toCoupon);
  }

  async findCouponBySend(
    stockId: string,
    userId: string,
    sendRequestNo: string,
  ): Promise<Coupon | undefined> {
    const row = await this.db
      .selectFrom('busifavor_coupons')
      .selectAll()
      .where('stock_id', '=', stockId)
      .where('user_id', '=', userId)
      .where('send_request_no', '=', sendRequestNo)
      .executeTakeFirst();
    return row ? toCoupon(row) : undefined;
  }

  async insertCoupon(c: Coupon): Promise<void> {
    await this.db.insertInto('busifavor_coupons').values(couponCodec.toRow(c)).execute();
  }

  async updateCoupon(stockId: string, couponCode: string, p: CouponPatch): Promise<void> {
    await this.db
      .updateTable('busifavor_coupons')
      .set(couponCodec.toRow(p))
      .where('stock_id', '=', stockId)
      .where('coupon_code', '=', couponCode)
      .execute();
  }

  async listCoupons(f: CouponFilter): Promise<{ coupons: Coupon[]; total: number }> {
    let q = this.db
      .selectFrom('busifavor_coupons as c')
      .innerJoin('busifavor_stocks as s', 's.stock_id', 'c.stock_id')
      .where('c.user_id', '=', f.userId);
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

  async existingCodes(stockId: string, codes: string[]): Promise<string[]> {
    if (codes.length === 0) return [];
    const rows = await this.db
      .selectFrom('busifavor_codes')
      .select('code')
      .where('stock_id', '=', stockId)
      .where('code', 'in', codes)
      .execute();
    return rows.map((r) => r.code);
  }

  async insertCodes(stockId: string, codes: string[], nowMs: number): Promise<void> {
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

  async listCodes(
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

  async findCode(stockId: string, code: string): Promise<StockCode | undefined> {
    const row = await this.db
      .selectFrom('busifavor_codes')
      .selectAll()
      .where('stock_id', '=', stockId)
      .where('code', '=', code)
      .executeTakeFirst();
    return row ? toStockCode(row) : undefined;
  }

  async deleteAvailableCode(stockId: string, code: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('busifavor_codes')
      .where('stock_id', '=', stockId)
      .where('code', '=', code)
      .where('status', '=', 'AVAILABLE')
      .executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  async dispatchRandomCode(stockId: string, nowMs: number): Promise<string | undefined> {
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

  async findRequest(mchid: string, op: string, requestNo: string): Promise<RequestRecord | undefined> {
    return this.db
      .selectFrom('busifavor_requests')
      .select(['request', 'response'])
      .where('mchid', '=', mchid)
      .where('op', '=', op)
      .where('request_no', '=', requestNo)
      .executeTakeFirst();
  }

  async saveRequest(
    mchid: string,
    op: string,
    requestNo: string,
    r: RequestRecord,
    nowMs: number,
  ): Promise<void> {
    await this.db
      .insertInto('busifavor_requests')
      .values({
        mchid,
        op,
        request_no: requestNo,
        request: r.request,
        response: r.response,
        created_at: nowMs,
      })
      .execute();
  }

  async insertMedia(m: MediaRecord): Promise<void> {
    await this.db
      .insertInto('busifavor_media')
      .values({
        media_url: m.mediaUrl,
        mchid: m.mchid,
        filename: m.filename,
        sha256: m.sha256,
        content_type: m.contentType,
        size: m.size,
        created_at: m.createdAt,
      })
      .execute();
  }

  async findMedia(mediaUrl: string): Promise<MediaRecord | undefined> {
    const row = await this.db
      .selectFrom('busifavor_media')
      .selectAll()
      .where('media_url', '=', mediaUrl)
      .executeTakeFirst();
    return row
      ? {
          mediaUrl: row.media_url,
          mchid: row.mchid,
          filename: row.filename,
          sha256: row.sha256,
          contentType: row.content_type,
          size: Number(row.size),
          createdAt: Number(row.created_at),
        }
      : undefined;
  }

  async insertSubsidyReceipt(r: SubsidyReceipt): Promise<void> {
    await this.db.insertInto('busifavor_subsidy_receipts').values(subsidyReceiptCodec.toRow(r)).execute();
  }

  async findSubsidyReceipt(id: string): Promise<SubsidyReceipt | undefined> {
    const r = await this.db
      .selectFrom('busifavor_subsidy_receipts')
      .selectAll()
      .where('subsidy_receipt_id', '=', id)
      .executeTakeFirst();
    return r ? subsidyReceiptCodec.fromRow(r) : undefined;
  }

  async listSubsidyReceipts(stockId: string, couponCode: string): Promise<SubsidyReceipt[]> {
    const rows = await this.db
      .selectFrom('busifavor_subsidy_receipts')
      .selectAll()
      .where('stock_id', '=', stockId)
      .where('coupon_code', '=', couponCode)
      .orderBy('create_ms')
      .orderBy('subsidy_receipt_id')
      .execute();
    return rows.map(subsidyReceiptCodec.fromRow);
  }

  async updateSubsidyReceiptStatus(id: string, status: string): Promise<void> {
    await this.db
      .updateTable('busifavor_subsidy_receipts')
      .set({ status })
      .where('subsidy_receipt_id', '=', id)
      .execute();
  }

  async insertSubsidyReturn(r: SubsidyReturn): Promise<void> {
    await this.db.insertInto('busifavor_subsidy_returns').values(subsidyReturnCodec.toRow(r)).execute();
  }

  async findSubsidyReturn(id: string): Promise<SubsidyReturn | undefined> {
    const r = await this.db
      .selectFrom('busifavor_subsidy_returns')
      .selectAll()
      .where('subsidy_return_receipt_id', '=', id)
      .executeTakeFirst();
    return r ? subsidyReturnCodec.fromRow(r) : undefined;
  }

  async subsidyReturnedTotal(subsidyReceiptId: string): Promise<number> {
    const row = await this.db
      .selectFrom('busifavor_subsidy_returns')
      .select((eb) => eb.fn.sum<number | string | null>('amount').as('total'))
      .where('subsidy_receipt_id', '=', subsidyReceiptId)
      .where('status', '=', 'RETURN_RECEIPT_SUCCESS')
      .executeTakeFirstOrThrow();
    return Number(row.total ?? 0);
  }

  async subsidyTotal(stockId: string, couponCode: string): Promise<number> {
    const row = await this.db
      .selectFrom('busifavor_subsidy_receipts')
      .select((eb) => eb.fn.sum<number | string | null>('amount').as('total'))
      .where('stock_id', '=', stockId)
      .where('coupon_code', '=', couponCode)
      .where('status', 'in', PAID_RECEIPT_STATES)
      .executeTakeFirstOrThrow();
    return Number(row.total ?? 0);
  }

  async enqueue(event: NotificationEvent, nowMs: number): Promise<void> {
    await this.options.enqueue?.(this.db, event, nowMs);
  }
}

/** The busifavor store over Kysely. */
export class SqlBusifavorStore extends SqlBusifavorTx implements BusifavorStore {
  constructor(
    private readonly kysely: Kysely<DatabaseSchema>,
    options: SqlBusifavorStoreOptions,
  ) {
    super(kysely, options);
  }

  async transaction<T>(work: (tx: BusifavorTx) => Promise<T>): Promise<T> {
    const attempts = this.options.maxAttempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.kysely.transaction().execute((trx) => work(new SqlBusifavorTx(trx, this.options)));
      } catch (err) {
        if (attempt >= attempts || !isRetryable(err)) throw err;
      }
    }
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

function toStockCode(r: Selectable<BusifavorCodesTable>): StockCode {
  return {
    stockId: r.stock_id,
    code: r.code,
    status: r.status as StockCode['status'],
    uploadMs: Number(r.upload_ms),
    dispatchedMs: r.dispatched_ms === null ? null : Number(r.dispatched_ms),
  };
}

/**
 * Maps a domain record to its row and back through a field → column table. Columns in `numeric` are
 * bigint in SQL and come back as numbers (pg returns bigint as a string).
 */
function rowCodec<T extends object, Row extends object>(
  columns: { [K in keyof T]: keyof Row & string },
  numeric: ReadonlyArray<keyof Row & string>,
) {
  const numericColumns = new Set<string>(numeric);
  const entries = Object.entries(columns) as Array<[string, string]>;
  return {
    /** The columns of the fields present in `record` (a whole record or a patch). */
    toRow(record: Partial<T>): Row {
      const row: Record<string, unknown> = {};
      for (const [key, column] of entries) if (key in record) row[column] = record[key as keyof T];
      return row as Row;
    },
    fromRow(row: Selectable<Row>): T {
      const out: Record<string, unknown> = {};
      for (const [key, column] of entries) {
        const v = (row as Record<string, unknown>)[column];
        out[key] = numericColumns.has(column) && v !== null ? Number(v) : v;
      }
      return out as T;
    },
  };
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

/** Field → column of what pay and return receipts share. */
const SUBSIDY_MOVEMENT_COLUMNS = {
  mchid: 'mchid',
  stockId: 'stock_id',
  couponCode: 'coupon_code',
  transactionId: 'transaction_id',
  payerMerchant: 'payer_merchant',
  payeeMerchant: 'payee_merchant',
  amount: 'amount',
  description: 'description',
  status: 'status',
  failReason: 'fail_reason',
} as const;

const subsidyReceiptCodec = rowCodec<SubsidyReceipt, BusifavorSubsidyReceiptsTable>(
  {
    ...SUBSIDY_MOVEMENT_COLUMNS,
    subsidyReceiptId: 'subsidy_receipt_id',
    outSubsidyNo: 'out_subsidy_no',
    successMs: 'success_ms',
    createMs: 'create_ms',
  },
  ['amount', 'success_ms', 'create_ms'],
);

const subsidyReturnCodec = rowCodec<SubsidyReturn, BusifavorSubsidyReturnsTable>(
  {
    ...SUBSIDY_MOVEMENT_COLUMNS,
    subsidyReturnReceiptId: 'subsidy_return_receipt_id',
    outSubsidyReturnNo: 'out_subsidy_return_no',
    subsidyReceiptId: 'subsidy_receipt_id',
    refundId: 'refund_id',
    returnDoneMs: 'return_done_ms',
    returnCreateMs: 'return_create_ms',
  },
  ['amount', 'return_done_ms', 'return_create_ms'],
);
