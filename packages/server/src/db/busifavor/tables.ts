/**
 * Kysely table types of migration 0002-busifavor. Times are epoch milliseconds, JSON is text,
 * booleans are 0/1.
 */

/** A merchant-coupon stock (批次). `definition` holds the wire objects as JSON. */
export interface BusifavorStocksTable {
  stock_id: string;
  creator_mchid: string;
  belong_merchant: string;
  out_request_no: string;
  stock_type: string;
  coupon_code_mode: string;
  stock_state: string;
  definition: string;
  max_coupons: number;
  max_coupons_by_day: number | null;
  max_coupons_per_user: number;
  natural_person_limit: number;
  available_begin_ms: number;
  available_end_ms: number;
  total_send_num: number;
  total_send_amount: number;
  code_total_count: number;
  code_available_count: number;
  created_at: number;
  updated_at: number;
}

/** A coupon in a simulated user's card bag. */
export interface BusifavorCouponsTable {
  stock_id: string;
  coupon_code: string;
  user_id: string;
  person_id: string;
  state: string;
  send_request_no: string;
  send_channel: string;
  send_merchant: string;
  receive_ms: number;
  /** Beijing calendar day of receipt, `yyyy-mm-dd` (daily caps). */
  receive_day: string;
  available_start_ms: number;
  expire_ms: number;
  use_request_no: string | null;
  use_time_ms: number | null;
  wechatpay_use_ms: number | null;
  associate_out_trade_no: string | null;
  associate_ms: number | null;
  return_request_no: string | null;
  return_ms: number | null;
  deactivate_request_no: string | null;
  deactivate_ms: number | null;
  deactivate_reason: string | null;
  updated_at: number;
}

/** A pre-uploaded code of a MERCHANT_UPLOAD stock. */
export interface BusifavorCodesTable {
  stock_id: string;
  code: string;
  /** AVAILABLE | DISPATCHED */
  status: string;
  upload_ms: number;
  dispatched_ms: number | null;
}

/** A request number seen per caller and operation, with the request and its answer (idempotency). */
export interface BusifavorRequestsTable {
  mchid: string;
  op: string;
  request_no: string;
  request: string;
  response: string;
  created_at: number;
}

/** An image uploaded through the marketing image-upload API. */
export interface BusifavorMediaTable {
  media_url: string;
  mchid: string;
  filename: string;
  sha256: string;
  content_type: string;
  size: number;
  created_at: number;
}

/** Columns that pay and return receipts share. */
interface SubsidyMovementColumns {
  mchid: string;
  stock_id: string;
  coupon_code: string;
  transaction_id: string;
  payer_merchant: string;
  payee_merchant: string;
  amount: number;
  description: string;
  status: string;
  fail_reason: string | null;
}

/** A subsidy pay receipt (营销补差付款单). */
export interface BusifavorSubsidyReceiptsTable extends SubsidyMovementColumns {
  subsidy_receipt_id: string;
  out_subsidy_no: string;
  success_ms: number | null;
  create_ms: number;
}

/** A subsidy return receipt (营销补差回退单), migration 0005. */
export interface BusifavorSubsidyReturnsTable extends SubsidyMovementColumns {
  subsidy_return_receipt_id: string;
  out_subsidy_return_no: string;
  subsidy_receipt_id: string;
  refund_id: string;
  return_done_ms: number | null;
  return_create_ms: number;
}

/** A simulated WeChat user. `person_id` is the ID-card holder (natural-person limit). */
export interface SimUsersTable {
  user_id: string;
  unionid: string;
  person_id: string;
  suspicious: number;
  created_at: number;
}

/** A simulated user's openid under one appid. */
export interface SimUserOpenidsTable {
  appid: string;
  openid: string;
  user_id: string;
}

/** An appid bound to a merchant. */
export interface SimAppidBindingsTable {
  appid: string;
  mchid: string;
  created_at: number;
}

/** The tables of migrations 0002-busifavor and 0005-busifavor-subsidy-returns, merged into DatabaseSchema. */
export interface BusifavorTables {
  busifavor_stocks: BusifavorStocksTable;
  busifavor_coupons: BusifavorCouponsTable;
  busifavor_codes: BusifavorCodesTable;
  busifavor_requests: BusifavorRequestsTable;
  busifavor_media: BusifavorMediaTable;
  busifavor_subsidy_receipts: BusifavorSubsidyReceiptsTable;
  busifavor_subsidy_returns: BusifavorSubsidyReturnsTable;
  sim_users: SimUsersTable;
  sim_user_openids: SimUserOpenidsTable;
  sim_appid_bindings: SimAppidBindingsTable;
}
