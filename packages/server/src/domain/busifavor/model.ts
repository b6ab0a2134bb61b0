import type {
  CouponCodeMode,
  CouponState,
  CouponUseRule,
  CustomEntrance,
  DisplayPatternInfo,
  NotifyConfig,
  StockSendRule,
  StockState,
  StockType,
} from '../../contract/busifavor/common.js';
import type { Clock, IdGen, NotificationEvent } from '../ports.js';

/**
 * The merchant-coupon (busifavor) domain model and the ports its rules call. The nested rule objects
 * (`coupon_use_rule`, `stock_send_rule`, …) are kept in their wire shape: they are stored and echoed
 * as the merchant sent them (times excepted: those are kept in the form WeChat answers with), and the
 * contract types are their single definition.
 * @see docs/busifavor.md
 */

/** What a merchant defined for a stock, in wire shape (echoed by the query API). */
export interface StockDefinition {
  stock_name: string;
  comment?: string;
  goods_name: string;
  coupon_use_rule: CouponUseRule;
  stock_send_rule: StockSendRule;
  custom_entrance?: CustomEntrance;
  display_pattern_info?: DisplayPatternInfo;
  notify_config?: NotifyConfig;
  subsidy?: boolean;
}

/** A stock (批次). */
export interface Stock {
  stockId: string;
  creatorMchid: string;
  belongMerchant: string;
  outRequestNo: string;
  stockType: StockType;
  codeMode: CouponCodeMode;
  state: StockState;
  definition: StockDefinition;
  maxCoupons: number;
  maxCouponsByDay: number | null;
  maxCouponsPerUser: number;
  naturalPersonLimit: boolean;
  availableBeginMs: number;
  availableEndMs: number;
  totalSendNum: number;
  totalSendAmount: number;
  codeTotalCount: number;
  codeAvailableCount: number;
  createdAt: number;
  updatedAt: number;
}

/** Stored coupon states; EXPIRED is also derived lazily from `expireMs`. */
export type StoredCouponState = CouponState;

/** A coupon in a user's card bag. */
export interface Coupon {
  stockId: string;
  couponCode: string;
  userId: string;
  personId: string;
  state: StoredCouponState;
  sendRequestNo: string;
  sendChannel: string;
  sendMerchant: string;
  receiveMs: number;
  receiveDay: string;
  availableStartMs: number;
  expireMs: number;
  useRequestNo: string | null;
  useTimeMs: number | null;
  wechatpayUseMs: number | null;
  associateOutTradeNo: string | null;
  associateMs: number | null;
  returnRequestNo: string | null;
  returnMs: number | null;
  deactivateRequestNo: string | null;
  deactivateMs: number | null;
  deactivateReason: string | null;
  updatedAt: number;
}

/** A pre-uploaded code of a MERCHANT_UPLOAD stock. */
export interface StockCode {
  stockId: string;
  code: string;
  status: 'AVAILABLE' | 'DISPATCHED';
  uploadMs: number;
  dispatchedMs: number | null;
}

/** A simulated WeChat user. */
export interface SimUser {
  userId: string;
  unionid: string;
  /** The ID-card holder; several accounts may share one (natural-person limit). */
  personId: string;
  /** Flagged as a suspicious account (blocked by `prevent_api_abuse`). */
  suspicious: boolean;
}

/** An uploaded marketing image. */
export interface MediaRecord {
  mediaUrl: string;
  mchid: string;
  filename: string;
  sha256: string;
  contentType: string;
  size: number;
  createdAt: number;
}

/** What pay and return receipts share: the coupon, the order, who pays whom, and the outcome. */
export interface SubsidyMovement {
  /** The merchant that created the receipt. */
  mchid: string;
  stockId: string;
  couponCode: string;
  transactionId: string;
  payerMerchant: string;
  payeeMerchant: string;
  amount: number;
  description: string;
  status: string;
  failReason: string | null;
}

/** A subsidy pay receipt. */
export interface SubsidyReceipt extends SubsidyMovement {
  subsidyReceiptId: string;
  outSubsidyNo: string;
  successMs: number | null;
  createMs: number;
}

/**
 * Pay-receipt states in which the money was paid (and maybe partly or fully returned): a coupon has
 * been subsidised once it has a receipt in one of them.
 */
export const PAID_RECEIPT_STATES = [
  'PAY_RECEIPT_SUCCESS',
  'PAY_RECEIPT_PARTIAL_RETURN',
  'PAY_RECEIPT_FULL_RETURN',
] as const;

/** A subsidy return receipt (营销补差回退单). */
export interface SubsidyReturn extends SubsidyMovement {
  subsidyReturnReceiptId: string;
  outSubsidyReturnNo: string;
  /** The pay receipt whose money goes back. */
  subsidyReceiptId: string;
  refundId: string;
  returnDoneMs: number | null;
  returnCreateMs: number;
}

/** A stored request number with the request it carried and the answer given. */
export interface RequestRecord {
  request: string;
  response: string;
}

/** Filters of the user-coupon list. */
export interface CouponFilter {
  userId: string;
  stockId?: string;
  /** Effective state; EXPIRED includes SENDED coupons past `expireMs` at `nowMs`. */
  state?: CouponState;
  creatorMchid?: string;
  belongMerchant?: string;
  senderMerchant?: string;
  nowMs: number;
  offset: number;
  limit: number;
}

/** Stock fields that change after creation. */
export type StockPatch = Partial<
  Pick<
    Stock,
    | 'definition'
    | 'state'
    | 'maxCoupons'
    | 'maxCouponsByDay'
    | 'totalSendNum'
    | 'totalSendAmount'
    | 'codeTotalCount'
    | 'codeAvailableCount'
    | 'updatedAt'
  >
>;

/** Coupon fields that change after sending. */
export type CouponPatch = Partial<Omit<Coupon, 'stockId' | 'couponCode' | 'userId' | 'personId'>>;

/** Storage operations; inside {@link BusifavorStore.transaction} they form one atomic unit. */
export interface BusifavorTx {
  insertStock(stock: Stock): Promise<void>;
  /** `lock` takes a row lock where the database has them (the caller is inside a transaction). */
  findStock(stockId: string, options?: { lock?: boolean }): Promise<Stock | undefined>;
  findStockByRequest(creatorMchid: string, outRequestNo: string): Promise<Stock | undefined>;
  updateStock(stockId: string, patch: StockPatch): Promise<void>;
  /** Coupons of the stock received on a Beijing day. */
  countCouponsOnDay(stockId: string, day: string): Promise<number>;
  countUserCoupons(stockId: string, userId: string): Promise<number>;
  countPersonCoupons(stockId: string, personId: string): Promise<number>;
  findCoupon(stockId: string, couponCode: string, options?: { lock?: boolean }): Promise<Coupon | undefined>;
  findCouponsByCode(couponCode: string): Promise<Coupon[]>;
  findCouponBySend(stockId: string, userId: string, sendRequestNo: string): Promise<Coupon | undefined>;
  insertCoupon(coupon: Coupon): Promise<void>;
  updateCoupon(stockId: string, couponCode: string, patch: CouponPatch): Promise<void>;
  listCoupons(filter: CouponFilter): Promise<{ coupons: Coupon[]; total: number }>;
  /** Which of `codes` are already stored for the stock. */
  existingCodes(stockId: string, codes: string[]): Promise<string[]>;
  insertCodes(stockId: string, codes: string[], nowMs: number): Promise<void>;
  /** A page of the stock's codes (upload order), with the number matching `status`. */
  listCodes(
    stockId: string,
    status: StockCode['status'] | undefined,
    offset: number,
    limit: number,
  ): Promise<{ codes: StockCode[]; total: number }>;
  findCode(stockId: string, code: string): Promise<StockCode | undefined>;
  /** Removes an AVAILABLE code; false when it is gone or no longer AVAILABLE. */
  deleteAvailableCode(stockId: string, code: string): Promise<boolean>;
  /** Picks an AVAILABLE code at random and marks it DISPATCHED; undefined when the pool is empty. */
  dispatchRandomCode(stockId: string, nowMs: number): Promise<string | undefined>;
  findRequest(mchid: string, op: string, requestNo: string): Promise<RequestRecord | undefined>;
  saveRequest(
    mchid: string,
    op: string,
    requestNo: string,
    record: RequestRecord,
    nowMs: number,
  ): Promise<void>;
  insertMedia(media: MediaRecord): Promise<void>;
  findMedia(mediaUrl: string): Promise<MediaRecord | undefined>;
  insertSubsidyReceipt(receipt: SubsidyReceipt): Promise<void>;
  findSubsidyReceipt(subsidyReceiptId: string): Promise<SubsidyReceipt | undefined>;
  /** Sum of subsidy amounts already paid for a coupon (returns not deducted). */
  subsidyTotal(stockId: string, couponCode: string): Promise<number>;
  /** The coupon's pay receipts, oldest first. */
  listSubsidyReceipts(stockId: string, couponCode: string): Promise<SubsidyReceipt[]>;
  updateSubsidyReceiptStatus(subsidyReceiptId: string, status: string): Promise<void>;
  insertSubsidyReturn(receipt: SubsidyReturn): Promise<void>;
  findSubsidyReturn(subsidyReturnReceiptId: string): Promise<SubsidyReturn | undefined>;
  /** Sum of the successful returns of a pay receipt. */
  subsidyReturnedTotal(subsidyReceiptId: string): Promise<number>;
  /** Writes a notification into the outbox, atomically with the rest of the transaction. */
  enqueue(event: NotificationEvent, nowMs: number): Promise<void>;
}

/** The busifavor store: reads outside transactions, and atomic units of work. */
export interface BusifavorStore extends BusifavorTx {
  /**
   * Runs `work` atomically. Writers to the same stock or coupon are serialised (row locks, or a single
   * writer). A unique-key race makes the adapter run `work` again, so `work` must be re-runnable.
   */
  transaction<T>(work: (tx: BusifavorTx) => Promise<T>): Promise<T>;
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
