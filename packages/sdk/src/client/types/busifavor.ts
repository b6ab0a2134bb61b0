import type { OffsetPage, Open, Rfc3339 } from './common.js';

/**
 * Wire types of the merchant-coupon (商家券, busifavor) family, field names exactly as on the wire.
 * Enums are open (`Open<…>`) because WeChat adds values without notice.
 * @see docs/busifavor.md §2–§5
 */

/** The stock types known today. */
export type KnownStockType = 'NORMAL' | 'DISCOUNT' | 'EXCHANGE';
/** `NORMAL` 满减 / `DISCOUNT` 折扣 / `EXCHANGE` 换购. */
export type StockType = Open<KnownStockType>;
/** The stock states known today. */
export type KnownStockState = 'UNAUDIT' | 'RUNNING' | 'STOPED' | 'PAUSED';
/** Stock state; `STOPED` is WeChat's spelling. */
export type StockState = Open<KnownStockState>;
/** The user-coupon states known today. */
export type KnownCouponState = 'SENDED' | 'USED' | 'EXPIRED' | 'DELETED' | 'DEACTIVATED';
/** User-coupon state; `SENDED` is WeChat's spelling. */
export type CouponState = Open<KnownCouponState>;
/** The code modes known today. */
export type KnownCouponCodeMode = 'WECHATPAY_MODE' | 'MERCHANT_API' | 'MERCHANT_UPLOAD';
/** Who picks coupon codes. */
export type CouponCodeMode = Open<KnownCouponCodeMode>;
/** The use methods known today. */
export type KnownUseMethod = 'OFF_LINE' | 'MINI_PROGRAMS' | 'SELF_CONSUME' | 'PAYMENT_CODE';
/** How a coupon is redeemed. */
export type UseMethod = Open<KnownUseMethod>;
/** The code display modes known today. */
export type KnownCodeDisplayMode = 'NOT_SHOW' | 'BARCODE' | 'QRCODE';
/** How the code is rendered in the card bag. */
export type CodeDisplayMode = Open<KnownCodeDisplayMode>;
/** The background colours known today. */
export type KnownBackgroundColor =
  | 'Color010'
  | 'Color020'
  | 'Color030'
  | 'Color040'
  | 'Color050'
  | 'Color060'
  | 'Color070'
  | 'Color080'
  | 'Color090'
  | 'Color100';
/** Card background colour. */
export type BackgroundColor = Open<KnownBackgroundColor>;
/** The code statuses known today. */
export type KnownCouponCodeStatus = 'AVAILABLE' | 'DISPATCHED';
/** Status of an uploaded code: `AVAILABLE` (not given out yet) or `DISPATCHED` (assigned to a user). */
export type CouponCodeStatus = Open<KnownCouponCodeStatus>;
/** Status of a subsidy pay receipt. */
export type SubsidyReceiptStatus = Open<
  | 'PAY_RECEIPT_UNKNOWN'
  | 'PAY_RECEIPT_ACCEPTED'
  | 'PAY_RECEIPT_SUCCESS'
  | 'PAY_RECEIPT_FAIL'
  | 'PAY_RECEIPT_RETURNING'
  | 'PAY_RECEIPT_PARTIAL_RETURN'
  | 'PAY_RECEIPT_FULL_RETURN'
>;
/** Why a subsidy pay receipt failed. */
export type SubsidyFailReason = Open<
  | 'PAY_RECEIPT_INSUFFICIENT_BALANCE'
  | 'PAY_RECEIPT_NOT_INCOMESPLIT_ORDER'
  | 'PAY_RECEIPT_EXCEED_SUBSIDY_AMOUNT_QUOTA'
  | 'PAY_RECEIPT_EXCEED_SUBSIDY_COUNT_QUOTA'
  | 'PAY_RECEIPT_OTHER'
>;

/** A time-of-day slot in seconds of the day (1 = 00:00:01, 86399 = 23:59:59). */
export interface AvailableDayTime {
  begin_time: number;
  end_time: number;
}
/** Weekday restriction: 0 = Sunday … 6 = Saturday, at most two day-time slots. */
export interface AvailableWeek {
  week_day?: number[];
  available_day_time?: AvailableDayTime[];
}
/** An irregular window. */
export interface IrregularAvailableTime {
  begin_time: Rfc3339;
  end_time: Rfc3339;
}
/** `coupon_use_rule.coupon_available_time`. */
export interface CouponAvailableTime {
  available_begin_time: Rfc3339;
  available_end_time: Rfc3339;
  available_day_after_receive?: number;
  wait_days_after_receive?: number;
  available_week?: AvailableWeek;
  /** WeChat's spelling. */
  irregulary_avaliable_time?: IrregularAvailableTime[];
  available_second_after_receive?: number;
}
/** 满减: amounts in fen. */
export interface FixedNormalCoupon {
  discount_amount: number;
  transaction_minimum: number;
}
/** 折扣: `discount_percent` is the percent paid (88 = pay 88%). */
export interface DiscountCoupon {
  discount_percent: number;
  transaction_minimum: number;
}
/** 换购. */
export interface ExchangeCoupon {
  exchange_price: number;
  transaction_minimum: number;
}
/** `coupon_use_rule`: exactly one of the three rule objects, matching `stock_type`. */
export interface CouponUseRule {
  coupon_available_time: CouponAvailableTime;
  fixed_normal_coupon?: FixedNormalCoupon;
  discount_coupon?: DiscountCoupon;
  exchange_coupon?: ExchangeCoupon;
  use_method: UseMethod;
  mini_programs_appid?: string;
  mini_programs_path?: string;
}
/** `stock_send_rule`. */
export interface StockSendRule {
  max_amount?: number;
  max_coupons: number;
  max_coupons_per_user: number;
  max_amount_by_day?: number;
  max_coupons_by_day?: number;
  natural_person_limit?: boolean;
  prevent_api_abuse?: boolean;
  transferable?: boolean;
  shareable?: boolean;
}
/** Mini-program entrance. */
export interface MiniProgramsInfo {
  mini_programs_appid: string;
  mini_programs_path: string;
  entrance_words: string;
  guiding_words?: string;
}
/** `custom_entrance`. */
export interface CustomEntrance {
  mini_programs_info?: MiniProgramsInfo;
  appid?: string;
  hall_id?: string;
  store_id?: string;
  code_display_mode?: CodeDisplayMode;
}
/** Channels (视频号) info. */
export interface FinderInfo {
  finder_id: string;
  finder_video_id: string;
  finder_video_cover_image_url: string;
}
/** `display_pattern_info`. */
export interface DisplayPatternInfo {
  description?: string;
  merchant_logo_url?: string;
  merchant_name?: string;
  background_color?: BackgroundColor;
  coupon_image_url?: string;
  finder_info?: FinderInfo;
}
/** `notify_config`. */
export interface NotifyConfig {
  notify_appid?: string;
}
/** `send_count_information` (response only). */
export interface SendCountInformation {
  total_send_num?: number;
  total_send_amount?: number;
  today_send_num?: number;
  today_send_amount?: number;
}
/** `coupon_code_count` (response only, MERCHANT_UPLOAD). */
export interface CouponCodeCount {
  total_count: number;
  available_count: number;
}

/** POST /v3/marketing/busifavor/stocks */
export interface CreateStockRequest {
  stock_name: string;
  belong_merchant: string;
  comment?: string;
  goods_name: string;
  stock_type: StockType;
  coupon_use_rule: CouponUseRule;
  stock_send_rule: StockSendRule;
  out_request_no: string;
  custom_entrance?: CustomEntrance;
  display_pattern_info?: DisplayPatternInfo;
  coupon_code_mode: CouponCodeMode;
  notify_config?: NotifyConfig;
  subsidy?: boolean;
}
/** Response of POST /v3/marketing/busifavor/stocks */
export interface CreateStockResponse {
  stock_id: string;
  create_time: Rfc3339;
}

/** Response of GET /v3/marketing/busifavor/stocks/{stock_id} */
export interface Stock {
  stock_name: string;
  belong_merchant: string;
  comment?: string;
  goods_name: string;
  stock_type: StockType;
  coupon_use_rule: CouponUseRule;
  stock_send_rule: StockSendRule;
  custom_entrance?: CustomEntrance;
  display_pattern_info?: DisplayPatternInfo;
  stock_state: StockState;
  coupon_code_mode: CouponCodeMode;
  stock_id: string;
  coupon_code_count?: CouponCodeCount;
  notify_config?: NotifyConfig;
  send_count_information?: SendCountInformation;
  subsidy?: boolean;
}

/** PATCH /v3/marketing/busifavor/stocks/{stock_id} (body; `stock_id` only in the path). Answers 204. */
export interface ModifyStockRequest {
  out_request_no: string;
  custom_entrance?: Omit<CustomEntrance, 'store_id'>;
  stock_name?: string;
  comment?: string;
  goods_name?: string;
  display_pattern_info?: DisplayPatternInfo;
  coupon_use_rule?: Partial<Pick<CouponUseRule, 'use_method' | 'mini_programs_appid' | 'mini_programs_path'>>;
  stock_send_rule?: Pick<StockSendRule, 'natural_person_limit' | 'prevent_api_abuse'>;
  notify_config?: NotifyConfig;
  subsidy?: boolean;
}

/** PATCH /v3/marketing/busifavor/stocks/{stock_id}/budget */
export interface ModifyBudgetRequest {
  target_max_coupons?: number;
  current_max_coupons?: number;
  target_max_coupons_by_day?: number;
  current_max_coupons_by_day?: number;
  modify_budget_request_no: string;
}
/** Response of PATCH …/budget */
export interface ModifyBudgetResponse {
  max_coupons: number;
  max_coupons_by_day?: number;
}

/** POST /v3/marketing/busifavor/stocks/{stock_id}/couponcodes */
export interface UploadCouponCodesRequest {
  coupon_code_list: string[];
  upload_request_no: string;
}
/** A rejected code. */
export interface UploadFailCode {
  coupon_code: string;
  code: string;
  message: string;
}
/** Response of POST …/couponcodes */
export interface UploadCouponCodesResponse {
  stock_id: string;
  total_count: number;
  success_count?: number;
  success_codes?: string[];
  success_time: Rfc3339;
  fail_count?: number;
  fail_codes?: UploadFailCode[];
  exist_codes?: string[];
  duplicate_codes?: string[];
}

/** POST /v3/marketing/busifavor/coupons/use */
export interface UseCouponRequest {
  coupon_code: string;
  /** Required for MERCHANT_API and MERCHANT_UPLOAD stocks. */
  stock_id?: string;
  appid: string;
  use_time: Rfc3339;
  use_request_no: string;
  openid?: string;
  out_trade_no?: string;
  mch_id?: string;
  transaction_id?: string;
}
/** Response of POST /coupons/use */
export interface UseCouponResponse {
  stock_id: string;
  openid: string;
  wechatpay_use_time: Rfc3339;
}

/** A user coupon (single GET and list elements; lists omit `display_pattern_info.description`). */
export interface UserCoupon {
  belong_merchant: string;
  stock_name: string;
  comment?: string;
  goods_name: string;
  stock_type: StockType;
  transferable?: boolean;
  shareable?: boolean;
  coupon_state: CouponState;
  display_pattern_info?: DisplayPatternInfo;
  coupon_use_rule: CouponUseRule;
  custom_entrance?: CustomEntrance;
  coupon_code: string;
  stock_id: string;
  available_start_time: Rfc3339;
  expire_time: Rfc3339;
  receive_time: Rfc3339;
  send_request_no: string;
  use_request_no?: string;
  use_time?: Rfc3339;
  associate_out_trade_no?: string;
  return_request_no?: string;
  return_time?: Rfc3339;
  deactivate_request_no?: string;
  deactivate_time?: Rfc3339;
  deactivate_reason?: string;
}

/** Query of GET /v3/marketing/busifavor/users/{openid}/coupons */
export interface ListUserCouponsQuery {
  appid: string;
  stock_id?: string;
  coupon_state?: CouponState;
  creator_merchant?: string;
  belong_merchant?: string;
  sender_merchant?: string;
  offset?: number;
  limit?: number;
}
/** Response of the user-coupon list. */
export type ListUserCouponsResponse = OffsetPage<UserCoupon>;

/** Path of GET /v3/marketing/busifavor/users/{openid}/coupons/{coupon_code}/appids/{appid} */
export interface GetUserCouponParams {
  openid: string;
  coupon_code: string;
  appid: string;
}

/** POST /v3/marketing/busifavor/coupons/associate and /disassociate */
export interface AssociateCouponRequest {
  stock_id: string;
  coupon_code: string;
  out_trade_no: string;
  out_request_no: string;
}
/** Response of POST /coupons/associate */
export interface AssociateCouponResponse {
  wechatpay_associate_time: Rfc3339;
}
/** Response of POST /coupons/disassociate */
export interface DisassociateCouponResponse {
  wechatpay_disassociate_time: Rfc3339;
}

/** POST /v3/marketing/busifavor/coupons/return */
export interface ReturnCouponRequest {
  coupon_code: string;
  stock_id: string;
  return_request_no: string;
}
/** Response of POST /coupons/return */
export interface ReturnCouponResponse {
  wechatpay_return_time: Rfc3339;
}

/** POST /v3/marketing/busifavor/coupons/deactivate */
export interface DeactivateCouponRequest {
  coupon_code: string;
  stock_id: string;
  deactivate_request_no: string;
  deactivate_reason?: string;
}
/** Response of POST /coupons/deactivate */
export interface DeactivateCouponResponse {
  wechatpay_deactivate_time: Rfc3339;
}

/** POST /v3/marketing/busifavor/subsidy/pay-receipts */
export interface CreateSubsidyPayReceiptRequest {
  stock_id: string;
  coupon_code: string;
  transaction_id: string;
  payer_merchant: string;
  payee_merchant: string;
  /** Fen, ≤ the coupon's discount value and ≤ 500000. */
  amount: number;
  description: string;
  out_subsidy_no: string;
}
/** A subsidy pay receipt (create and GET). */
export interface SubsidyPayReceipt {
  subsidy_receipt_id: string;
  stock_id: string;
  coupon_code: string;
  transaction_id: string;
  payer_merchant: string;
  payee_merchant: string;
  amount: number;
  description: string;
  status: SubsidyReceiptStatus;
  fail_reason?: SubsidyFailReason;
  success_time?: Rfc3339;
  out_subsidy_no: string;
  create_time?: Rfc3339;
}

/** Query of GET /v3/marketing/busifavor/stocks/{stock_id}/couponcodes (the code pool of a MERCHANT_UPLOAD stock). */
export interface ListCouponCodesQuery {
  /** Page size, 1–50. @default 20 (server side) */
  limit?: number;
  /** 0-based item offset. @default 0 (server side) */
  offset?: number;
  /** The appid under which `openid` is shown; without it no openid/unionid is returned. */
  appid?: string;
  /** Only codes in this status; omitted: every code. */
  status?: CouponCodeStatus;
}
/** One pre-uploaded code of the pool. */
export interface CouponCodeInfo {
  code: string;
  code_status: CouponCodeStatus;
  upload_time: Rfc3339;
  /** Set once the code is given to a user. */
  dispatched_time?: Rfc3339;
  openid?: string;
  unionid?: string;
  coupon_code?: string;
}
/** Response of GET …/stocks/{stock_id}/couponcodes. */
export interface ListCouponCodesResponse extends OffsetPage<CouponCodeInfo> {
  stock_id: string;
}
/** Query of GET …/stocks/{stock_id}/couponcodes/{coupon_code}. */
export interface GetCouponCodeQuery {
  /** The appid under which `openid` is shown. */
  appid?: string;
}
/** Response of GET …/stocks/{stock_id}/couponcodes/{coupon_code}. */
export interface GetCouponCodeResponse {
  code_information: CouponCodeInfo;
  /** Only for a DISPATCHED code: the user's coupon. */
  coupon_information?: UserCoupon;
}
/** Query of DELETE …/stocks/{stock_id}/couponcodes/{coupon_code}. */
export interface DeleteCouponCodeQuery {
  /** Makes the delete safe to repeat. */
  delete_request_no: string;
}
/** Response of DELETE …/stocks/{stock_id}/couponcodes/{coupon_code}. */
export interface DeleteCouponCodeResponse {
  stock_id: string;
  delete_time: Rfc3339;
}

/** POST /v3/marketing/busifavor/coupons/send — send from the merchant's server (unconfirmed endpoint, docs/busifavor.md §6.2). */
export interface SendCouponRequest {
  openid: string;
  /** The sending appid; `openid` must belong to it. */
  appid: string;
  stock_id: string;
  /** Unique per stock per user; letters, digits and `|_*-`. */
  out_request_no: string;
  /** Required for MERCHANT_API stocks, absent otherwise. */
  coupon_code?: string;
}
/** Response of POST /coupons/send (the flat form; the client also unwraps `send_coupon_result`). */
export interface SendCouponResponse {
  stock_id: string;
  out_request_no: string;
  coupon_code: string;
}

/** Query of GET /v3/marketing/busifavor/subsidy/pay-receipts (list). */
export interface ListSubsidyPayReceiptsQuery {
  stock_id: string;
  coupon_code: string;
  out_subsidy_no?: string;
}
/** Response of GET /subsidy/pay-receipts (list). */
export interface ListSubsidyPayReceiptsResponse {
  pay_receipt_list: SubsidyPayReceipt[];
}

/** Status of a subsidy return receipt. */
export type SubsidyReturnReceiptStatus = Open<
  'RETURN_RECEIPT_UNKNOWN' | 'RETURN_RECEIPT_ACCEPTED' | 'RETURN_RECEIPT_SUCCESS' | 'RETURN_RECEIPT_FAIL'
>;
/** Why a subsidy return receipt failed. */
export type SubsidyReturnFailReason = Open<'RETURN_RECEIPT_INSUFFICIENT_BALANCE' | 'RETURN_RECEIPT_OTHER'>;

/** POST /v3/marketing/busifavor/subsidy/return-receipts — return (part of) a subsidy after a refund. */
export interface CreateSubsidyReturnReceiptRequest {
  stock_id: string;
  coupon_code: string;
  transaction_id: string;
  /** The WeChat refund number of the order's refund. */
  refund_id: string;
  payer_merchant: string;
  payee_merchant: string;
  /** Fen; the total returned per coupon cannot exceed the amount subsidised. */
  amount: number;
  description: string;
  out_subsidy_return_no: string;
}
/** A subsidy return receipt (create and GET). */
export interface SubsidyReturnReceipt {
  subsidy_return_receipt_id?: string;
  stock_id: string;
  coupon_code: string;
  transaction_id: string;
  refund_id: string;
  payer_merchant: string;
  payee_merchant: string;
  amount: number;
  description: string;
  status: SubsidyReturnReceiptStatus;
  fail_reason?: SubsidyReturnFailReason;
  return_done_time?: Rfc3339;
  /** The pay receipt this return draws from. */
  subsidy_receipt_id: string;
  out_subsidy_return_no: string;
  return_create_time?: Rfc3339;
}
