import { type Static, Type } from '@sinclair/typebox';
import { Appid, CouponCode, RequestNo, Rfc3339, StockId } from './common.js';

/**
 * POST /v3/marketing/busifavor/coupons/use — redeem a coupon (核销用户券).
 * @see docs/busifavor.md §4.1, seed 002 §3.2.3
 */
export const UseCouponBody = Type.Object({
  coupon_code: CouponCode,
  stock_id: Type.Optional(StockId),
  appid: Appid,
  use_time: Rfc3339,
  use_request_no: RequestNo,
  openid: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  out_trade_no: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  mch_id: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
  transaction_id: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
});
export type UseCouponBody = Static<typeof UseCouponBody>;

export const UseCouponResponse = Type.Object({
  stock_id: Type.String(),
  openid: Type.String(),
  wechatpay_use_time: Type.String(),
});
export type UseCouponResponse = Static<typeof UseCouponResponse>;
