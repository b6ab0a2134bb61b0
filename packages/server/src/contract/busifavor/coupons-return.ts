import { type Static, Type } from '@sinclair/typebox';
import { CouponCode, RequestNo, StockId } from './common.js';

/**
 * POST /v3/marketing/busifavor/coupons/return — return a used coupon (申请退券).
 * @see docs/busifavor.md §4.6, seed 002 §3.2.13
 */
export const ReturnCouponBody = Type.Object({
  coupon_code: CouponCode,
  stock_id: StockId,
  return_request_no: RequestNo,
});
export type ReturnCouponBody = Static<typeof ReturnCouponBody>;
export const ReturnCouponResponse = Type.Object({ wechatpay_return_time: Type.String() });
export type ReturnCouponResponse = Static<typeof ReturnCouponResponse>;
