import type { Clock, IdGen, Outbox } from '../ports.js';
import type {
  Coupon,
  CouponFilter,
  CouponPatch,
  MediaRecord,
  RequestRecord,
  SimUser,
  Stock,
  StockCode,
  StockPatch,
  SubsidyReceipt,
  SubsidyReturn,
} from './model.js';

/**
 * The ports the busifavor rules call. Storage is one repository per aggregate; each comes as a
 * read-only view (what {@link BusifavorStore.read} hands out, usable anywhere) and as a full
 * repository (reads with row locks, and writes), which only a unit of work inside
 * {@link BusifavorStore.transaction} hands out, together with the {@link Outbox}. A write or an
 * enqueue outside a transaction therefore does not compile.
 */

/** Row-lock option of in-transaction reads. */
export interface LockOption {
  /** Take a row lock where the database has them; SQLite serialises writers instead. */
  lock?: boolean;
}

/** Reads of stocks (批次). */
export interface StockReader {
  find(stockId: string): Promise<Stock | undefined>;
  /** The stock a creator made under `outRequestNo`. */
  findByRequest(creatorMchid: string, outRequestNo: string): Promise<Stock | undefined>;
  /** A page of the stocks a merchant created, newest first (the dashboard's stock list). */
  listByCreator(creatorMchid: string, page: PageOption): Promise<{ stocks: Stock[]; total: number }>;
}

/** A page of a list: `limit` rows from `offset`. */
export interface PageOption {
  offset: number;
  limit: number;
}

/** Stocks inside a unit of work. */
export interface StockRepository extends StockReader {
  find(stockId: string, options?: LockOption): Promise<Stock | undefined>;
  insert(stock: Stock): Promise<void>;
  update(stockId: string, patch: StockPatch): Promise<void>;
}

/** Reads of coupons in users' card bags. */
export interface CouponReader {
  find(stockId: string, couponCode: string): Promise<Coupon | undefined>;
  /** Every coupon with this code, whatever its stock. */
  findByCode(couponCode: string): Promise<Coupon[]>;
  /** The coupon a send request gave the user. */
  findBySend(stockId: string, userId: string, sendRequestNo: string): Promise<Coupon | undefined>;
  list(filter: CouponFilter): Promise<{ coupons: Coupon[]; total: number }>;
  /** How many of the stock's coupons are in each stored state (EXPIRED counts only stored ones). */
  countByState(stockId: string): Promise<Record<string, number>>;
  /** Coupons of the stock received on a Beijing day. */
  countOnDay(stockId: string, day: string): Promise<number>;
  countForUser(stockId: string, userId: string): Promise<number>;
  /** Coupons of the stock held by any account of a natural person. */
  countForPerson(stockId: string, personId: string): Promise<number>;
}

/** Coupons inside a unit of work. */
export interface CouponRepository extends CouponReader {
  find(stockId: string, couponCode: string, options?: LockOption): Promise<Coupon | undefined>;
  insert(coupon: Coupon): Promise<void>;
  /** Inserts many coupons at once (multi-row statements): the bulk path of `wechatpay-sandbox seed`. */
  insertMany(coupons: readonly Coupon[]): Promise<void>;
  update(stockId: string, couponCode: string, patch: CouponPatch): Promise<void>;
}

/** Reads of the pre-uploaded codes of MERCHANT_UPLOAD stocks. */
export interface CodePoolReader {
  /** Which of `codes` are already stored for the stock. */
  existing(stockId: string, codes: string[]): Promise<string[]>;
  /** A page of the stock's codes (upload order), with the number matching `status`. */
  list(
    stockId: string,
    status: StockCode['status'] | undefined,
    offset: number,
    limit: number,
  ): Promise<{ codes: StockCode[]; total: number }>;
  find(stockId: string, code: string): Promise<StockCode | undefined>;
}

/** The code pool inside a unit of work. */
export interface CodePool extends CodePoolReader {
  /** Adds AVAILABLE codes. */
  insert(stockId: string, codes: string[], nowMs: number): Promise<void>;
  /** Removes an AVAILABLE code; false when it is gone or no longer AVAILABLE. */
  deleteAvailable(stockId: string, code: string): Promise<boolean>;
  /** Picks an AVAILABLE code at random and marks it DISPATCHED; undefined when the pool is empty. */
  dispatchRandom(stockId: string, nowMs: number): Promise<string | undefined>;
}

/** Reads of the request numbers already answered (idempotency), per caller and operation. */
export interface RequestLogReader {
  find(mchid: string, op: string, requestNo: string): Promise<RequestRecord | undefined>;
}

/** The request log inside a unit of work. */
export interface RequestLog extends RequestLogReader {
  save(mchid: string, op: string, requestNo: string, record: RequestRecord, nowMs: number): Promise<void>;
}

/** Reads of uploaded marketing images. */
export interface MediaReader {
  find(mediaUrl: string): Promise<MediaRecord | undefined>;
}

/** Uploaded images inside a unit of work. */
export interface MediaLibrary extends MediaReader {
  insert(media: MediaRecord): Promise<void>;
}

/** Reads of subsidy pay receipts and their return receipts. */
export interface SubsidyLedgerReader {
  findReceipt(subsidyReceiptId: string): Promise<SubsidyReceipt | undefined>;
  /** The coupon's pay receipts, oldest first. */
  listReceipts(stockId: string, couponCode: string): Promise<SubsidyReceipt[]>;
  /** Sum of subsidy amounts already paid for a coupon (returns not deducted). */
  paidTotal(stockId: string, couponCode: string): Promise<number>;
  findReturn(subsidyReturnReceiptId: string): Promise<SubsidyReturn | undefined>;
  /** Sum of the successful returns of a pay receipt. */
  returnedTotal(subsidyReceiptId: string): Promise<number>;
}

/** Subsidy receipts and returns inside a unit of work. */
export interface SubsidyLedger extends SubsidyLedgerReader {
  insertReceipt(receipt: SubsidyReceipt): Promise<void>;
  setReceiptStatus(subsidyReceiptId: string, status: string): Promise<void>;
  insertReturn(receipt: SubsidyReturn): Promise<void>;
}

/** What the store reads outside a transaction: read-only views, no locks, no outbox. */
export interface BusifavorReadViews {
  stocks: StockReader;
  coupons: CouponReader;
  codes: CodePoolReader;
  requests: RequestLogReader;
  media: MediaReader;
  subsidies: SubsidyLedgerReader;
}

/** What one transaction works with: every repository, reads and writes, and the outbox. */
export interface BusifavorUnitOfWork {
  stocks: StockRepository;
  coupons: CouponRepository;
  codes: CodePool;
  requests: RequestLog;
  media: MediaLibrary;
  subsidies: SubsidyLedger;
  /** Notifications written atomically with the rest of the unit of work. */
  outbox: Outbox;
}

/** The busifavor store: read-only views, and atomic units of work. */
export interface BusifavorStore {
  /** Reads outside any transaction (each one on its own). */
  readonly read: BusifavorReadViews;
  /**
   * Runs `work` atomically. Writers to the same stock or coupon are serialised (row locks, or a single
   * writer). A unique-key race makes the adapter run `work` again, so `work` must be re-runnable.
   */
  transaction<T>(work: (tx: BusifavorUnitOfWork) => Promise<T>): Promise<T>;
}

/** Merchants, appid bindings and simulated users, as the rules need them. */
export interface BusifavorDirectory {
  /** The merchant's service provider: null when it has none, undefined when the merchant is unknown. */
  merchantParent(mchid: string): Promise<string | null | undefined>;
  /** The merchant's APIv2 key: null when it has none, undefined when the merchant is unknown. */
  merchantApiV2Key(mchid: string): Promise<string | null | undefined>;
  isAppidBound(appid: string, mchid: string): Promise<boolean>;
  userByOpenid(appid: string, openid: string): Promise<SimUser | undefined>;
  userById(userId: string): Promise<SimUser | undefined>;
  openidOf(userId: string, appid: string): Promise<string | undefined>;
}

/** A failure a test hook decided for one subsidy receipt (see sim/subsidy-outcomes.ts). */
export interface InjectedSubsidyFailure {
  ruleId: string;
  failReason: string;
}

/**
 * Simulated subsidy outcomes (insufficient balance, not a profit-sharing order…), which the sandbox
 * cannot produce from its own state. A firing is taken before the receipt's unit of work and given
 * back when that request creates no receipt it decided (refused, replayed, failed for its own reason).
 */
export interface SubsidyOutcomePort {
  take(target: {
    kind: 'pay' | 'return';
    mchid: string;
    stockId: string;
  }): Promise<InjectedSubsidyFailure | undefined>;
  giveBack(taken: InjectedSubsidyFailure): Promise<void>;
}

/** Everything the busifavor rules need. */
export interface BusifavorDeps {
  store: BusifavorStore;
  directory: BusifavorDirectory;
  clock: Clock;
  ids: IdGen;
  /** Injected subsidy failures; absent = every receipt settles on its own merits. */
  subsidyOutcomes?: SubsidyOutcomePort;
}
