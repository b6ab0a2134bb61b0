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

/**
 * The merchant-coupon (busifavor) domain model; the ports its rules call are in ports.ts. The nested
 * rule objects (`coupon_use_rule`, `stock_send_rule`, …) are kept in their wire shape: they are stored
 * and echoed as the merchant sent them (times excepted: those are kept in the form WeChat answers
 * with), and the contract types are their single definition.
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
  /** The holder; absent: every holder (a stock's coupons, for the dashboard). */
  userId?: string;
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
