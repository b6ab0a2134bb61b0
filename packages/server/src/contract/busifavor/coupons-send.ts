import { type Static, Type } from '@sinclair/typebox';
import { Appid, CouponCode, StockId, StrictRequestNo } from './common.js';

/**
 * POST /v3/marketing/busifavor/coupons/send — send a coupon from the merchant's server (向用户发券).
 * Present in wechatpay-go and wechatpay.im; no official page was found (docs/busifavor.md §6.2).
 * @see docs/busifavor.md §6.2
 */
export const SendCouponBody = Type.Object({
  openid: Type.String({ minLength: 1, maxLength: 128 }),
  appid: Appid,
  stock_id: StockId,
  out_request_no: StrictRequestNo,
  coupon_code: Type.Optional(CouponCode),
});
export type SendCouponBody = Static<typeof SendCouponBody>;

export const SendCouponResponse = Type.Object({
  stock_id: Type.String(),
  out_request_no: Type.String(),
  coupon_code: Type.String(),
});
export type SendCouponResponse = Static<typeof SendCouponResponse>;
